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
  /**
   * The image file as published (after its rename, which moves ctime): verify 'changed' re-hashes
   * a base whose file no longer matches. Absent in sidecars from before it was recorded.
   */
  identity?: BaseIdentity;
  /**
   * Set when the base was published before its data was known to be on the disk: the boot that
   * wrote it. After a reboot such a base is verified before any use (see durability.ts).
   */
  unsyncedInBoot?: string;
}

/** What identifies the image file: any write, chmod, touch or replacement moves one of them. */
export interface BaseIdentity {
  size: number;
  ino: number;
  /** Nanoseconds, as decimal strings (a double cannot hold them exactly). */
  mtimeNs: string;
  ctimeNs: string;
}

export async function writeSidecar(path: string, sidecar: BaseSidecar): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify(sidecar, null, 2)}\n`, { mode: 0o644 });
}

export async function readSidecar(path: string): Promise<BaseSidecar> {
  return JSON.parse(await readFile(path, 'utf8')) as BaseSidecar;
}
