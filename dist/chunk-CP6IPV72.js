import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/store/layout.ts
import { randomBytes } from "node:crypto";
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
    digests: join(root, "digests"),
    used: join(root, "used"),
    quarantine: join(root, "quarantine")
  };
}
var basePath = (layout, key) => join(layout.bases, `${key}.img`);
var sidecarPath = (layout, key) => join(layout.bases, `${key}.json`);
var lockPath = (layout, key) => join(layout.locks, key);
var tempPrefix = (key) => `${key}+`;
var tempStem = (layout, key) => join(layout.tmp, `${tempPrefix(key)}${process.pid}-${randomBytes(4).toString("hex")}`);
var usedPath = (layout, key) => join(layout.used, key);
var leaseDir = (layout, key) => join(layout.leases, key);

export {
  defaultCacheDir,
  storeLayout,
  basePath,
  sidecarPath,
  lockPath,
  tempPrefix,
  tempStem,
  usedPath,
  leaseDir
};
