import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BigIntStats } from 'node:fs';
import { SourceError } from '../errors.js';
import { DEFAULT_MEMBER, extractToRaw } from '../extract/index.js';
import { fsyncDir, isFile } from '../shared/fs.js';
import { DEFAULT_LOCK_TIMING, tryLock, type HeldLock, type LockTiming } from '../shared/lock.js';
import { TOOL_NAME, TOOL_VERSION } from '../shared/version.js';
import type { WarningSink } from '../warnings.js';
import { validateKey } from './key.js';
import { basePath, lockPath, sidecarPath, storeLayout, tempPrefix, type StoreLayout } from './layout.js';
import { writeSidecar, type BaseSidecar } from './sidecar.js';
import { sourceKey, statSource } from './source-digest.js';
import { sweepTemps } from './temp-sweep.js';

export type CacheHit = 'l1' | 'miss';

export interface Progress {
  phase: 'hash' | 'wait' | 'extract';
  /** Source bytes read so far (hash, extract) or milliseconds waited (wait). */
  done: number;
  /** Source size in bytes (hash, extract); the wait bound in milliseconds (wait). */
  total: number;
}

export interface EnsureBaseOptions {
  source: string;
  cacheDir: string;
  /** A caller-given key; without it the key is the sha256 of the source bytes. */
  key?: string;
  /** The tar member that holds the disk. */
  member?: string;
  onProgress?: (progress: Progress) => void;
  lockTiming?: Partial<LockTiming>;
  /** How long to wait for another process that is building the same base. */
  waitTimeoutMs?: number;
  /**
   * Stops hashing, waiting or extracting; temp files are removed, the lock released, nothing is
   * published, and the signal's reason is thrown.
   */
  signal?: AbortSignal;
  /** Receives what went wrong without stopping the work (see warnings.ts). */
  onWarning?: WarningSink;
}

export interface BaseResult {
  key: string;
  /** Absolute path of the read-only raw base. */
  base: string;
  sidecar: string;
  cacheHit: CacheHit;
  apparentBytes: number;
  allocatedBytes: number;
  seconds: number;
  timings: { hashSeconds: number; waitSeconds: number; extractSeconds: number };
  /** The key came from the digest memo, so the source was not read to hash it. */
  keyMemoized: boolean;
}

const DEFAULT_WAIT_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * Returns the raw base for `source`, extracting it at most once per key across processes.
 * A base appears under its final name only complete, fsynced and read-only, so its existence is
 * the only signal a reader needs.
 */
export async function ensureBase(options: EnsureBaseOptions): Promise<BaseResult> {
  const started = performance.now();
  const source = resolve(options.source);
  const layout = storeLayout(options.cacheDir);
  const timing = { ...DEFAULT_LOCK_TIMING, ...options.lockTiming };
  const progress = options.onProgress;
  await Promise.all([layout.bases, layout.locks, layout.tmp].map((dir) => mkdir(dir, { recursive: true })));

  const sourceInfo = await statSource(source);
  const sourceBytes = Number(sourceInfo.size);
  const hashStarted = performance.now();
  let key: string;
  let keyMemoized = false;
  if (options.key !== undefined) {
    key = validateKey(options.key);
  } else {
    const found = await sourceKey(source, sourceInfo, layout.digests, {
      onRead: (done) => progress?.({ phase: 'hash', done, total: sourceBytes }),
      signal: options.signal,
      onWarning: options.onWarning,
    });
    key = found.key;
    keyMemoized = found.memoized;
  }
  const hashSeconds = (performance.now() - hashStarted) / 1000;

  const waitStarted = performance.now();
  const waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await isFile(basePath(layout, key))) {
      const waitSeconds = (performance.now() - waitStarted) / 1000;
      return describeBase(layout, key, 'l1', started, { hashSeconds, waitSeconds, extractSeconds: 0 }, keyMemoized);
    }
    let lock: HeldLock | undefined;
    try {
      lock = await tryLock(lockPath(layout, key), timing, layout.tmp);
    } catch (error) {
      throw new SourceError(source, `cannot build base ${key}: ${(error as Error).message}`, { cause: error });
    }
    if (lock) {
      const waitSeconds = (performance.now() - waitStarted) / 1000;
      try {
        // The previous holder may have published just before we locked.
        if (await isFile(basePath(layout, key))) {
          return describeBase(layout, key, 'l1', started, { hashSeconds, waitSeconds, extractSeconds: 0 }, keyMemoized);
        }
        await sweepTemps(layout, key, timing.staleMs);
        const extractStarted = performance.now();
        await buildBase(layout, key, source, sourceInfo, options, lock);
        const extractSeconds = (performance.now() - extractStarted) / 1000;
        return describeBase(layout, key, 'miss', started, { hashSeconds, waitSeconds, extractSeconds }, keyMemoized);
      } catch (error) {
        // Another process took the lock over and is building the same base: wait for it as any
        // waiter would, rather than fail a job whose base is on its way.
        if (!(error instanceof LockLostError)) throw error;
      } finally {
        await lock.release().catch((error: Error) =>
          options.onWarning?.({ code: 'lock-not-released', message: `cannot release the lock ${lockPath(layout, key)} (others wait until it goes stale): ${error.message}` }),
        );
      }
    }
    const waited = performance.now() - waitStarted;
    if (waited > waitTimeoutMs) {
      throw new SourceError(source, `gave up after ${Math.round(waited / 1000)} s waiting for another process to build base ${key} (lock ${lockPath(layout, key)})`);
    }
    progress?.({ phase: 'wait', done: waited, total: waitTimeoutMs });
    await sleep(timing.pollMs);
  }
}

class LockLostError extends Error {}

/** The source's identity: if any of it changes while we read, what we read is not what was keyed. */
const sameSource = (a: BigIntStats, b: BigIntStats): boolean =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

async function buildBase(layout: StoreLayout, key: string, source: string, sourceInfo: BigIntStats, options: EnsureBaseOptions, lock: HeldLock): Promise<void> {
  const stem = join(layout.tmp, `${tempPrefix(key)}${process.pid}-${randomBytes(4).toString('hex')}`);
  const tempImage = `${stem}.img`;
  const sourceBytes = Number(sourceInfo.size);
  try {
    const extracted = await extractToRaw(source, tempImage, {
      member: options.member,
      signal: options.signal,
      onRead: (done) => options.onProgress?.({ phase: 'extract', done, total: sourceBytes }),
    });
    if (!sameSource(sourceInfo, await statSource(source))) {
      throw new SourceError(source, `changed while it was being read (size, mtime, ctime or inode differ from when it was keyed as ${key}); nothing was published, run again`);
    }
    const info = await stat(tempImage);
    await chmod(tempImage, 0o444);
    const sidecar: BaseSidecar = {
      schema: 1,
      key,
      source: {
        path: source,
        digest: options.key === undefined ? key : null,
        format: extracted.format,
        member: extracted.format.startsWith('tar') ? (options.member ?? DEFAULT_MEMBER) : null,
        bytes: sourceBytes,
      },
      apparentBytes: info.size,
      allocatedBytes: info.blocks * 512,
      created: new Date().toISOString(),
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
    };
    const lost = await lock.lost();
    if (lost) throw new LockLostError(lost.message);
    // The sidecar goes first: a sidecar without an image is harmless, an image without one is not.
    await writeSidecar(sidecarPath(layout, key), sidecar);
    await rename(tempImage, basePath(layout, key));
    await fsyncDir(layout.bases);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof SourceError || error instanceof LockLostError) throw error;
    throw new SourceError(source, `publishing base ${key} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await rm(tempImage, { force: true });
  }
}

async function describeBase(
  layout: StoreLayout,
  key: string,
  cacheHit: CacheHit,
  started: number,
  timings: BaseResult['timings'],
  keyMemoized: boolean,
): Promise<BaseResult> {
  const base = basePath(layout, key);
  const info = await stat(base);
  return {
    key,
    base,
    sidecar: sidecarPath(layout, key),
    cacheHit,
    apparentBytes: info.size,
    allocatedBytes: info.blocks * 512,
    seconds: (performance.now() - started) / 1000,
    timings,
    keyMemoized,
  };
}
