import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  processAlive,
  removeDeadTemps,
  writeFileAtomically
} from "./chunk-PP3B4BCK.js";
import {
  sidecarPath,
  tempPrefix,
  usedPath
} from "./chunk-CP6IPV72.js";
import {
  BasecowError,
  errnoCode
} from "./chunk-BHNCOJM6.js";

// src/core/store/sidecar.ts
import { readFile } from "node:fs/promises";
async function writeSidecar(path, sidecar) {
  await writeFileAtomically(path, `${JSON.stringify(sidecar, null, 2)}
`, { mode: 420 });
}
async function readSidecar(path) {
  return JSON.parse(await readFile(path, "utf8"));
}

// src/core/store/temp-sweep.ts
import { readdir, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
var FOREIGN_TEMP_AGE_MS = 10 * 60 * 1e3;
async function sweepTemps(layout, key, staleMs) {
  const prefix = tempPrefix(key);
  const now = Date.now();
  const names = await readdir(layout.tmp);
  let removed = 0;
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
      if (remove) {
        await rm(path, { force: true });
        removed++;
      }
    })
  );
  removed += (await removeDeadTemps(layout.bases, basename(sidecarPath(layout, key)))).length;
  return removed;
}

// src/core/store/last-used.ts
import { lstat, lutimes, open } from "node:fs/promises";
async function touchUsed(layout, key) {
  const path = usedPath(layout, key);
  const now = /* @__PURE__ */ new Date();
  try {
    await lutimes(path, now, now);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
    const handle = await open(path, "wx", 420).catch((e) => {
      if (e.code === "EEXIST") return void 0;
      throw e;
    });
    await handle?.close();
  }
}
async function lastUsedMs(layout, key) {
  try {
    return (await lstat(usedPath(layout, key))).mtimeMs;
  } catch {
    return void 0;
  }
}

// src/core/store/store-dirs.ts
import { lstat as lstat2, mkdir, stat as stat2 } from "node:fs/promises";
import { dirname } from "node:path";
async function ensureStoreDirs(layout) {
  const dirs = [layout.root, layout.bases, layout.locks, layout.tmp, layout.leases, layout.used, layout.digests, layout.quarantine];
  await mkdir(layout.root, { recursive: true, mode: 493 });
  await Promise.all(dirs.slice(1).map((dir) => mkdir(dir, { mode: 493 }).catch((error) => {
    if (error.code !== "EEXIST") throw error;
  })));
  const uid = process.getuid?.();
  const cacheDir = dirname(layout.root);
  for (const dir of [cacheDir, ...dirs]) {
    const info = dir === cacheDir ? await stat2(dir) : await lstat2(dir);
    const refuse = (why) => {
      throw new BasecowError("store-unsafe", `${dir} ${why}; the store only works in directories that this user owns and nobody else can write (remove it, or choose another cache dir)`, { dir });
    };
    if (info.isSymbolicLink()) refuse("is a symbolic link, not a directory");
    if (!info.isDirectory()) refuse("is not a directory");
    if (uid !== void 0 && info.uid !== uid) refuse(`belongs to uid ${info.uid}, not to this user (uid ${uid})`);
    if ((info.mode & 18) !== 0) refuse(`is writable by other users (mode ${(info.mode & 511).toString(8)})`);
  }
}

export {
  writeSidecar,
  readSidecar,
  sweepTemps,
  touchUsed,
  lastUsedMs,
  ensureStoreDirs
};
