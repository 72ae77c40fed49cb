import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  EntryTaskStream
} from "./chunk-LFCMNEXX.js";
import {
  ensureStoreDirs,
  readSidecar,
  sweepTemps,
  touchUsed,
  writeSidecar
} from "./chunk-I4Z6R4ME.js";
import {
  TOOL_NAME,
  TOOL_VERSION
} from "./chunk-4F4VMEEG.js";
import {
  memoizedKey,
  sourceKey,
  statSource
} from "./chunk-2TMYUB3Y.js";
import {
  DEFAULT_MEMBER,
  dropSpareWorkers,
  extractEntryStream,
  extractToRaw,
  prestartWorkers
} from "./chunk-3HNSYQ66.js";
import {
  readEntryIndex,
  sameFrames
} from "./chunk-KZYD2Y56.js";
import {
  DEFAULT_LOCK_TIMING,
  acquireLease,
  releaseLease,
  tryLock
} from "./chunk-ZBR2KLNB.js";
import {
  fsyncDir,
  isPlainFile,
  pathExists,
  validateKey
} from "./chunk-PP3B4BCK.js";
import {
  basePath,
  lockPath,
  sidecarPath,
  storeLayout,
  tempStem
} from "./chunk-CP6IPV72.js";
import {
  BasecowError,
  SourceError
} from "./chunk-BHNCOJM6.js";
import {
  computeRawDigest
} from "./chunk-WB6ZLOID.js";

// src/core/store/ensure-base.ts
import { chmod, rename as rename2, rm as rm4, stat as stat2 } from "node:fs/promises";
import { basename, dirname, join as join3, resolve as resolve2 } from "node:path";
import { setTimeout as sleep2 } from "node:timers/promises";

// src/core/remote/remote-cache.ts
var RemoteTransferError = class extends Error {
  name = "RemoteTransferError";
};

// src/core/store/early-extraction.ts
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

// src/core/store/room.ts
import { statfs } from "node:fs/promises";
async function freeBytes(layout) {
  const fs = await statfs(layout.tmp);
  return fs.bavail * fs.bsize;
}
function bytesToExtract(source) {
  return Math.min(source.size, source.blocks * 512) || source.size;
}

// src/core/store/early-extraction.ts
var fileLockName = (info) => `file.${info.dev}.${info.ino}`;
async function startEarlyExtraction(layout, path, source, context, timing, options) {
  const info = await statSource(path);
  if (await memoizedKey(info, layout.digests)) return void 0;
  if (await hasBaseFromSourceOfSize(layout, Number(info.size))) return void 0;
  const name = fileLockName(info);
  const lock = await waitForLock(layout, name, path, timing, options);
  let handedOver = false;
  try {
    if (await memoizedKey(await statSource(path), layout.digests)) return void 0;
    await sweepTemps(layout, name, timing.staleMs);
    if (bytesToExtract({ size: Number(info.size), blocks: Number(info.blocks) }) > await freeBytes(layout)) return void 0;
    const materialized = await source.materialize(context);
    const tempImage = `${tempStem(layout, name)}.img`;
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const total = Number(info.size);
    const startedAt = performance.now();
    let endedAt;
    const result = extractToRaw(materialized.path, tempImage, {
      maxWorkers: options.maxWorkers,
      member: materialized.member ?? options.member,
      signal,
      durable: options.durable,
      onRead: (done) => options.onRead?.(done, total)
    }).finally(() => {
      endedAt = performance.now();
    });
    result.catch(() => void 0);
    handedOver = true;
    let taken = false;
    return {
      take() {
        if (taken) return void 0;
        taken = true;
        return { materialized, tempImage, result, startedAt, endedAt: () => endedAt };
      },
      async close() {
        if (endedAt === void 0) stop.abort(new Error("the early extraction is no longer needed"));
        await result.catch(() => void 0);
        await rm(tempImage, { force: true });
        if (!taken) await materialized.dispose().catch(() => void 0);
        await lock.release().catch(
          (error) => options.onWarning?.({ code: "lock-not-released", message: `cannot release the lock ${lockPath(layout, name)} (others wait until it goes stale): ${error.message}` })
        );
      }
    };
  } finally {
    if (!handedOver) await lock.release().catch(() => void 0);
  }
}
async function hasBaseFromSourceOfSize(layout, bytes) {
  const names = (await readdir(layout.bases).catch(() => [])).filter((name) => name.endsWith(".json") && !name.startsWith("."));
  for (const name of names) {
    const sidecar = await readSidecar(join(layout.bases, name)).catch(() => void 0);
    if (sidecar?.source?.bytes === bytes) return true;
  }
  return false;
}
async function waitForLock(layout, name, path, timing, options) {
  const started = performance.now();
  for (; ; ) {
    options.signal?.throwIfAborted();
    let lock;
    try {
      lock = await tryLock(lockPath(layout, name), timing, layout.tmp);
    } catch (error) {
      throw new SourceError(path, `cannot lock the image for extraction: ${error.message}`, { cause: error });
    }
    if (lock) return lock;
    const waited = performance.now() - started;
    if (waited > options.waitTimeoutMs) {
      throw new SourceError(path, `gave up after ${Math.round(waited / 1e3)} s waiting for another process preparing the same image (lock ${lockPath(layout, name)})`);
    }
    await sleep(timing.pollMs);
  }
}

// src/core/store/entry-while-restoring.ts
import { rm as rm2 } from "node:fs/promises";

// src/core/entry/archive-feed.ts
import { close, openSync } from "node:fs";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
var closeAsync = promisify(close);
var INPUTS_AHEAD = 6;
var ArchiveFeed = class {
  /** Opens the archive at once: the download may remove it soon after it is whole. */
  constructor(archive) {
    this.archive = archive;
    this.fd = openSync(archive.path, "r");
    this.worker = new Worker(new URL("./archive-feed-worker.js", import.meta.url));
    this.worker.on("message", (message) => this.arrive(message));
    this.worker.on("error", (error) => this.arrive({ kind: "failed", reason: error.message, damaged: false }));
    this.worker.postMessage({ fd: this.fd, path: archive.path, member: archive.member, segmentBytes: archive.segmentBytes, inputsAhead: INPUTS_AHEAD });
    archive.complete.finally(() => this.worker.postMessage({ kind: "complete" })).catch(() => void 0);
  }
  archive;
  worker;
  messages = [];
  waiting;
  header;
  index;
  failure;
  fd;
  arrive(message) {
    this.messages.push(message);
    this.waiting?.();
  }
  async take() {
    while (this.messages.length === 0) await new Promise((resolve3) => this.waiting = resolve3);
    const message = this.messages.shift();
    if (message.kind === "failed") {
      this.failure ??= message.damaged ? new SourceError(this.archive.path, message.reason) : new Error(message.reason);
      throw this.failure;
    }
    return message;
  }
  async start() {
    if (this.failure) throw this.failure;
    if (!this.header) {
      const message = await this.take();
      if (message.kind !== "header") throw new Error(`the archive feed sent ${message.kind} before the entry's header`);
      this.header = message.header;
    }
    return this.header;
  }
  async next() {
    if (this.failure) throw this.failure;
    if (this.index) return void 0;
    const message = await this.take();
    if (message.kind === "task") return message.task;
    if (message.kind === "end") {
      this.index = message.index;
      return void 0;
    }
    throw new Error(`the archive feed sent a second ${message.kind}`);
  }
  recycle(input) {
    this.worker.postMessage({ kind: "recycle", input }, [input.buffer]);
  }
  result() {
    if (!this.index) throw new Error("the entry has not ended");
    return this.index;
  }
  async close() {
    await this.worker.terminate();
    await closeAsync(this.fd);
  }
};

// src/core/store/entry-while-restoring.ts
var EntryWhileRestoring = class {
  constructor(tempImage, source, options) {
    this.tempImage = tempImage;
    this.source = source;
    this.options = options;
  }
  tempImage;
  source;
  options;
  run;
  stop = new AbortController();
  /** RestoreOptions.onArchive. */
  take = (archive) => {
    if (this.run) return;
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, this.stop.signal]) : this.stop.signal;
    let feed;
    try {
      feed = new ArchiveFeed(archive);
    } catch (error) {
      this.run = Promise.reject(error);
      this.run.catch(() => void 0);
      return;
    }
    this.run = extractEntryStream(feed, this.source, this.tempImage, { maxWorkers: this.options.maxWorkers, durable: this.options.durable, signal, fits: this.options.fits });
    this.run.catch(() => void 0);
  };
  get started() {
    return this.run !== void 0;
  }
  /** After a hit: the decoded base if it is the one `index` describes; the temp file is removed otherwise. */
  async outcome(index) {
    if (!this.run) return { dropped: "the restore gave no bytes to decode before it ended" };
    try {
      const { result, index: decoded } = await this.run;
      const same = decoded.rawDigest === index.rawDigest && decoded.bytes === index.bytes && decoded.apparentSize === index.apparentSize && sameFrames(decoded.frames, index.frames);
      if (same) return { extracted: result };
      await rm2(this.tempImage, { force: true });
      return { dropped: "the bytes decoded during the restore are not the entry the restore left" };
    } catch (error) {
      if (this.options.signal?.aborted) throw this.options.signal.reason;
      await rm2(this.tempImage, { force: true });
      return { dropped: error.message };
    }
  }
  /** After a miss or a failure: stops the decoding and removes what it wrote. */
  async drop() {
    if (!this.run) return;
    this.stop.abort(new Error("the restore did not give an entry"));
    await this.run.catch(() => void 0);
    await rm2(this.tempImage, { force: true });
  }
};

// src/core/store/streamed-entry.ts
async function decodeStreamedEntry(entry, source, tempImage, options) {
  const started = performance.now();
  let transferEnded;
  async function* timed() {
    yield* entry.bytes;
    transferEnded = performance.now();
  }
  try {
    const { result, index } = await extractEntryStream(new EntryTaskStream(timed(), source), source, tempImage, options);
    return { extracted: result, index, transferSeconds: ((transferEnded ?? performance.now()) - started) / 1e3 };
  } finally {
    entry.cancel();
  }
}

// src/core/store/local-image.ts
import { resolve } from "node:path";
var sameFile = (a, b) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
function localImage(path, options = {}) {
  const source = resolve(path);
  let keyedAs;
  return {
    label: source,
    async key(context) {
      keyedAs = await statSource(source);
      const total = Number(keyedAs.size);
      return sourceKey(source, keyedAs, context.digestsDir, {
        onRead: (done) => context.onProgress?.({ phase: "hash", done, total }),
        signal: context.signal,
        onWarning: context.onWarning,
        offThread: context.hashOffThread
      });
    },
    async materialize() {
      const identity = keyedAs ?? await statSource(source);
      keyedAs = identity;
      return {
        path: source,
        origin: "extracted",
        member: options.member,
        async checkUnchanged() {
          if (!sameFile(identity, await statSource(source))) {
            throw new SourceError(source, "changed while it was being read (size, mtime, ctime or inode differ from when it was keyed); nothing was published, run again");
          }
        },
        dispose: async () => void 0,
        record: { path: source, kind: "image", digest: null, bytes: Number(identity.size) }
      };
    }
  };
}

// src/core/store/durability.ts
import { readFileSync } from "node:fs";
import { open } from "node:fs/promises";
var BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id";
var SETTLED_MS = 2 * 60 * 1e3;
var bootId;
function currentBootId() {
  if (bootId === void 0) {
    try {
      bootId = readFileSync(BOOT_ID_FILE, "utf8").trim() || null;
    } catch {
      bootId = null;
    }
  }
  return bootId ?? void 0;
}
var effectiveDurability = (asked) => asked !== "before-publish" && currentBootId() ? "deferred" : "before-publish";
var unsyncedMark = (durability) => durability === "deferred" ? currentBootId() : void 0;
var writtenInAnotherBoot = (sidecar) => sidecar.unsyncedInBoot !== void 0 && sidecar.unsyncedInBoot !== currentBootId();
async function recordOnDisk(layout, key, sidecar) {
  const file = await open(basePath(layout, key), "r");
  try {
    await file.sync();
  } finally {
    await file.close();
  }
  const { unsyncedInBoot: _written, ...onDisk } = sidecar;
  await writeSidecar(sidecarPath(layout, key), onDisk);
}
async function recordSettledBase(layout, key, sidecar, now = Date.now()) {
  if (!sidecar || sidecar.unsyncedInBoot === void 0 || writtenInAnotherBoot(sidecar)) return false;
  if (!(now - Date.parse(sidecar.created) >= SETTLED_MS)) return false;
  try {
    await recordOnDisk(layout, key, sidecar);
    return true;
  } catch {
    return false;
  }
}

// src/core/store/verify.ts
import { randomBytes } from "node:crypto";
import { rename, rm as rm3, stat } from "node:fs/promises";
import { join as join2 } from "node:path";
async function identityOf(path) {
  const info = await stat(path, { bigint: true });
  return { size: Number(info.size), ino: Number(info.ino), mtimeNs: info.mtimeNs.toString(), ctimeNs: info.ctimeNs.toString() };
}
var sameIdentity = (a, b) => a !== void 0 && a.size === b.size && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
async function needsVerification(layout, key, mode) {
  const sidecar = await readSidecar(sidecarPath(layout, key)).catch(() => void 0);
  if (sidecar && writtenInAnotherBoot(sidecar)) return { needed: true, sidecar };
  if (mode === "never") return { needed: false, sidecar };
  if (mode === "always" || !sidecar) return { needed: true, sidecar };
  return { needed: !sameIdentity(sidecar.identity, await identityOf(basePath(layout, key))), sidecar };
}
async function verifyBase(layout, key, signal) {
  let sidecar;
  try {
    sidecar = await readSidecar(sidecarPath(layout, key));
  } catch (error) {
    return { ok: false, reason: `its sidecar cannot be read (${error.message})` };
  }
  const path = basePath(layout, key);
  const before = await identityOf(path);
  const digest = await computeRawDigest(path, signal);
  if (sidecar.rawDigest && digest !== sidecar.rawDigest) {
    return { ok: false, reason: `its content's digest is ${digest}, not the ${sidecar.rawDigest} recorded when it was made` };
  }
  if (sidecar.apparentBytes !== void 0 && before.size !== sidecar.apparentBytes) {
    return { ok: false, reason: `it is ${before.size} bytes, not the ${sidecar.apparentBytes} recorded when it was made` };
  }
  const verified = { ...sidecar, rawDigest: digest, identity: before };
  if (writtenInAnotherBoot(sidecar)) await recordOnDisk(layout, key, verified);
  else await writeSidecar(sidecarPath(layout, key), verified);
  return { ok: true };
}
async function quarantineBase(layout, key) {
  const stamp = (/* @__PURE__ */ new Date()).toISOString().replace(/[:.]/g, "-");
  const target = join2(layout.quarantine, `${key}+${stamp}-${randomBytes(3).toString("hex")}.img`);
  await rename(basePath(layout, key), target);
  await rm3(sidecarPath(layout, key), { force: true });
  await fsyncDir(layout.bases);
  return target;
}

// src/core/store/ensure-base.ts
var DEFAULT_WAIT_TIMEOUT_MS = 30 * 60 * 1e3;
var durabilityOf = (options) => effectiveDurability(options.durability);
var extractsDurably = (options) => durabilityOf(options) === "before-publish";
var LockLostError = class extends Error {
};
async function ensureBase(options) {
  const started = performance.now();
  const source = typeof options.source === "string" ? localImage(options.source, { member: options.member }) : options.source;
  const layout = storeLayout(options.cacheDir);
  const timing = { ...DEFAULT_LOCK_TIMING, ...options.lockTiming };
  await ensureStoreDirs(layout);
  const verify = options.verify ?? "changed";
  const context = { tmpDir: layout.tmp, digestsDir: layout.digests, signal: options.signal, onProgress: options.onProgress, onWarning: options.onWarning };
  const timings = noTimings();
  let early;
  try {
    const hashStarted = performance.now();
    let key;
    let keyMemoized = false;
    const derivedKey = options.key === void 0;
    if (options.key !== void 0) {
      key = validateKey(options.key);
    } else {
      if (!options.remote && typeof options.source === "string") {
        early = await startEarlyExtraction(layout, source.label, source, context, timing, {
          maxWorkers: options.maxWorkers,
          member: options.member,
          signal: options.signal,
          durable: extractsDurably(options),
          waitTimeoutMs: options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
          onRead: (done, total) => options.onProgress?.({ phase: "extract", done, total }),
          onWarning: options.onWarning
        });
      }
      const found = await source.key(early ? { ...context, hashOffThread: true } : context);
      key = validateKey(found.key);
      keyMemoized = found.memoized;
    }
    timings.hashSeconds = (performance.now() - hashStarted) / 1e3;
    const lease = options.lease ? await acquireLease(layout, key, options.lease) : void 0;
    try {
      const result = await findOrMake(layout, key, source, derivedKey, context, options, timing, timings, started, keyMemoized, verify, early);
      if (lease) result.lease = { id: lease.lease.id, path: lease.path };
      await touchUsed(layout, key).catch(
        (error) => options.onWarning?.({ code: "last-use-not-recorded", message: `cannot record the use of base ${key} (gc may take it for unused sooner): ${error.message}` })
      );
      return result;
    } catch (error) {
      if (lease) {
        await releaseLease(layout, key, lease.lease.id).catch(
          (releaseError) => options.onWarning?.({ code: "lease-not-released", message: `cannot release the lease ${lease.path} (gc ignores it once this process is gone): ${releaseError.message}` })
        );
      }
      throw error;
    }
  } finally {
    await early?.close();
  }
}
async function findOrMake(layout, key, source, derivedKey, context, options, timing, timings, started, keyMemoized, verify, early) {
  const waitStarted = performance.now();
  const waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const done = (cacheHit, origin) => describeBase(basePath(layout, key), key, cacheHit, origin, started, timings, keyMemoized);
  for (; ; ) {
    options.signal?.throwIfAborted();
    if (await isPlainFile(basePath(layout, key)) && !(options.lease && await pathExists(lockPath(layout, key)))) {
      const check = await needsVerification(layout, key, verify).catch(() => ({ needed: true, sidecar: void 0 }));
      if (!check.needed) {
        timings.waitSeconds = (performance.now() - waitStarted) / 1e3;
        await recordSettledBase(layout, key, check.sidecar);
        return done("l1", "store");
      }
    }
    let lock;
    try {
      lock = await tryLock(lockPath(layout, key), timing, layout.tmp);
    } catch (error) {
      throw new SourceError(source.label, `cannot build base ${key}: ${error.message}`, { cause: error });
    }
    if (lock) {
      timings.waitSeconds = (performance.now() - waitStarted) / 1e3;
      try {
        if (await isPlainFile(basePath(layout, key))) {
          const check = await needsVerification(layout, key, verify).catch(() => ({ needed: true, sidecar: void 0 }));
          if (!check.needed) {
            await recordSettledBase(layout, key, check.sidecar);
            return done("l1", "store");
          }
          const verification = await verifyBase(layout, key, options.signal);
          if (verification.ok) {
            const result = await done("l1", "store");
            result.verified = true;
            return result;
          }
          const moved = await quarantineBase(layout, key);
          options.onWarning?.({
            code: "base-corrupt",
            message: `base ${key} failed verification (${verification.reason}); it was moved to ${moved} and is made again from its source`
          });
        }
        await sweepTemps(layout, key, timing.staleMs);
        if (options.remote && await restoreFromRemote(layout, key, options.remote, options, lock, timings)) return done("l2", "remote");
        const origin = await buildFromSource(layout, key, source, derivedKey, context, options, lock, timings, early);
        return done("miss", origin);
      } catch (error) {
        if (!(error instanceof LockLostError)) throw error;
      } finally {
        await lock.release().catch(
          (error) => options.onWarning?.({ code: "lock-not-released", message: `cannot release the lock ${lockPath(layout, key)} (others wait until it goes stale): ${error.message}` })
        );
      }
    }
    const waited = performance.now() - waitStarted;
    if (waited > waitTimeoutMs) {
      throw new SourceError(source.label, `gave up after ${Math.round(waited / 1e3)} s waiting for another process to build base ${key} (lock ${lockPath(layout, key)})`);
    }
    options.onProgress?.({ phase: "wait", done: waited, total: waitTimeoutMs });
    await sleep2(timing.pollMs);
  }
}
async function restoreFromRemote(layout, key, remote, options, lock, timings) {
  prestartWorkers(options.maxWorkers);
  try {
    if (remote.stream) {
      const streamed = await restoreStreamed(layout, key, remote, options, lock, timings);
      if (streamed !== "through-restore") return streamed;
    }
    return await restoreAndExtract(layout, key, remote, options, lock, timings);
  } finally {
    dropSpareWorkers();
  }
}
function remoteWarning(code, remote, key, error) {
  const what = code === "remote-restore-failed" ? `the ${remote.name} cache could not be read for ${key}` : `the ${remote.name} cache entry for ${key} was not used`;
  return { code, message: `${what} (the base is made from its source instead): ${error.message}` };
}
async function restoreStreamed(layout, key, remote, options, lock, timings) {
  const tempImage = `${tempStem(layout, key)}.img`;
  const started = performance.now();
  let lookup;
  try {
    lookup = await remote.stream(key, { signal: options.signal, onProgress: (done, total) => options.onProgress?.({ phase: "restore", done, total }) });
  } catch (error) {
    timings.restoreSeconds = (performance.now() - started) / 1e3;
    if (options.signal?.aborted) throw options.signal.reason;
    options.onWarning?.(remoteWarning("remote-restore-failed", remote, key, error));
    return false;
  }
  if (lookup.kind === "absent") {
    timings.restoreSeconds = (performance.now() - started) / 1e3;
    return false;
  }
  if (lookup.kind === "unsupported") return "through-restore";
  const source = `the ${remote.name} cache entry for ${key}`;
  let roomUnsure = false;
  try {
    const decoded = await decodeStreamedEntry(lookup.entry, source, tempImage, {
      maxWorkers: options.maxWorkers,
      durable: extractsDurably(options),
      signal: options.signal,
      fits: async (apparentSize) => {
        roomUnsure = apparentSize > await freeBytes(layout);
        return !roomUnsure;
      }
    });
    timings.restoreSeconds = decoded.transferSeconds;
    timings.extractSeconds = (performance.now() - started) / 1e3 - decoded.transferSeconds;
    timings.workers = decoded.extracted.workers;
    timings.entryDecoding = { when: "streamed" };
    await publish(layout, key, tempImage, lock, { path: `${remote.name} cache`, kind: "image", digest: null, format: decoded.extracted.format, member: null, bytes: decoded.index.bytes }, "remote", decoded.extracted.rawDigest, durabilityOf(options));
    return true;
  } catch (error) {
    await rm4(tempImage, { force: true });
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof LockLostError || error instanceof BasecowError && error.code === "no-space") throw error;
    timings.restoreSeconds = (performance.now() - started) / 1e3;
    if (roomUnsure) return "through-restore";
    if (error instanceof RemoteTransferError) {
      options.onWarning?.({ code: "remote-stream-failed", message: `streaming the ${remote.name} cache entry for ${key} failed (${error.message}); restoring it through the cache client instead` });
      return "through-restore";
    }
    options.onWarning?.(remoteWarning("remote-entry-unusable", remote, key, error));
    return false;
  }
}
async function restoreAndExtract(layout, key, remote, options, lock, timings) {
  const tempImage = `${tempStem(layout, key)}.img`;
  const early = new EntryWhileRestoring(tempImage, `the ${remote.name} cache entry for ${key} (while it was restored)`, {
    maxWorkers: options.maxWorkers,
    durable: extractsDurably(options),
    signal: options.signal,
    fits: async (apparentSize) => apparentSize <= await freeBytes(layout)
  });
  const restoreStarted = performance.now();
  let entry;
  try {
    entry = await remote.restore(key, { signal: options.signal, onProgress: (done, total) => options.onProgress?.({ phase: "restore", done, total }), onArchive: early.take });
  } catch (error) {
    await early.drop();
    if (options.signal?.aborted) throw options.signal.reason;
    options.onWarning?.(remoteWarning("remote-restore-failed", remote, key, error));
    return false;
  } finally {
    timings.restoreSeconds += (performance.now() - restoreStarted) / 1e3;
  }
  if (!entry) {
    await early.drop();
    return false;
  }
  const extractStarted = performance.now();
  let disposed;
  try {
    const index = await readEntryIndex(entry.path).catch(async (error) => {
      await early.drop();
      throw error;
    });
    let extracted;
    if (early.started) {
      const outcome = await early.outcome(index);
      if ("extracted" in outcome) extracted = outcome.extracted;
      timings.entryDecoding = "extracted" in outcome ? { when: "while-restoring" } : { when: "after-restore", note: `decoding while restoring was dropped: ${outcome.dropped}` };
    }
    if (!extracted) {
      const dataBytes = index.frames.filter((frame) => frame.kind === "data").reduce((sum, frame) => sum + frame.rawLength, 0);
      await ensureRoom(layout, key, `${remote.name} cache entry`, dataBytes, options);
      extracted = await extractToRaw(entry.path, tempImage, { signal: options.signal, maxWorkers: options.maxWorkers, durable: extractsDurably(options) });
      timings.entryDecoding ??= { when: "after-restore" };
    }
    timings.workers = extracted.workers;
    disposed = entry.dispose().catch(() => void 0);
    if (extracted.rawDigest !== index.rawDigest) {
      throw new SourceError(entry.path, `the restored base's digest ${extracted.rawDigest} differs from the ${index.rawDigest} recorded in the entry`);
    }
    await publish(layout, key, tempImage, lock, { path: `${remote.name} cache`, kind: "image", digest: null, format: extracted.format, member: null, bytes: index.bytes }, "remote", extracted.rawDigest, durabilityOf(options));
    return true;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof LockLostError || error instanceof BasecowError && error.code === "no-space") throw error;
    options.onWarning?.(remoteWarning("remote-entry-unusable", remote, key, error));
    return false;
  } finally {
    timings.extractSeconds = (performance.now() - extractStarted) / 1e3;
    await rm4(tempImage, { force: true });
    await (disposed ?? entry.dispose().catch(() => void 0));
  }
}
async function buildFromSource(layout, key, source, derivedKey, context, options, lock, timings, early) {
  const sourceStarted = performance.now();
  const run = early?.take();
  const materialized = run ? run.materialized : await source.materialize(context);
  timings.sourceSeconds = materialized.origin === "extracted" ? 0 : (performance.now() - sourceStarted) / 1e3;
  const tempImage = run ? run.tempImage : `${tempStem(layout, key)}.img`;
  const extractStarted = run ? run.startedAt : performance.now();
  try {
    const extracted = run ? await run.result : await extractHere(layout, key, materialized, tempImage, options);
    timings.workers = extracted.workers;
    await materialized.checkUnchanged?.();
    const isTar = extracted.format.startsWith("tar");
    await publish(
      layout,
      key,
      tempImage,
      lock,
      {
        ...materialized.record,
        digest: materialized.record.digest ?? (derivedKey && materialized.record.kind === "image" ? key : null),
        format: extracted.format,
        member: isTar ? materialized.member ?? options.member ?? DEFAULT_MEMBER : null
      },
      materialized.origin,
      extracted.rawDigest,
      durabilityOf(options)
    );
    return materialized.origin;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof BasecowError || error instanceof LockLostError) throw error;
    throw new SourceError(source.label, `publishing base ${key} failed: ${error.message}`, { cause: error });
  } finally {
    timings.extractSeconds = ((run?.endedAt() ?? performance.now()) - extractStarted) / 1e3;
    await rm4(tempImage, { force: true });
    await materialized.dispose().catch(
      (error) => options.onWarning?.({ code: "leftover-not-removed", message: `cannot remove ${materialized.path}: ${error.message}` })
    );
  }
}
async function extractHere(layout, key, materialized, tempImage, options) {
  const sourceInfo = await stat2(materialized.path);
  const bytes = sourceInfo.size;
  await ensureRoom(layout, key, materialized.path, bytesToExtract(sourceInfo), options);
  return extractToRaw(materialized.path, tempImage, {
    maxWorkers: options.maxWorkers,
    member: materialized.member ?? options.member,
    signal: options.signal,
    durable: extractsDurably(options),
    onRead: (done) => options.onProgress?.({ phase: "extract", done, total: bytes })
  });
}
async function publish(layout, key, tempImage, lock, record, origin, rawDigest, durability) {
  const info = await stat2(tempImage);
  await chmod(tempImage, 292);
  const sidecar = {
    schema: 1,
    key,
    source: record,
    origin,
    rawDigest,
    apparentBytes: info.size,
    allocatedBytes: info.blocks * 512,
    created: (/* @__PURE__ */ new Date()).toISOString(),
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    unsyncedInBoot: unsyncedMark(durability)
  };
  const lost = await lock.lost();
  if (lost) throw new LockLostError(lost.message);
  await writeSidecar(sidecarPath(layout, key), sidecar);
  await rename2(tempImage, basePath(layout, key));
  await fsyncDir(layout.bases);
  await writeSidecar(sidecarPath(layout, key), { ...sidecar, identity: await identityOf(basePath(layout, key)) });
}
var mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
async function ensureRoom(layout, key, label, neededBytes, options) {
  const before = await freeBytes(layout);
  if (neededBytes <= before) return;
  const { gc, listStore } = await import("./gc-H7X55XUN.js");
  const listing = await listStore({ cacheDir: dirname(layout.root) });
  const result = await gc({ cacheDir: dirname(layout.root), budgetBytes: Math.max(0, listing.totalBytes - (neededBytes - before)), keep: [key], lockTiming: options.lockTiming, onWarning: options.onWarning });
  const after = await freeBytes(layout);
  if (result.removed.length > 0) {
    options.onWarning?.({
      code: "evicted-for-space",
      message: `removed ${result.removed.length} unused base(s) (${result.removed.map((r) => r.key).join(", ")}) to make room for base ${key}`
    });
  }
  if (neededBytes <= after) return;
  throw new BasecowError(
    "no-space",
    `${label}: base ${key} needs at least ${mib(neededBytes)} but the filesystem of ${layout.root} has ${mib(after)} free${result.removed.length > 0 ? ` after removing ${result.removed.length} unused base(s)` : " and no unused base to remove"}${result.kept.length > 0 ? ` (${result.kept.length} kept: in use)` : ""}; nothing was written`,
    { key, neededBytes, freeBytes: after, store: layout.root }
  );
}
async function describeBase(base, key, cacheHit, origin, started, timings, keyMemoized) {
  const info = await stat2(base);
  return {
    key,
    base,
    sidecar: join3(dirname(base), `${key}.json`),
    cacheHit,
    origin,
    apparentBytes: info.size,
    allocatedBytes: info.blocks * 512,
    seconds: (performance.now() - started) / 1e3,
    timings,
    keyMemoized
  };
}
var noTimings = () => ({ hashSeconds: 0, waitSeconds: 0, restoreSeconds: 0, sourceSeconds: 0, extractSeconds: 0, workers: 0 });
async function existingBase(options) {
  const started = performance.now();
  const path = "base" in options ? resolve2(options.base) : basePath(storeLayout(options.cacheDir), validateKey(options.key));
  const key = "key" in options ? options.key : basename(path).replace(/\.img$/, "");
  const inStore = basename(dirname(path)) === "bases" && (() => {
    try {
      return validateKey(key) === key;
    } catch {
      return false;
    }
  })();
  const layout = inStore ? storeLayout(dirname(dirname(dirname(path)))) : void 0;
  const lease = options.lease && layout ? await acquireLease(layout, key, options.lease) : void 0;
  if (!await isPlainFile(path)) {
    if (lease && layout) await releaseLease(layout, key, lease.lease.id);
    throw new BasecowError("base-missing", `${path}: no such base image (prepare it first, in this job or an earlier step)`, { base: path });
  }
  if (layout) await touchUsed(layout, key).catch((error) => options.onWarning?.({ code: "last-use-not-recorded", message: `cannot record the use of base ${key}: ${error.message}` }));
  const result = await describeBase(path, key, "l1", "store", started, noTimings(), false);
  if (lease) result.lease = { id: lease.lease.id, path: lease.path };
  return result;
}

export {
  RemoteTransferError,
  ensureBase,
  existingBase
};
