import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError, UsageError } from './errors.js';
import type { ProgressSink } from './extract/chunks.js';

const CALLER_KEY = /^[A-Za-z0-9._-]{1,128}$/;
const DIGEST_KEY = /^sha256-[0-9a-f]{64}$/;
const HASH_READ_SIZE = 8 * 1024 * 1024;

/** Caller keys become file names, so they are held to a charset that cannot escape the store. */
export function validateKey(key: string): string {
  if (DIGEST_KEY.test(key) || (CALLER_KEY.test(key) && key !== '.' && key !== '..')) return key;
  throw new UsageError(
    `invalid key ${JSON.stringify(key)}: a key is 'sha256-<64 hex>' or 1 to 128 characters of A-Z a-z 0-9 . _ - (and not '.' or '..')`,
  );
}

/** sha256 of a file's bytes, streamed: reading the next block overlaps hashing the current one. */
export async function hashFile(path: string, onRead?: ProgressSink, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  try {
    const buffers = [Buffer.allocUnsafe(HASH_READ_SIZE), Buffer.allocUnsafe(HASH_READ_SIZE)];
    let position = 0;
    let turn = 0;
    let pending = file.read(buffers[turn], 0, HASH_READ_SIZE, position);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      turn ^= 1;
      pending = file.read(buffers[turn], 0, HASH_READ_SIZE, position);
      hash.update(buffer.subarray(0, bytesRead));
      onRead?.(position);
      signal?.throwIfAborted();
    }
  } finally {
    await file.close();
  }
  return `sha256-${hash.digest('hex')}`;
}

interface DigestMemo {
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  key: string;
}

export interface SourceKey {
  key: string;
  /** True when the digest came from the memo instead of reading the file. */
  memoized: boolean;
}

/** The source's identity for the digest memo; also the one place a missing or odd source is reported. */
export async function statSource(source: string): Promise<BigIntStats> {
  let info: BigIntStats;
  try {
    info = await stat(source, { bigint: true });
  } catch (error) {
    throw new SourceError(source, `cannot read the source image: ${(error as Error).message}`, { cause: error });
  }
  if (!info.isFile()) throw new SourceError(source, 'is not a regular file');
  return info;
}

/**
 * The content key of a source (`info` from statSource), remembered per inode. A memo entry is trusted only while size,
 * mtime and ctime are unchanged; ctime is included because mtime can be set back by hand (touch -d)
 * while ctime cannot.
 */
export async function sourceKey(source: string, info: BigIntStats, memoDir: string, onRead?: ProgressSink, signal?: AbortSignal): Promise<SourceKey> {
  const memoPath = join(memoDir, `${info.dev}-${info.ino}.json`);
  const identity = { size: String(info.size), mtimeNs: String(info.mtimeNs), ctimeNs: String(info.ctimeNs) };
  const memo = await readMemo(memoPath);
  if (memo && memo.size === identity.size && memo.mtimeNs === identity.mtimeNs && memo.ctimeNs === identity.ctimeNs) {
    return { key: memo.key, memoized: true };
  }
  let key: string;
  try {
    key = await hashFile(source, onRead, signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new SourceError(source, `cannot read the source image: ${(error as Error).message}`, { cause: error });
  }
  await writeMemo(memoDir, memoPath, { ...identity, key });
  return { key, memoized: false };
}

async function readMemo(path: string): Promise<DigestMemo | undefined> {
  try {
    const memo = JSON.parse(await readFile(path, 'utf8')) as DigestMemo;
    return DIGEST_KEY.test(memo.key) ? memo : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Written under a unique name and renamed, so a concurrent reader sees the old memo or the new one.
 * The memo only spares the next run its hashing: a store that cannot take it (full, read-only)
 * must not fail the key it was computed for, nor keep the half-written file.
 */
async function writeMemo(memoDir: string, path: string, memo: DigestMemo): Promise<void> {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    await mkdir(memoDir, { recursive: true });
    await writeFile(temp, JSON.stringify(memo));
    await rename(temp, path);
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}
