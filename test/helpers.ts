import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A temp dir removed when the test file ends. */
export function tempDir(prefix = 'basecow-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Region {
  offset: number;
  length: number;
}

/**
 * A sparse file with random data in the given regions and holes elsewhere. Random bytes make sure
 * nothing in the data is mistaken for a hole and that any misplaced byte changes the digest.
 */
export async function makeSparseFile(path: string, size: number, regions: Region[]): Promise<void> {
  const file = await open(path, 'wx');
  try {
    for (const region of regions) {
      let done = 0;
      while (done < region.length) {
        const length = Math.min(4 << 20, region.length - done);
        await file.write(randomBytes(length), 0, length, region.offset + done);
        done += length;
      }
    }
    await file.truncate(size);
  } finally {
    await file.close();
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  try {
    for await (const chunk of file.createReadStream({ highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  } finally {
    await file.close().catch(() => undefined);
  }
  return hash.digest('hex');
}

/**
 * Allocation after writeback: ext4 adds extent-tree blocks only when delayed allocation is
 * flushed, so comparing a synced file with an unsynced one would be unfair to either side.
 */
export function allocatedBytes(path: string): number {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return statSync(path).blocks * 512;
}

export const listDir = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

export const isRoot = (): boolean => process.getuid?.() === 0;
