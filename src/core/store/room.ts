import type { Stats } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { StoreLayout } from './layout.js';

/** Bytes free for this user on the store's filesystem (where tmp/ and bases/ are). */
export async function freeBytes(layout: StoreLayout): Promise<number> {
  const fs = await statfs(layout.tmp);
  return fs.bavail * fs.bsize;
}

/**
 * The least a base extracted from this source file allocates: a raw source needs what it
 * allocates; a compressed one at least its own size (compression never shrinks the data a base
 * allocates below that, holes aside).
 */
export function bytesToExtract(source: Pick<Stats, 'size' | 'blocks'>): number {
  return Math.min(source.size, source.blocks * 512) || source.size;
}
