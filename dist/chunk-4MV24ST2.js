import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  DEFAULT_LOCK_TIMING,
  DEFAULT_MEMBER,
  extractToRaw,
  fsyncDir,
  isFile,
  processAlive,
  readEntryIndex,
  removeDeadTemps,
  tryLock,
  writeFileAtomically
} from "./chunk-6MVQB3YP.js";
import {
  BasecowError,
  SourceError,
  UsageError
} from "./chunk-AJIIM2R6.js";

// src/core/store/layout.ts
import { homedir } from "node:os";
import { join, resolve } from "node:path";
var LAYOUT_VERSION = "v1";
function defaultCacheDir(env = process.env) {
  if (env.BASECOW_CACHE_DIR) return resolve(env.BASECOW_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return resolve(xdg, "basecow");
}
function storeLayout(cacheDir) {
  const root = join(resolve(cacheDir), LAYOUT_VERSION);
  return {
    root,
    bases: join(root, "bases"),
    locks: join(root, "locks"),
    leases: join(root, "leases"),
    tmp: join(root, "tmp"),
    digests: join(root, "digests")
  };
}
var basePath = (layout, key) => join(layout.bases, `${key}.img`);
var sidecarPath = (layout, key) => join(layout.bases, `${key}.json`);
var lockPath = (layout, key) => join(layout.locks, key);
var tempPrefix = (key) => `${key}+`;

// src/core/store/ensure-base.ts
import { randomBytes } from "node:crypto";
import { chmod, mkdir as mkdir2, rename, rm as rm2, stat as stat3 } from "node:fs/promises";
import { basename as basename2, dirname as dirname2, join as join6, resolve as resolve3 } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

// src/core/shared/version.ts
import { readFileSync as readFileSync2 } from "node:fs";
import { join as join3 } from "node:path";

// src/core/shared/package-root.ts
import { existsSync, readFileSync } from "node:fs";
import { dirname, join as join2 } from "node:path";
import { fileURLToPath } from "node:url";
var cached;
function packageRoot() {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (; ; ) {
    const manifest = join2(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "basecow") {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find basecow's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

// src/core/shared/version.ts
var TOOL_NAME = "basecow";
var TOOL_VERSION = JSON.parse(readFileSync2(join3(packageRoot(), "package.json"), "utf8")).version;

// src/core/store/key.ts
var CALLER_KEY = /^[A-Za-z0-9._-]{1,128}$/;
var DIGEST_KEY = /^sha256-[0-9a-f]{64}$/;
function validateKey(key) {
  if (DIGEST_KEY.test(key) || CALLER_KEY.test(key) && key !== "." && key !== "..") return key;
  throw new UsageError(
    `invalid key ${JSON.stringify(key)}: a key is 'sha256-<64 hex>' or 1 to 128 characters of A-Z a-z 0-9 . _ - (and not '.' or '..')`,
    "bad-key",
    { key }
  );
}

// src/core/store/local-image.ts
import { resolve as resolve2 } from "node:path";

// src/core/store/source-digest.ts
import { createHash } from "node:crypto";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { join as join4 } from "node:path";
var HASH_READ_SIZE = 8 * 1024 * 1024;
async function hashFile(path, onRead, signal) {
  const hash = createHash("sha256");
  const file = await open(path, "r");
  try {
    const buffers = [Buffer.allocUnsafe(HASH_READ_SIZE), Buffer.allocUnsafe(HASH_READ_SIZE)];
    let position = 0;
    let turn = 0;
    let pending = file.read(buffers[turn], 0, HASH_READ_SIZE, position);
    for (; ; ) {
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
  return `sha256-${hash.digest("hex")}`;
}
async function statSource(source) {
  let info;
  try {
    info = await stat(source, { bigint: true });
  } catch (error) {
    throw new SourceError(source, `cannot read the source image: ${error.message}`, { cause: error });
  }
  if (!info.isFile()) throw new SourceError(source, "is not a regular file");
  return info;
}
async function sourceKey(source, info, memoDir, hooks = {}) {
  const { onRead, signal } = hooks;
  const memoPath = join4(memoDir, `${info.dev}-${info.ino}.json`);
  const identity = { size: String(info.size), mtimeNs: String(info.mtimeNs), ctimeNs: String(info.ctimeNs) };
  const memo = await readMemo(memoPath);
  if (memo && memo.size === identity.size && memo.mtimeNs === identity.mtimeNs && memo.ctimeNs === identity.ctimeNs) {
    return { key: memo.key, memoized: true };
  }
  let key;
  try {
    key = await hashFile(source, onRead, signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new SourceError(source, `cannot read the source image: ${error.message}`, { cause: error });
  }
  try {
    await mkdir(memoDir, { recursive: true });
    await writeFileAtomically(memoPath, JSON.stringify({ ...identity, key }));
  } catch (error) {
    hooks.onWarning?.({ code: "digest-memo-not-written", message: `cannot remember the digest of ${source} in ${memoPath} (the next run hashes it again): ${error.message}` });
  }
  return { key, memoized: false };
}
async function readMemo(path) {
  try {
    const memo = JSON.parse(await readFile(path, "utf8"));
    return DIGEST_KEY.test(memo.key) ? memo : void 0;
  } catch {
    return void 0;
  }
}

// src/core/store/local-image.ts
var sameFile = (a, b) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
function localImage(path, options = {}) {
  const source = resolve2(path);
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
import { readdir, rm, stat as stat2 } from "node:fs/promises";
import { basename, join as join5 } from "node:path";
var FOREIGN_TEMP_AGE_MS = 10 * 60 * 1e3;
async function sweepTemps(layout, key, staleMs) {
  const prefix = tempPrefix(key);
  const now = Date.now();
  const names = await readdir(layout.tmp);
  await Promise.all(
    names.map(async (name) => {
      const owner = /\+(\d+)-[0-9a-f]+\./.exec(name);
      if (!owner) return;
      const path = join5(layout.tmp, name);
      const info = await stat2(path).catch(() => void 0);
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
  await Promise.all([layout.bases, layout.locks, layout.tmp].map((dir) => mkdir2(dir, { recursive: true })));
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
var tempStem = (layout, key) => join6(layout.tmp, `${tempPrefix(key)}${process.pid}-${randomBytes(4).toString("hex")}`);
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
    const extracted = await extractToRaw(entry.path, tempImage, { signal: options.signal });
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
    const bytes = (await stat3(materialized.path)).size;
    const extracted = await extractToRaw(materialized.path, tempImage, {
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
  const info = await stat3(tempImage);
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
  const info = await stat3(base);
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
  const path = "base" in options ? resolve3(options.base) : basePath(storeLayout(options.cacheDir), validateKey(options.key));
  if (!await isFile(path)) {
    throw new BasecowError("base-missing", `${path}: no such base image (prepare it first, in this job or an earlier step)`, { base: path });
  }
  const key = "key" in options ? options.key : basename2(path).replace(/\.img$/, "");
  const timings = { hashSeconds: 0, waitSeconds: 0, restoreSeconds: 0, sourceSeconds: 0, extractSeconds: 0, workers: 0 };
  const info = await stat3(path);
  return {
    key,
    base: path,
    sidecar: join6(dirname2(path), `${key}.json`),
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
  defaultCacheDir,
  packageRoot,
  localImage,
  ensureBase,
  existingBase
};
