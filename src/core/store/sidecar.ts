import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../shared/atomic-write.js';
import type { BaseOrigin, SourceRecord } from './base-source.js';

/** The sidecar next to each base: what it was made from and when. */
export interface BaseSidecar {
  schema: 1;
  key: string;
  source: SourceRecord;
  /** How this store got the base: from the remote cache, or made from the source here. */
  origin: BaseOrigin;
  /** The raw base's digest, computed while it was written (see extract/raw-digest.ts). */
  rawDigest: string;
  apparentBytes: number;
  allocatedBytes: number;
  created: string;
  tool: { name: string; version: string };
}

export async function writeSidecar(path: string, sidecar: BaseSidecar): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify(sidecar, null, 2)}\n`, { mode: 0o644 });
}

export async function readSidecar(path: string): Promise<BaseSidecar> {
  return JSON.parse(await readFile(path, 'utf8')) as BaseSidecar;
}
