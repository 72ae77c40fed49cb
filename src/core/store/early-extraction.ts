import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SourceError } from '../errors.js';
import { extractToRaw, type ExtractResult } from '../extract/index.js';
import { tryLock, type HeldLock, type LockTiming } from '../shared/lock.js';
import type { BaseSource, MaterializedSource, SourceContext } from './base-source.js';
import { lockPath, tempStem, type StoreLayout } from './layout.js';
import { bytesToExtract, freeBytes } from './room.js';
import { readSidecar } from './sidecar.js';
import { memoizedKey, statSource } from './source-digest.js';
import { sweepTemps } from './temp-sweep.js';

/**
 * A local image whose key is not known yet is read twice in full: once to hash it for its key, once
 * to extract it. When nothing needs the key before the extraction (no remote cache to ask) and no
 * memo holds the digest, the two reads run at once, on two cores, and the extraction is kept if the
 * key turns out to have no base yet.
 *
 * "Extract once per key" still holds for processes preparing the same file: the early extraction
 * runs under a lock named after the file (device and inode, `file.<dev>.<ino>`: no digest key
 * looks like that; a caller key that did would only share the lock), held until the base is
 * published. A second process waits for it, then finds the
 * digest memo the first one wrote, and so the base, without hashing or extracting. Two different
 * files with the same content can both extract early; the second to get the key's lock finds the
 * base there and drops its own copy. The name also fits the store's housekeeping: its lock and temp
 * file are swept like any key's when their process dies.
 */
export interface EarlyExtraction {
  /**
   * The extraction, to publish: given once (a second attempt at publishing, after the key's lock
   * was taken over, extracts anew, since the first attempt removed the temp file).
   */
  take(): EarlyExtractionRun | undefined;
  /** Stops the extraction if it still runs, removes its temp file, releases the file's lock. */
  close(): Promise<void>;
}

export interface EarlyExtractionRun {
  materialized: MaterializedSource;
  tempImage: string;
  /** Settles when the extraction has finished (or failed); nothing is published yet. */
  result: Promise<ExtractResult>;
  /** When the extraction started and ended (performance.now()), for the timings. */
  startedAt: number;
  endedAt(): number | undefined;
}

export interface EarlyExtractionOptions {
  maxWorkers?: number;
  member?: string;
  signal?: AbortSignal;
  /** See ExtractOptions.durable. */
  durable?: boolean;
  waitTimeoutMs: number;
  onRead?: (done: number, total: number) => void;
  onWarning?: SourceContext['onWarning'];
}

const fileLockName = (info: { dev: bigint; ino: bigint }): string => `file.${info.dev}.${info.ino}`;

/**
 * Starts extracting the local image `path` before its key is known, or returns undefined when that
 * gains nothing: its digest is remembered; a base in the store was made from a file of the same
 * size (most likely this image under another inode, as a CI job that fetches its image anew each
 * time has it: hashing alone then finds the base, and extracting meanwhile would only write a copy
 * to throw away); or the store's filesystem could not take it without evicting bases (which needs
 * the key to know which base to keep; the usual path does that).
 */
export async function startEarlyExtraction(
  layout: StoreLayout,
  path: string,
  source: BaseSource,
  context: SourceContext,
  timing: LockTiming,
  options: EarlyExtractionOptions,
): Promise<EarlyExtraction | undefined> {
  const info = await statSource(path);
  if (await memoizedKey(info, layout.digests)) return undefined;
  if (await hasBaseFromSourceOfSize(layout, Number(info.size))) return undefined;
  const name = fileLockName(info);
  const lock = await waitForLock(layout, name, path, timing, options);
  let handedOver = false;
  try {
    // Whoever held the file's lock before hashed the file: its memo now answers.
    if (await memoizedKey(await statSource(path), layout.digests)) return undefined;
    // A holder killed mid-extraction left its temp file under this name.
    await sweepTemps(layout, name, timing.staleMs);
    if (bytesToExtract({ size: Number(info.size), blocks: Number(info.blocks) }) > (await freeBytes(layout))) return undefined;
    const materialized = await source.materialize(context);
    const tempImage = `${tempStem(layout, name)}.img`;
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const total = Number(info.size);
    const startedAt = performance.now();
    let endedAt: number | undefined;
    const result = extractToRaw(materialized.path, tempImage, {
      maxWorkers: options.maxWorkers,
      member: materialized.member ?? options.member,
      signal,
      durable: options.durable,
      onRead: (done) => options.onRead?.(done, total),
    }).finally(() => {
      endedAt = performance.now();
    });
    // Its failure is the caller's to see when it awaits the result; until then it must not surface
    // as an unhandled rejection, and it may never be awaited (the key's base already exists).
    result.catch(() => undefined);
    handedOver = true;
    let taken = false;
    return {
      take() {
        if (taken) return undefined;
        taken = true;
        return { materialized, tempImage, result, startedAt, endedAt: () => endedAt };
      },
      async close() {
        if (endedAt === undefined) stop.abort(new Error('the early extraction is no longer needed'));
        await result.catch(() => undefined);
        await rm(tempImage, { force: true });
        // Once taken, the source is the publisher's to dispose of (buildFromSource does).
        if (!taken) await materialized.dispose().catch(() => undefined);
        await lock.release().catch((error: Error) =>
          options.onWarning?.({ code: 'lock-not-released', message: `cannot release the lock ${lockPath(layout, name)} (others wait until it goes stale): ${error.message}` }),
        );
      },
    };
  } finally {
    if (!handedOver) await lock.release().catch(() => undefined);
  }
}

async function hasBaseFromSourceOfSize(layout: StoreLayout, bytes: number): Promise<boolean> {
  const names = (await readdir(layout.bases).catch(() => [] as string[])).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
  for (const name of names) {
    // A sidecar that cannot be read says nothing either way.
    const sidecar = await readSidecar(join(layout.bases, name)).catch(() => undefined);
    if (sidecar?.source?.bytes === bytes) return true;
  }
  return false;
}

/** The file's lock, waiting while another process holds it (it is preparing the same file). */
async function waitForLock(layout: StoreLayout, name: string, path: string, timing: LockTiming, options: EarlyExtractionOptions): Promise<HeldLock> {
  const started = performance.now();
  for (;;) {
    options.signal?.throwIfAborted();
    let lock: HeldLock | undefined;
    try {
      lock = await tryLock(lockPath(layout, name), timing, layout.tmp);
    } catch (error) {
      throw new SourceError(path, `cannot lock the image for extraction: ${(error as Error).message}`, { cause: error });
    }
    if (lock) return lock;
    const waited = performance.now() - started;
    if (waited > options.waitTimeoutMs) {
      throw new SourceError(path, `gave up after ${Math.round(waited / 1000)} s waiting for another process preparing the same image (lock ${lockPath(layout, name)})`);
    }
    await sleep(timing.pollMs);
  }
}
