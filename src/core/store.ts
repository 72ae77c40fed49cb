import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BigIntStats } from 'node:fs';
import { SourceError } from './errors.js';
import { DEFAULT_MEMBER, extractToRaw, type SourceFormat } from './extract/index.js';
import { sourceKey, statSource, validateKey } from './key.js';
import { basePath, lockPath, sidecarPath, storeLayout, tempPrefix, type StoreLayout } from './layout.js';
import { processAlive } from './pid.js';
import { DEFAULT_LOCK_TIMING, tryLock, type HeldLock, type LockTiming } from './lock.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';

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
}

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
    const found = await sourceKey(source, sourceInfo, layout.digests, (done) => progress?.({ phase: 'hash', done, total: sourceBytes }), options.signal);
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
        await lock.release().catch(() => undefined);
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
  const tempSidecar = `${stem}.json`;
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
    await writeDurably(tempSidecar, `${JSON.stringify(sidecar, null, 2)}\n`);
    const lost = await lock.lost();
    if (lost) throw new LockLostError(lost.message);
    // The sidecar goes first: a sidecar without an image is harmless, an image without one is not.
    await rename(tempSidecar, sidecarPath(layout, key));
    await rename(tempImage, basePath(layout, key));
    await fsyncDir(layout.bases);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof SourceError || error instanceof LockLostError) throw error;
    throw new SourceError(source, `publishing base ${key} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await rm(tempImage, { force: true });
    await rm(tempSidecar, { force: true });
  }
}

async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
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

/** Temp files of other keys are left this long after their last write before their dead owner's are removed. */
const FOREIGN_TEMP_AGE_MS = 10 * 60 * 1000;

/**
 * Removes what dead extractions left in tmp/ (a killed process runs no cleanup). For the key whose
 * lock we hold, a file goes when its writer is dead or has not written for a stale period: a live
 * previous holder that merely stalled keeps its file and fails or finishes on its own. Other keys'
 * files go only when their writer is dead and they are old, so a process in another pid namespace
 * sharing this store is never swept mid-extraction.
 */
async function sweepTemps(layout: StoreLayout, key: string, staleMs: number): Promise<void> {
  const prefix = tempPrefix(key);
  const now = Date.now();
  const names = await readdir(layout.tmp);
  await Promise.all(
    names.map(async (name) => {
      const owner = /\+(\d+)-[0-9a-f]+\./.exec(name);
      if (!owner) return;
      const path = join(layout.tmp, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) return;
      const idle = now - info.mtimeMs;
      const dead = !processAlive(Number(owner[1]));
      const remove = name.startsWith(prefix) ? dead || idle > staleMs : dead && idle > FOREIGN_TEMP_AGE_MS;
      if (remove) await rm(path, { force: true });
    }),
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function readSidecar(path: string): Promise<BaseSidecar> {
  return JSON.parse(await readFile(path, 'utf8')) as BaseSidecar;
}
