import { readFile } from 'node:fs/promises';
import type { SourceFormat } from '../extract/index.js';
import { writeFileAtomically } from '../shared/atomic-write.js';

/** The sidecar next to each base: what it was made from and when. */
export interface BaseSidecar {
  schema: 1;
  key: string;
  source: { path: string; digest: string | null; format: SourceFormat; member: string | null; bytes: number };
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
