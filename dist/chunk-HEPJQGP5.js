import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  TOOL_NAME,
  TOOL_VERSION
} from "./chunk-4F4VMEEG.js";
import {
  sourceKey,
  statSource,
  validateKey
} from "./chunk-QSCWR6YQ.js";
import {
  basePath,
  lockPath,
  sidecarPath,
  storeLayout,
  tempPrefix
} from "./chunk-VK5DHBY2.js";
import {
  DEFAULT_LOCK_TIMING,
  DEFAULT_MEMBER,
  extractToRaw,
  readEntryIndex,
  tryLock
} from "./chunk-Y6GDTJ7D.js";
import {
  fsyncDir,
  isFile,
  processAlive,
  removeDeadTemps,
  writeFileAtomically
} from "./chunk-52G6BS7L.js";
import {
  BasecowError,
  SourceError
} from "./chunk-BHNCOJM6.js";

// src/core/store/ensure-base.ts
import { randomBytes } from "node:crypto";
import { chmod, mkdir, rename, rm as rm2, stat as stat2 } from "node:fs/promises";
import { basename as basename2, dirname, join as join2, resolve as resolve2 } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

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
        onWarning: context.onWarning
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

// src/core/store/sidecar.ts
async function writeSidecar(path, sidecar) {
  await writeFileAtomically(path, `${JSON.stringify(sidecar, null, 2)}
`, { mode: 420 });
}

// src/core/store/temp-sweep.ts
import { readdir, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
var FOREIGN_TEMP_AGE_MS = 10 * 60 * 1e3;
async function sweepTemps(layout, key, staleMs) {
  const prefix = tempPrefix(key);
  const now = Date.now();
  const names = await readdir(layout.tmp);
  await Promise.all(
    names.map(async (name) => {
      const owner = /\+(\d+)-[0-9a-f]+(?:\.|$)/.exec(name);
      if (!owner) return;
      const path = join(layout.tmp, name);
      const info = await stat(path).catch(() => void 0);
      if (!info) return;
      const idle = now - info.mtimeMs;
      const dead = !processAlive(Number(owner[1]));
      const remove = name.startsWith(prefix) ? dead || idle > staleMs : dead && idle > FOREIGN_TEMP_AGE_MS;
      if (remove) await rm(path, { force: true });
    })
  );
  await removeDeadTemps(layout.bases, basename(sidecarPath(layout, key)));
}

// src/core/store/ensure-base.ts
var DEFAULT_WAIT_TIMEOUT_MS = 30 * 60 * 1e3;
var LockLostError = class extends Error {
};
async function ensureBase(options) {
  const started = performance.now();
  const source = typeof options.source === "string" ? localImage(options.source, { member: options.member }) : options.source;
  const layout = storeLayout(options.cacheDir);
  const timing = { ...DEFAULT_LOCK_TIMING, ...options.lockTiming };
  await Promise.all([layout.bases, layout.locks, layout.tmp].map((dir) => mkdir(dir, { recursive: true })));
  const context = { tmpDir: layout.tmp, digestsDir: layout.digests, signal: options.signal, onProgress: options.onProgress, onWarning: options.onWarning };
  const timings = { hashSeconds: 0, waitSeconds: 0, restoreSeconds: 0, sourceSeconds: 0, extractSeconds: 0, workers: 0 };
  const hashStarted = performance.now();
  let key;
  let keyMemoized = false;
  const derivedKey = options.key === void 0;
  if (options.key !== void 0) {
    key = validateKey(options.key);
  } else {
    const found = await source.key(context);
    key = validateKey(found.key);
    keyMemoized = found.memoized;
  }
  timings.hashSeconds = (performance.now() - hashStarted) / 1e3;
  const waitStarted = performance.now();
  const waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const done = (cacheHit, origin) => describeBase(layout, key, cacheHit, origin, started, timings, keyMemoized);
  for (; ; ) {
    options.signal?.throwIfAborted();
    if (await isFile(basePath(layout, key))) {
      timings.waitSeconds = (performance.now() - waitStarted) / 1e3;
      return done("l1", "store");
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
        if (await isFile(basePath(layout, key))) return done("l1", "store");
        await sweepTemps(layout, key, timing.staleMs);
        if (options.remote && await restoreFromRemote(layout, key, options.remote, options, lock, timings)) return done("l2", "remote");
        const origin = await buildFromSource(layout, key, source, derivedKey, context, options, lock, timings);
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
    await sleep(timing.pollMs);
  }
}
var tempStem = (layout, key) => join2(layout.tmp, `${tempPrefix(key)}${process.pid}-${randomBytes(4).toString("hex")}`);
async function restoreFromRemote(layout, key, remote, options, lock, timings) {
  const restoreStarted = performance.now();
  let entry;
  try {
    entry = await remote.restore(key, { signal: options.signal, onProgress: (done, total) => options.onProgress?.({ phase: "restore", done, total }) });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    options.onWarning?.({ code: "remote-restore-failed", message: `the ${remote.name} cache could not be read for ${key} (the base is made from its source instead): ${error.message}` });
    return false;
  } finally {
    timings.restoreSeconds = (performance.now() - restoreStarted) / 1e3;
  }
  if (!entry) return false;
  const tempImage = `${tempStem(layout, key)}.img`;
  const extractStarted = performance.now();
  try {
    const index = await readEntryIndex(entry.path);
    const extracted = await extractToRaw(entry.path, tempImage, { signal: options.signal, maxWorkers: options.maxWorkers });
    timings.workers = extracted.workers;
    if (extracted.rawDigest !== index.rawDigest) {
      throw new SourceError(entry.path, `the restored base's digest ${extracted.rawDigest} differs from the ${index.rawDigest} recorded in the entry`);
    }
    await publish(layout, key, tempImage, lock, { path: `${remote.name} cache`, kind: "image", digest: null, format: extracted.format, member: null, bytes: index.bytes }, "remote", extracted.rawDigest);
    return true;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof LockLostError) throw error;
    options.onWarning?.({ code: "remote-entry-unusable", message: `the ${remote.name} cache entry for ${key} was not used (the base is made from its source instead): ${error.message}` });
    return false;
  } finally {
    timings.extractSeconds = (performance.now() - extractStarted) / 1e3;
    await rm2(tempImage, { force: true });
    await entry.dispose().catch(() => void 0);
  }
}
async function buildFromSource(layout, key, source, derivedKey, context, options, lock, timings) {
  const sourceStarted = performance.now();
  const materialized = await source.materialize(context);
  timings.sourceSeconds = materialized.origin === "extracted" ? 0 : (performance.now() - sourceStarted) / 1e3;
  const tempImage = `${tempStem(layout, key)}.img`;
  const extractStarted = performance.now();
  try {
    const bytes = (await stat2(materialized.path)).size;
    const extracted = await extractToRaw(materialized.path, tempImage, {
      maxWorkers: options.maxWorkers,
      member: materialized.member ?? options.member,
      signal: options.signal,
      onRead: (done) => options.onProgress?.({ phase: "extract", done, total: bytes })
    });
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
      extracted.rawDigest
    );
    return materialized.origin;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof BasecowError || error instanceof LockLostError) throw error;
    throw new SourceError(source.label, `publishing base ${key} failed: ${error.message}`, { cause: error });
  } finally {
    timings.extractSeconds = (performance.now() - extractStarted) / 1e3;
    await rm2(tempImage, { force: true });
    await materialized.dispose().catch(
      (error) => options.onWarning?.({ code: "leftover-not-removed", message: `cannot remove ${materialized.path}: ${error.message}` })
    );
  }
}
async function publish(layout, key, tempImage, lock, record, origin, rawDigest) {
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
    tool: { name: TOOL_NAME, version: TOOL_VERSION }
  };
  const lost = await lock.lost();
  if (lost) throw new LockLostError(lost.message);
  await writeSidecar(sidecarPath(layout, key), sidecar);
  await rename(tempImage, basePath(layout, key));
  await fsyncDir(layout.bases);
}
async function describeBase(layout, key, cacheHit, origin, started, timings, keyMemoized) {
  const base = basePath(layout, key);
  const info = await stat2(base);
  return {
    key,
    base,
    sidecar: sidecarPath(layout, key),
    cacheHit,
    origin,
    apparentBytes: info.size,
    allocatedBytes: info.blocks * 512,
    seconds: (performance.now() - started) / 1e3,
    timings,
    keyMemoized
  };
}
async function existingBase(options) {
  const started = performance.now();
  const path = "base" in options ? resolve2(options.base) : basePath(storeLayout(options.cacheDir), validateKey(options.key));
  if (!await isFile(path)) {
    throw new BasecowError("base-missing", `${path}: no such base image (prepare it first, in this job or an earlier step)`, { base: path });
  }
  const key = "key" in options ? options.key : basename2(path).replace(/\.img$/, "");
  const timings = { hashSeconds: 0, waitSeconds: 0, restoreSeconds: 0, sourceSeconds: 0, extractSeconds: 0, workers: 0 };
  const info = await stat2(path);
  return {
    key,
    base: path,
    sidecar: join2(dirname(path), `${key}.json`),
    cacheHit: "l1",
    origin: "store",
    apparentBytes: info.size,
    allocatedBytes: info.blocks * 512,
    seconds: (performance.now() - started) / 1e3,
    timings,
    keyMemoized: false
  };
}

export {
  ensureBase,
  existingBase
};
