import { createHash, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, fstatSync, fsyncSync, mkdtempSync, openSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A temp dir removed when the test file ends. */
export function tempDir(prefix = 'basecow-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Whether the filesystem holding `dir` takes O_DIRECT; where it does not, writers fall back to the page cache. */
export function directIoWorksIn(dir: string): boolean {
  const probe = join(dir, '.direct-io-probe');
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT));
    unlinkSync(probe);
    return true;
  } catch {
    return false;
  }
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

/** What `du` reports once the file is on disk: data blocks and extent-tree blocks. */
export function diskUsageBytes(path: string): number {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
    return fstatSync(fd).blocks * 512;
  } finally {
    closeSync(fd);
  }
}

/**
 * Bytes of data blocks the file occupies, from its extent map (filefrag, FIEMAP) after writeback.
 * stat's block count also holds extent-tree blocks, whose number depends on how fragmented the
 * free space happened to be, so comparing it between two files can be off by a block either way.
 */
export function allocatedBytes(path: string): number {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const report = execFileSync('filefrag', ['-v', path], { encoding: 'utf8' });
  const blockSize = Number(/blocks? of (\d+) bytes/.exec(report)?.[1]);
  let blocks = 0;
  for (const match of report.matchAll(/^\s*\d+:\s+\d+\.\.\s*\d+:\s+\d+\.\.\s*\d+:\s+(\d+):/gm)) blocks += Number(match[1]);
  assert.ok(blockSize > 0, `filefrag gave no block size for ${path}`);
  return blocks * blockSize;
}

export const listDir = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

export const isRoot = (): boolean => process.getuid?.() === 0;
