import { chmod, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BasecowError, SourceError } from '../errors.js';
import { DEFAULT_MEMBER, dropSpareWorkers, extractToRaw, prestartWorkers, type ExtractResult } from '../extract/index.js';
import { readEntryIndex } from '../entry/read.js';
import { RemoteTransferError, type RemoteCache } from '../remote/remote-cache.js';
import { fsyncDir, isPlainFile, pathExists } from '../shared/fs.js';
import { DEFAULT_LOCK_TIMING, tryLock, type HeldLock, type LockTiming } from '../shared/lock.js';
import { TOOL_NAME, TOOL_VERSION } from '../shared/version.js';
import type { Warning, WarningSink } from '../warnings.js';
import type { BaseOrigin, BaseSource, MaterializedSource, Progress, SourceContext, SourceRecord } from './base-source.js';
import { startEarlyExtraction, type EarlyExtraction } from './early-extraction.js';
import { EntryWhileRestoring } from './entry-while-restoring.js';
import { decodeStreamedEntry } from './streamed-entry.js';
import { validateKey } from './key.js';
import { basePath, lockPath, sidecarPath, storeLayout, tempStem, type StoreLayout } from './layout.js';
import { bytesToExtract, freeBytes } from './room.js';
import { touchUsed } from './last-used.js';
import { acquireLease, releaseLease, type LeaseHolder } from './lease.js';
import { localImage } from './local-image.js';
import { writeSidecar, type BaseSidecar } from './sidecar.js';
import { ensureStoreDirs } from './store-dirs.js';
import { sweepTemps } from './temp-sweep.js';
import { effectiveDurability, recordSettledBase, unsyncedMark, type Durability } from './durability.js';
import { identityOf, needsVerification, quarantineBase, verifyBase, type VerifyMode } from './verify.js';

export type { BaseOrigin, Progress } from './base-source.js';

/** Where the base was found: the local store (l1), the remote cache (l2), or neither (made now). */
export type CacheHit = 'l1' | 'l2' | 'miss';

export interface EnsureBaseOptions {
  /** A local image path, or any other source (a URL, a build command: see base-source.ts). */
  source: string | BaseSource;
  cacheDir: string;
  /** A caller-given key; without it the source derives one (the sha256 of an image's bytes). */
  key?: string;
  /** The tar member that holds the disk. */
  member?: string;
  /** A cache shared between machines, asked after the local store misses. */
  remote?: RemoteCache;
  /** At most this many threads decode a multi-frame source or entry (default: one per core, bounded by memory). */
  maxWorkers?: number;
  onProgress?: (progress: Progress) => void;
  lockTiming?: Partial<LockTiming>;
  /** How long to wait for another process that is building the same base. */
  waitTimeoutMs?: number;
  /**
   * Stops hashing, waiting, restoring, downloading, building or extracting; temp files are
   * removed, the lock released, nothing is published, and the signal's reason is thrown.
   */
  signal?: AbortSignal;
  /** Receives what went wrong without stopping the work (see warnings.ts). */
  onWarning?: WarningSink;
  /**
   * Takes a lease on the base for this holder before looking for it, so that no gc can remove the
   * base between this call finding it and the caller using it (see lease.ts; released on failure).
   */
  lease?: LeaseHolder;
  /** When a stored base is re-hashed before it is used (default 'changed', see verify.ts). */
  verify?: VerifyMode;
  /**
   * Whether a new base waits for the disk before it is published ('before-publish'), or is
   * published without an fsync and checked after a reboot ('deferred', the default where the
   * kernel gives a boot id). See durability.ts.
   */
  durability?: Durability;
}

export interface BaseTimings {
  hashSeconds: number;
  waitSeconds: number;
  /** Restoring the remote entry (download and unpack), when the remote cache was asked. */
  restoreSeconds: number;
  /** Downloading or building the source, for sources that are not local files. */
  sourceSeconds: number;
  /**
   * The extraction's own time. A local image with no key, no remembered digest and no remote cache
   * is extracted while it is hashed, so then this overlaps hashSeconds.
   */
  extractSeconds: number;
  /** Threads that decoded the extraction (more than 1: independent frames decoded in parallel; 0: none, a copy). */
  workers: number;
  /**
   * For an L2 hit: whether the entry was decoded while it was restored (the extract phase is then
   * only what was left after the restore) or from the restored file, and why not while restoring
   * when that was tried and dropped.
   */
  entryDecoding?: { when: 'streamed' | 'while-restoring' | 'after-restore'; note?: string };
}

export interface BaseResult {
  key: string;
  /** Absolute path of the read-only raw base. */
  base: string;
  sidecar: string;
  cacheHit: CacheHit;
  origin: BaseOrigin;
  apparentBytes: number;
  allocatedBytes: number;
  seconds: number;
  timings: BaseTimings;
  /** The key came from the digest memo, so the source was not read to hash it. */
  keyMemoized: boolean;
  /** The lease taken for options.lease: its id (to release it) and file. */
  lease?: { id: string; path: string };
  /** The stored base was re-hashed against its sidecar's digest before this use. */
  verified?: boolean;
}

const DEFAULT_WAIT_TIMEOUT_MS = 30 * 60 * 1000;

const durabilityOf = (options: EnsureBaseOptions): Durability => effectiveDurability(options.durability);
/** ExtractOptions.durable: the extraction itself waits for the disk only with 'before-publish'. */
const extractsDurably = (options: EnsureBaseOptions): boolean => durabilityOf(options) === 'before-publish';

class LockLostError extends Error {}

/**
 * Returns the raw base for `source`, making it at most once per key across processes: from the
 * local store, else (under the key's lock) from the remote cache, else from the source itself.
 * A base appears under its final name only complete and read-only (and, unless durability is
 * deferred, on the disk: see durability.ts), so its existence is the only signal a reader needs.
 */
export async function ensureBase(options: EnsureBaseOptions): Promise<BaseResult> {
  const started = performance.now();
  const source = typeof options.source === 'string' ? localImage(options.source, { member: options.member }) : options.source;
  const layout = storeLayout(options.cacheDir);
  const timing = { ...DEFAULT_LOCK_TIMING, ...options.lockTiming };
  await ensureStoreDirs(layout);
  const verify = options.verify ?? 'changed';
  const context: SourceContext = { tmpDir: layout.tmp, digestsDir: layout.digests, signal: options.signal, onProgress: options.onProgress, onWarning: options.onWarning };

  const timings = noTimings();
  let early: EarlyExtraction | undefined;
  try {
    const hashStarted = performance.now();
    let key: string;
    let keyMemoized = false;
    const derivedKey = options.key === undefined;
    if (options.key !== undefined) {
      key = validateKey(options.key);
    } else {
      // Nothing to ask before extracting a local image: extract it while it is hashed (see early-extraction.ts).
      if (!options.remote && typeof options.source === 'string') {
        early = await startEarlyExtraction(layout, source.label, source, context, timing, {
          maxWorkers: options.maxWorkers,
          member: options.member,
          signal: options.signal,
          durable: extractsDurably(options),
          waitTimeoutMs: options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
          onRead: (done, total) => options.onProgress?.({ phase: 'extract', done, total }),
          onWarning: options.onWarning,
        });
      }
      const found = await source.key(early ? { ...context, hashOffThread: true } : context);
      key = validateKey(found.key);
      keyMemoized = found.memoized;
    }
    timings.hashSeconds = (performance.now() - hashStarted) / 1000;

    // The lease comes before the look-up: a gc that takes the key's lock after this point sees it.
    const lease = options.lease ? await acquireLease(layout, key, options.lease) : undefined;
    try {
      const result = await findOrMake(layout, key, source, derivedKey, context, options, timing, timings, started, keyMemoized, verify, early);
      if (lease) result.lease = { id: lease.lease.id, path: lease.path };
      await touchUsed(layout, key).catch((error: Error) =>
        options.onWarning?.({ code: 'last-use-not-recorded', message: `cannot record the use of base ${key} (gc may take it for unused sooner): ${error.message}` }),
      );
      return result;
    } catch (error) {
      if (lease) {
        await releaseLease(layout, key, lease.lease.id).catch((releaseError: Error) =>
          options.onWarning?.({ code: 'lease-not-released', message: `cannot release the lease ${lease.path} (gc ignores it once this process is gone): ${releaseError.message}` }),
        );
      }
      throw error;
    }
  } finally {
    // Published, not needed (the key had its base), or failed: either way its lock and leftovers go.
    await early?.close();
  }
}

async function findOrMake(
  layout: StoreLayout,
  key: string,
  source: BaseSource,
  derivedKey: boolean,
  context: SourceContext,
  options: EnsureBaseOptions,
  timing: LockTiming,
  timings: BaseTimings,
  started: number,
  keyMemoized: boolean,
  verify: VerifyMode,
  early: EarlyExtraction | undefined,
): Promise<BaseResult> {
  const waitStarted = performance.now();
  const waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const done = (cacheHit: CacheHit, origin: BaseOrigin) => describeBase(basePath(layout, key), key, cacheHit, origin, started, timings, keyMemoized);
  for (;;) {
    options.signal?.throwIfAborted();
    // The fast path needs no lock. With a lease it also needs the lock free: a gc removes a base
    // only under the lock, so a lease written before a free lock was seen is one that gc will see.
    // A base whose file changed since it was published (verify) is checked under the lock.
    if ((await isPlainFile(basePath(layout, key))) && !(options.lease && (await pathExists(lockPath(layout, key))))) {
      const check = await needsVerification(layout, key, verify).catch(() => ({ needed: true, sidecar: undefined }));
      if (!check.needed) {
        timings.waitSeconds = (performance.now() - waitStarted) / 1000;
        await recordSettledBase(layout, key, check.sidecar);
        return done('l1', 'store');
      }
    }
    let lock: HeldLock | undefined;
    try {
      lock = await tryLock(lockPath(layout, key), timing, layout.tmp);
    } catch (error) {
      throw new SourceError(source.label, `cannot build base ${key}: ${(error as Error).message}`, { cause: error });
    }
    if (lock) {
      timings.waitSeconds = (performance.now() - waitStarted) / 1000;
      try {
        // The previous holder may have published just before we locked; and a base may have been
        // removed (gc) or quarantined while we waited: then it is made again here, never half-used.
        if (await isPlainFile(basePath(layout, key))) {
          const check = await needsVerification(layout, key, verify).catch(() => ({ needed: true, sidecar: undefined }));
          if (!check.needed) {
            await recordSettledBase(layout, key, check.sidecar);
            return done('l1', 'store');
          }
          const verification = await verifyBase(layout, key, options.signal);
          if (verification.ok) {
            const result = await done('l1', 'store');
            result.verified = true;
            return result;
          }
          const moved = await quarantineBase(layout, key);
          options.onWarning?.({
            code: 'base-corrupt',
            message: `base ${key} failed verification (${verification.reason}); it was moved to ${moved} and is made again from its source`,
          });
        }
        await sweepTemps(layout, key, timing.staleMs);
        if (options.remote && (await restoreFromRemote(layout, key, options.remote, options, lock, timings))) return done('l2', 'remote');
        const origin = await buildFromSource(layout, key, source, derivedKey, context, options, lock, timings, early);
        return done('miss', origin);
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
      throw new SourceError(source.label, `gave up after ${Math.round(waited / 1000)} s waiting for another process to build base ${key} (lock ${lockPath(layout, key)})`);
    }
    options.onProgress?.({ phase: 'wait', done: waited, total: waitTimeoutMs });
    await sleep(timing.pollMs);
  }
}

/**
 * Restores the base from the remote cache. Anything that goes wrong there (the service, the
 * download, an entry that does not decode or whose digest does not match) is a warning and a miss:
 * the caller then makes the base from its source, and nothing of the entry is published.
 */
async function restoreFromRemote(layout: StoreLayout, key: string, remote: RemoteCache, options: EnsureBaseOptions, lock: HeldLock, timings: BaseTimings): Promise<boolean> {
  // An entry is decoded on every core while it downloads (when the remote cache hands over the
  // archive it is downloading), else as soon as it is down: the decode workers start before the
  // download, and whatever the decoding did not take (after a miss, an entry refused before it was
  // decoded, a plan of fewer tasks than workers) ends here.
  prestartWorkers(options.maxWorkers);
  try {
    if (remote.stream) {
      const streamed = await restoreStreamed(layout, key, remote, options, lock, timings);
      if (streamed !== 'through-restore') return streamed;
    }
    return await restoreAndExtract(layout, key, remote, options, lock, timings);
  } finally {
    dropSpareWorkers();
  }
}

/** The warning for an L2 restore that came to nothing, after which the base is made from its source. */
function remoteWarning(code: 'remote-restore-failed' | 'remote-entry-unusable', remote: RemoteCache, key: string, error: unknown): Warning {
  const what = code === 'remote-restore-failed' ? `the ${remote.name} cache could not be read for ${key}` : `the ${remote.name} cache entry for ${key} was not used`;
  return { code, message: `${what} (the base is made from its source instead): ${(error as Error).message}` };
}

/**
 * The remote cache's stream of the entry's bytes decoded as they arrive: no archive or entry file
 * on disk, nothing unpacked twice. 'through-restore' when the cache cannot stream here, or when the
 * transfer failed (the entry itself may be fine, so it is restored the other way, through
 * remote.restore()).
 */
async function restoreStreamed(layout: StoreLayout, key: string, remote: RemoteCache, options: EnsureBaseOptions, lock: HeldLock, timings: BaseTimings): Promise<boolean | 'through-restore'> {
  const tempImage = `${tempStem(layout, key)}.img`;
  const started = performance.now();
  let lookup;
  try {
    lookup = await remote.stream!(key, { signal: options.signal, onProgress: (done, total) => options.onProgress?.({ phase: 'restore', done, total }) });
  } catch (error) {
    timings.restoreSeconds = (performance.now() - started) / 1000;
    if (options.signal?.aborted) throw options.signal.reason;
    options.onWarning?.(remoteWarning('remote-restore-failed', remote, key, error));
    return false;
  }
  if (lookup.kind === 'absent') {
    timings.restoreSeconds = (performance.now() - started) / 1000;
    return false;
  }
  if (lookup.kind === 'unsupported') return 'through-restore';
  const source = `the ${remote.name} cache entry for ${key}`;
  // The header gives only the apparent size: a base that may not fit is left to restore(), which
  // knows the entry's data bytes before it decodes and makes room for exactly those.
  let roomUnsure = false;
  try {
    const decoded = await decodeStreamedEntry(lookup.entry, source, tempImage, {
      maxWorkers: options.maxWorkers,
      durable: extractsDurably(options),
      signal: options.signal,
      fits: async (apparentSize) => {
        roomUnsure = apparentSize > (await freeBytes(layout));
        return !roomUnsure;
      },
    });
    // The restore phase is the transfer; what the decoding took after its last byte is the extract phase.
    timings.restoreSeconds = decoded.transferSeconds;
    timings.extractSeconds = (performance.now() - started) / 1000 - decoded.transferSeconds;
    timings.workers = decoded.extracted.workers;
    timings.entryDecoding = { when: 'streamed' };
    await publish(layout, key, tempImage, lock, { path: `${remote.name} cache`, kind: 'image', digest: null, format: decoded.extracted.format, member: null, bytes: decoded.index.bytes }, 'remote', decoded.extracted.rawDigest, durabilityOf(options));
    return true;
  } catch (error) {
    await rm(tempImage, { force: true });
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof LockLostError || (error instanceof BasecowError && error.code === 'no-space')) throw error;
    timings.restoreSeconds = (performance.now() - started) / 1000;
    if (roomUnsure) return 'through-restore';
    if (error instanceof RemoteTransferError) {
      options.onWarning?.({ code: 'remote-stream-failed', message: `streaming the ${remote.name} cache entry for ${key} failed (${error.message}); restoring it through the cache client instead` });
      return 'through-restore';
    }
    options.onWarning?.(remoteWarning('remote-entry-unusable', remote, key, error));
    return false;
  }
}

async function restoreAndExtract(layout: StoreLayout, key: string, remote: RemoteCache, options: EnsureBaseOptions, lock: HeldLock, timings: BaseTimings): Promise<boolean> {
  const tempImage = `${tempStem(layout, key)}.img`;
  const early = new EntryWhileRestoring(tempImage, `the ${remote.name} cache entry for ${key} (while it was restored)`, {
    maxWorkers: options.maxWorkers,
    durable: extractsDurably(options),
    signal: options.signal,
    fits: async (apparentSize) => apparentSize <= (await freeBytes(layout)),
  });
  const restoreStarted = performance.now();
  let entry;
  try {
    entry = await remote.restore(key, { signal: options.signal, onProgress: (done, total) => options.onProgress?.({ phase: 'restore', done, total }), onArchive: early.take });
  } catch (error) {
    await early.drop();
    if (options.signal?.aborted) throw options.signal.reason;
    options.onWarning?.(remoteWarning('remote-restore-failed', remote, key, error));
    return false;
  } finally {
    timings.restoreSeconds += (performance.now() - restoreStarted) / 1000;
  }
  if (!entry) {
    await early.drop();
    return false;
  }
  const extractStarted = performance.now();
  let disposed: Promise<void> | undefined;
  try {
    // The index is read first: a file that is not an entry of a version this basecow reads is
    // refused before anything is decoded.
    const index = await readEntryIndex(entry.path).catch(async (error: unknown) => {
      await early.drop();
      throw error;
    });
    let extracted: ExtractResult | undefined;
    if (early.started) {
      const outcome = await early.outcome(index);
      if ('extracted' in outcome) extracted = outcome.extracted;
      timings.entryDecoding = 'extracted' in outcome ? { when: 'while-restoring' } : { when: 'after-restore', note: `decoding while restoring was dropped: ${outcome.dropped}` };
    }
    if (!extracted) {
      const dataBytes = index.frames.filter((frame) => frame.kind === 'data').reduce((sum, frame) => sum + frame.rawLength, 0);
      await ensureRoom(layout, key, `${remote.name} cache entry`, dataBytes, options);
      extracted = await extractToRaw(entry.path, tempImage, { signal: options.signal, maxWorkers: options.maxWorkers, durable: extractsDurably(options) });
      timings.entryDecoding ??= { when: 'after-restore' };
    }
    timings.workers = extracted.workers;
    // The entry file is not read again: it goes (its hundreds of MiB of page cache freed) while the
    // base is checked and published.
    disposed = entry.dispose().catch(() => undefined);
    // The raw digest, recorded when the entry was made from a published base, catches whatever the
    // decoding did not: a frame changed (frames decoded while restoring have no checksum check),
    // missing, swapped, or from another base.
    if (extracted.rawDigest !== index.rawDigest) {
      throw new SourceError(entry.path, `the restored base's digest ${extracted.rawDigest} differs from the ${index.rawDigest} recorded in the entry`);
    }
    await publish(layout, key, tempImage, lock, { path: `${remote.name} cache`, kind: 'image', digest: null, format: extracted.format, member: null, bytes: index.bytes }, 'remote', extracted.rawDigest, durabilityOf(options));
    return true;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    // A full disk is not the entry's fault: the source would not fit either.
    if (error instanceof LockLostError || (error instanceof BasecowError && error.code === 'no-space')) throw error;
    options.onWarning?.(remoteWarning('remote-entry-unusable', remote, key, error));
    return false;
  } finally {
    timings.extractSeconds = (performance.now() - extractStarted) / 1000;
    await rm(tempImage, { force: true });
    await (disposed ?? entry.dispose().catch(() => undefined));
  }
}

async function buildFromSource(
  layout: StoreLayout,
  key: string,
  source: BaseSource,
  derivedKey: boolean,
  context: SourceContext,
  options: EnsureBaseOptions,
  lock: HeldLock,
  timings: BaseTimings,
  early: EarlyExtraction | undefined,
): Promise<BaseOrigin> {
  const sourceStarted = performance.now();
  const run = early?.take();
  const materialized = run ? run.materialized : await source.materialize(context);
  timings.sourceSeconds = materialized.origin === 'extracted' ? 0 : (performance.now() - sourceStarted) / 1000;
  const tempImage = run ? run.tempImage : `${tempStem(layout, key)}.img`;
  const extractStarted = run ? run.startedAt : performance.now();
  try {
    const extracted = run ? await run.result : await extractHere(layout, key, materialized, tempImage, options);
    timings.workers = extracted.workers;
    await materialized.checkUnchanged?.();
    const isTar = extracted.format.startsWith('tar');
    await publish(
      layout,
      key,
      tempImage,
      lock,
      {
        ...materialized.record,
        digest: materialized.record.digest ?? (derivedKey && materialized.record.kind === 'image' ? key : null),
        format: extracted.format,
        member: isTar ? (materialized.member ?? options.member ?? DEFAULT_MEMBER) : null,
      },
      materialized.origin,
      extracted.rawDigest,
      durabilityOf(options),
    );
    return materialized.origin;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof BasecowError || error instanceof LockLostError) throw error;
    throw new SourceError(source.label, `publishing base ${key} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    timings.extractSeconds = ((run?.endedAt() ?? performance.now()) - extractStarted) / 1000;
    await rm(tempImage, { force: true });
    await materialized.dispose().catch((error: Error) =>
      options.onWarning?.({ code: 'leftover-not-removed', message: `cannot remove ${materialized.path}: ${error.message}` }),
    );
  }
}

/** Extracts the materialized source into `tempImage`, once the store's filesystem is known to take it. */
async function extractHere(layout: StoreLayout, key: string, materialized: MaterializedSource, tempImage: string, options: EnsureBaseOptions): Promise<ExtractResult> {
  const sourceInfo = await stat(materialized.path);
  const bytes = sourceInfo.size;
  await ensureRoom(layout, key, materialized.path, bytesToExtract(sourceInfo), options);
  return extractToRaw(materialized.path, tempImage, {
    maxWorkers: options.maxWorkers,
    member: materialized.member ?? options.member,
    signal: options.signal,
    durable: extractsDurably(options),
    onRead: (done) => options.onProgress?.({ phase: 'extract', done, total: bytes }),
  });
}

/** Makes a finished temp image the base: read-only, sidecar first, then the image, under the lock. */
async function publish(
  layout: StoreLayout,
  key: string,
  tempImage: string,
  lock: HeldLock,
  record: SourceRecord,
  origin: BaseOrigin,
  rawDigest: string,
  durability: Durability,
): Promise<void> {
  const info = await stat(tempImage);
  await chmod(tempImage, 0o444);
  const sidecar: BaseSidecar = {
    schema: 1,
    key,
    source: record,
    origin,
    rawDigest,
    apparentBytes: info.size,
    allocatedBytes: info.blocks * 512,
    created: new Date().toISOString(),
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    unsyncedInBoot: unsyncedMark(durability),
  };
  const lost = await lock.lost();
  if (lost) throw new LockLostError(lost.message);
  // The sidecar goes first: a sidecar without an image is harmless, an image without one is not.
  await writeSidecar(sidecarPath(layout, key), sidecar);
  await rename(tempImage, basePath(layout, key));
  await fsyncDir(layout.bases);
  // The rename moved the image's ctime, so its identity is only known now; until this second write
  // lands a reader finds no identity, counts the base as changed and waits for this lock.
  await writeSidecar(sidecarPath(layout, key), { ...sidecar, identity: await identityOf(basePath(layout, key)) });
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Checks, before the first byte is written, that the store's filesystem can take the base. When it
 * cannot, unleased bases are evicted (least recently used first) to make room; when that is not
 * enough, the error names both numbers, instead of an ENOSPC halfway through the extraction.
 */
async function ensureRoom(layout: StoreLayout, key: string, label: string, neededBytes: number, options: EnsureBaseOptions): Promise<void> {
  const before = await freeBytes(layout);
  if (neededBytes <= before) return;
  // Loaded on demand: gc is off the hot path.
  const { gc, listStore } = await import('./gc.js');
  const listing = await listStore({ cacheDir: dirname(layout.root) });
  const result = await gc({ cacheDir: dirname(layout.root), budgetBytes: Math.max(0, listing.totalBytes - (neededBytes - before)), keep: [key], lockTiming: options.lockTiming, onWarning: options.onWarning });
  const after = await freeBytes(layout);
  if (result.removed.length > 0) {
    options.onWarning?.({
      code: 'evicted-for-space',
      message: `removed ${result.removed.length} unused base(s) (${result.removed.map((r) => r.key).join(', ')}) to make room for base ${key}`,
    });
  }
  if (neededBytes <= after) return;
  throw new BasecowError(
    'no-space',
    `${label}: base ${key} needs at least ${mib(neededBytes)} but the filesystem of ${layout.root} has ${mib(after)} free` +
      `${result.removed.length > 0 ? ` after removing ${result.removed.length} unused base(s)` : ' and no unused base to remove'}` +
      `${result.kept.length > 0 ? ` (${result.kept.length} kept: in use)` : ''}; nothing was written`,
    { key, neededBytes, freeBytes: after, store: layout.root },
  );
}

/** The result for a base at `base` (its sidecar beside it), sized from the file itself. */
async function describeBase(base: string, key: string, cacheHit: CacheHit, origin: BaseOrigin, started: number, timings: BaseTimings, keyMemoized: boolean): Promise<BaseResult> {
  const info = await stat(base);
  return {
    key,
    base,
    sidecar: join(dirname(base), `${key}.json`),
    cacheHit,
    origin,
    apparentBytes: info.size,
    allocatedBytes: info.blocks * 512,
    seconds: (performance.now() - started) / 1000,
    timings,
    keyMemoized,
  };
}

const noTimings = (): BaseTimings => ({ hashSeconds: 0, waitSeconds: 0, restoreSeconds: 0, sourceSeconds: 0, extractSeconds: 0, workers: 0 });

/**
 * A base that is already in a store, by key or by path, for callers that prepared it earlier (the
 * overlay sub-action): nothing is extracted, and a missing base is an error that says so.
 */
export async function existingBase(options: ({ key: string; cacheDir: string } | { base: string }) & { lease?: LeaseHolder; onWarning?: WarningSink }): Promise<BaseResult> {
  const started = performance.now();
  const path = 'base' in options ? resolve(options.base) : basePath(storeLayout(options.cacheDir), validateKey(options.key));
  const key = 'key' in options ? options.key : basename(path).replace(/\.img$/, '');
  // A base in a store (<cache-dir>/v1/bases/<key>.img) is leased before it is looked at, as in
  // ensureBase; a base elsewhere is no store's to remove.
  const inStore = basename(dirname(path)) === 'bases' && (() => { try { return validateKey(key) === key; } catch { return false; } })();
  const layout = inStore ? storeLayout(dirname(dirname(dirname(path)))) : undefined;
  const lease = options.lease && layout ? await acquireLease(layout, key, options.lease) : undefined;
  if (!(await isPlainFile(path))) {
    if (lease && layout) await releaseLease(layout, key, lease.lease.id);
    throw new BasecowError('base-missing', `${path}: no such base image (prepare it first, in this job or an earlier step)`, { base: path });
  }
  if (layout) await touchUsed(layout, key).catch((error: Error) => options.onWarning?.({ code: 'last-use-not-recorded', message: `cannot record the use of base ${key}: ${error.message}` }));
  const result = await describeBase(path, key, 'l1', 'store', started, noTimings(), false);
  if (lease) result.lease = { id: lease.lease.id, path: lease.path };
  return result;
}
