import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  UsageError,
  errnoCode
} from "./chunk-BHNCOJM6.js";

// src/core/shared/fs.ts
import { lstat, open, stat } from "node:fs/promises";
async function pathExists(path) {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}
async function isPlainFile(path) {
  try {
    return (await lstat(path)).isFile();
  } catch {
    return false;
  }
}
async function fsyncDir(dir) {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// src/core/shared/atomic-write.ts
import { randomBytes } from "node:crypto";
import { chmod, open as open2, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

// src/core/shared/pid.ts
import { readFileSync } from "node:fs";
function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}
function processStartTicks(pid) {
  try {
    const stat2 = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat2.slice(stat2.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return void 0;
  }
}
function bootId() {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return void 0;
  }
}

// src/core/shared/atomic-write.ts
var TEMP_INFIX = ".tmp-";
function tempNameFor(path) {
  return join(dirname(path), `.${basename(path)}${TEMP_INFIX}${process.pid}-${randomBytes(4).toString("hex")}`);
}
async function replaceAtomically(path, produce, options = {}) {
  const temp = tempNameFor(path);
  try {
    const result = await produce(temp);
    if (options.mode !== void 0) await chmod(temp, options.mode);
    await rename(temp, path);
    await fsyncDir(dirname(path));
    return result;
  } finally {
    await rm(temp, { force: true });
  }
}
async function writeFileAtomically(path, data, options = {}) {
  await replaceAtomically(
    path,
    async (temp) => {
      const handle = await open2(temp, "wx", options.mode ?? 420);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    options
  );
}
async function removeDeadTemps(dir, finalName) {
  const prefix = `.${finalName}${TEMP_INFIX}`;
  let names;
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    await rm(join(dir, name), { force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

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

export {
  pathExists,
  isPlainFile,
  fsyncDir,
  processAlive,
  processStartTicks,
  bootId,
  replaceAtomically,
  writeFileAtomically,
  removeDeadTemps,
  DIGEST_KEY,
  validateKey
};
