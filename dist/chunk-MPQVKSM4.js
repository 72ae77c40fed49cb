import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  ensureStoreDirs,
  lastUsedMs,
  readSidecar,
  sweepTemps
} from "./chunk-I4Z6R4ME.js";
import {
  DEFAULT_LOCK_TIMING,
  readLeases,
  sweepLeases,
  tryLock
} from "./chunk-ZBR2KLNB.js";
import {
  fsyncDir,
  isPlainFile,
  removeDeadTemps,
  validateKey
} from "./chunk-PP3B4BCK.js";
import {
  basePath,
  leaseDir,
  lockPath,
  sidecarPath,
  storeLayout,
  usedPath
} from "./chunk-CP6IPV72.js";

// src/core/store/gc.ts
import { randomBytes } from "node:crypto";
import { lstat, readdir, rename, rm, rmdir, statfs } from "node:fs/promises";
import { join } from "node:path";
var DEFAULT_BUDGET_FRACTION = 0.25;
var keyFromName = (name, suffix) => {
  if (!name.endsWith(suffix)) return void 0;
  try {
    return validateKey(name.slice(0, name.length - suffix.length));
  } catch {
    return void 0;
  }
};
async function filesystemOf(dir) {
  const fs = await statfs(dir);
  return { sizeBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
}
function resolveBudget(options, sizeBytes) {
  if (options.budgetBytes !== void 0) return options.budgetBytes;
  return Math.floor(sizeBytes * (options.budgetFraction ?? DEFAULT_BUDGET_FRACTION));
}
async function describe(layout, key) {
  const base = basePath(layout, key);
  const info = await lstat(base).catch(() => void 0);
  if (!info?.isFile()) return void 0;
  const sidecar = await readSidecar(sidecarPath(layout, key)).catch(() => void 0);
  const used = await lastUsedMs(layout, key);
  const leases = await readLeases(layout, key);
  const created = sidecar?.created ?? null;
  const lastUsed = Math.max(used ?? (created ? Date.parse(created) : info.mtimeMs), ...leases.map((l) => Date.parse(l.lease.started) || 0));
  return { key, base, apparentBytes: info.size, allocatedBytes: info.blocks * 512, created, lastUsed: new Date(lastUsed).toISOString(), leases };
}
async function quarantineBytes(layout) {
  const names = await readdir(layout.quarantine).catch(() => []);
  let bytes = 0;
  for (const name of names) bytes += ((await lstat(join(layout.quarantine, name)).catch(() => void 0))?.blocks ?? 0) * 512;
  return { names, bytes };
}
async function listStore(options) {
  const layout = storeLayout(options.cacheDir);
  await ensureStoreDirs(layout);
  const keys = (await readdir(layout.bases)).map((n) => keyFromName(n, ".img")).filter((k) => k !== void 0);
  const bases = (await Promise.all(keys.map((key) => describe(layout, key)))).filter((b) => b !== void 0);
  bases.sort((a, b) => a.lastUsed.localeCompare(b.lastUsed) || a.key.localeCompare(b.key));
  const quarantine = await quarantineBytes(layout);
  const filesystem = await filesystemOf(layout.root);
  return {
    cacheDir: options.cacheDir,
    bases,
    totalBytes: bases.reduce((sum, b) => sum + b.allocatedBytes, 0) + quarantine.bytes,
    quarantineBytes: quarantine.bytes,
    budgetBytes: resolveBudget(options, filesystem.sizeBytes),
    filesystem
  };
}
async function gc(options) {
  const layout = storeLayout(options.cacheDir);
  const timing = { ...DEFAULT_LOCK_TIMING, ...options.lockTiming };
  const dryRun = options.dryRun ?? false;
  const listing = await listStore(options);
  const result = {
    dryRun,
    budgetBytes: listing.budgetBytes,
    beforeBytes: listing.totalBytes,
    afterBytes: listing.totalBytes,
    removed: [],
    kept: [],
    swept: { leases: 0, temps: 0, locks: 0, quarantined: 0 }
  };
  const quarantine = await quarantineBytes(layout);
  if (!dryRun) for (const name of quarantine.names) await rm(join(layout.quarantine, name), { force: true, recursive: true });
  result.swept.quarantined = quarantine.names.length;
  result.afterBytes -= quarantine.bytes;
  const keep = new Set(options.keep ?? []);
  const now = Date.now();
  const expired = (entry) => options.maxAgeMs !== void 0 && now - Date.parse(entry.lastUsed) > options.maxAgeMs;
  const candidates = [...listing.bases.filter(expired), ...listing.bases.filter((b) => !expired(b))];
  const visited = /* @__PURE__ */ new Set();
  for (const entry of candidates) {
    const reason = expired(entry) ? "max-age" : result.afterBytes > result.budgetBytes ? "budget" : void 0;
    if (!reason || keep.has(entry.key)) continue;
    if (entry.leases.some((l) => !l.stale)) {
      result.kept.push({ key: entry.key, reason: "leased" });
      continue;
    }
    visited.add(entry.key);
    const lock = await tryLock(lockPath(layout, entry.key), timing, layout.tmp);
    if (!lock) {
      result.kept.push({ key: entry.key, reason: "busy" });
      continue;
    }
    try {
      if ((await readLeases(layout, entry.key)).some((l) => !l.stale)) {
        result.kept.push({ key: entry.key, reason: "leased" });
        continue;
      }
      if (!await isPlainFile(basePath(layout, entry.key))) {
        result.afterBytes -= entry.allocatedBytes;
        continue;
      }
      if (!dryRun) {
        if (!await removeBase(layout, entry.key, lock)) continue;
        await sweepKey(layout, entry.key, timing, result);
      }
      result.removed.push({ key: entry.key, allocatedBytes: entry.allocatedBytes, lastUsed: entry.lastUsed, reason });
      result.afterBytes -= entry.allocatedBytes;
    } finally {
      await lock.release().catch((error) => options.onWarning?.({ code: "lock-not-released", message: `cannot release the lock ${lockPath(layout, entry.key)}: ${error.message}` }));
    }
  }
  if (!dryRun) {
    const locksBefore = (await readdir(layout.locks)).length;
    for (const key of await keysWithDebris(layout)) {
      if (visited.has(key)) continue;
      const lock = await tryLock(lockPath(layout, key), timing, layout.tmp);
      if (!lock) continue;
      try {
        await sweepKey(layout, key, timing, result);
      } finally {
        await lock.release().catch((error) => options.onWarning?.({ code: "lock-not-released", message: `cannot release the lock ${lockPath(layout, key)}: ${error.message}` }));
      }
    }
    for (const dir of [layout.used, layout.bases]) {
      const names = await readdir(dir).catch(() => []);
      for (const name of new Set(names.map((n) => n.replace(/^\.(.*)\.tmp-.*$/, "$1")))) result.swept.temps += (await removeDeadTemps(dir, name)).length;
    }
    result.swept.locks = Math.max(0, locksBefore - (await readdir(layout.locks)).length);
  }
  return result;
}
async function keysWithDebris(layout) {
  const keys = /* @__PURE__ */ new Set();
  const add = (key) => key !== void 0 && keys.add(key);
  for (const name of await readdir(layout.leases).catch(() => [])) add(keyFromName(name, ""));
  for (const name of await readdir(layout.locks).catch(() => [])) add(keyFromName(name.replace(/\+owner$/, ""), ""));
  for (const name of await readdir(layout.tmp).catch(() => [])) add(keyFromName(name.split("+")[0], ""));
  for (const name of await readdir(layout.used).catch(() => [])) if (!await lstat(basePath(layout, name)).catch(() => void 0)) add(keyFromName(name, ""));
  for (const name of await readdir(layout.bases).catch(() => [])) {
    const key = keyFromName(name, ".json");
    if (key && !await lstat(basePath(layout, key)).catch(() => void 0)) add(key);
  }
  return keys;
}
async function sweepKey(layout, key, timing, result) {
  result.swept.leases += await sweepLeases(layout, key);
  result.swept.temps += await sweepTemps(layout, key, timing.staleMs);
  if (!await lstat(basePath(layout, key)).catch(() => void 0)) {
    await rm(sidecarPath(layout, key), { force: true });
    await rm(usedPath(layout, key), { force: true });
  }
}
async function removeBase(layout, key, lock) {
  if (await lock.lost()) return false;
  const doomed = join(layout.tmp, `${key}+${process.pid}-${randomBytes(4).toString("hex")}.removed`);
  await rename(basePath(layout, key), doomed);
  await fsyncDir(layout.bases);
  await rm(sidecarPath(layout, key), { force: true });
  await rm(usedPath(layout, key), { force: true });
  await rm(doomed, { force: true });
  await rmdir(leaseDir(layout, key)).catch(() => void 0);
  return true;
}

export {
  DEFAULT_BUDGET_FRACTION,
  resolveBudget,
  listStore,
  gc,
  removeBase
};
