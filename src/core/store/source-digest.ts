import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SourceError } from '../errors.js';
import type { ProgressSink } from '../extract/chunks.js';
import { writeFileAtomically } from '../shared/atomic-write.js';
import type { WarningSink } from '../warnings.js';
import type { HashReply } from './hash-worker.js';
import { DIGEST_KEY } from './key.js';

const HASH_READ_SIZE = 8 * 1024 * 1024;

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

/**
 * hashFile on a thread of its own (hash-worker.ts), so that the calling thread stays free: its
 * start costs a few tens of milliseconds, worth it only when that thread has other work meanwhile.
 */
export async function hashFileOffThread(path: string, onRead?: ProgressSink, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const worker = new Worker(new URL('./hash-worker.js', import.meta.url));
  try {
    return await new Promise<string>((resolve, reject) => {
      const onAbort = (): void => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      worker.on('message', (reply: HashReply) => {
        if (reply.kind === 'read') return onRead?.(reply.done);
        settle();
        if (reply.kind === 'done') resolve(reply.key);
        else reject(new Error(reply.message));
      });
      worker.on('error', (error) => {
        settle();
        reject(error);
      });
      worker.on('exit', (code) => {
        settle();
        reject(new Error(`the hashing thread exited with code ${code}`));
      });
      worker.postMessage(path);
    });
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
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
export async function sourceKey(
  source: string,
  info: BigIntStats,
  memoDir: string,
  hooks: { onRead?: ProgressSink; signal?: AbortSignal; onWarning?: WarningSink; offThread?: boolean } = {},
): Promise<SourceKey> {
  const { onRead, signal } = hooks;
  const memoPath = memoPathOf(info, memoDir);
  const identity = memoIdentity(info);
  const remembered = await memoizedKey(info, memoDir);
  if (remembered) return { key: remembered, memoized: true };
  let key: string;
  try {
    key = await (hooks.offThread ? hashFileOffThread : hashFile)(source, onRead, signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new SourceError(source, `cannot read the source image: ${(error as Error).message}`, { cause: error });
  }
  try {
    await mkdir(memoDir, { recursive: true });
    await writeFileAtomically(memoPath, JSON.stringify({ ...identity, key }));
  } catch (error) {
    // The memo only spares the next run its hashing: a store that cannot take it (full, read-only)
    // must not fail the key it was computed for.
    hooks.onWarning?.({ code: 'digest-memo-not-written', message: `cannot remember the digest of ${source} in ${memoPath} (the next run hashes it again): ${(error as Error).message}` });
  }
  return { key, memoized: false };
}

const memoPathOf = (info: BigIntStats, memoDir: string): string => join(memoDir, `${info.dev}-${info.ino}.json`);
const memoIdentity = (info: BigIntStats) => ({ size: String(info.size), mtimeNs: String(info.mtimeNs), ctimeNs: String(info.ctimeNs) });

/** The key remembered for the file `info` describes, if the memo still holds for it; nothing is hashed. */
export async function memoizedKey(info: BigIntStats, memoDir: string): Promise<string | undefined> {
  const identity = memoIdentity(info);
  const memo = await readMemo(memoPathOf(info, memoDir));
  if (memo && memo.size === identity.size && memo.mtimeNs === identity.mtimeNs && memo.ctimeNs === identity.ctimeNs) return memo.key;
  return undefined;
}

async function readMemo(path: string): Promise<DigestMemo | undefined> {
  try {
    const memo = JSON.parse(await readFile(path, 'utf8')) as DigestMemo;
    return DIGEST_KEY.test(memo.key) ? memo : undefined;
  } catch {
    return undefined;
  }
}
