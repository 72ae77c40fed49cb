import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  domainXmlPath,
  extraDiskPath,
  isReservedDiskName,
  overlayPath,
  removeDeadExtraDiskTemps,
  sanitizeVmName,
  validateGroup,
  vmDir,
  withWorkDirLock
} from "./chunk-NTIW333S.js";
import {
  LibvirtUnreachableError,
  MissingToolError,
  destroyDomain,
  listDomains,
  mapLimited
} from "./chunk-JS24X5YJ.js";
import "./chunk-3HNSYQ66.js";
import "./chunk-KZYD2Y56.js";
import {
  manifestPath,
  readManifest,
  releaseWorkDirLeases,
  wasStarted
} from "./chunk-ZBR2KLNB.js";
import {
  pathExists,
  validateKey
} from "./chunk-PP3B4BCK.js";
import {
  storeLayout
} from "./chunk-CP6IPV72.js";
import "./chunk-KFPWZJBU.js";
import {
  BasecowError,
  errnoCode
} from "./chunk-BHNCOJM6.js";
import "./chunk-SPWXLHYK.js";
import "./chunk-PIREU76B.js";
import "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import "./chunk-NCNTTV4Q.js";

// src/core/testnet/down.ts
import { lstat, rm } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
function untrusted(workDir, what) {
  return new BasecowError(
    "manifest-untrusted",
    `${manifestPath(workDir)}: ${what}; basecow only removes what it created inside the work dir, so nothing was removed (restore the manifest, or delete the work dir by hand)`,
    { workDir }
  );
}
async function planTeardown(workDir, manifest) {
  let group;
  try {
    group = validateGroup(manifest.group);
  } catch {
    throw untrusted(workDir, `group ${JSON.stringify(manifest.group)} is not one basecow makes`);
  }
  const teardowns = [];
  for (const vm of manifest.vms) {
    const name = vm.name;
    if (typeof name !== "string" || (() => {
      try {
        return sanitizeVmName(name) !== name;
      } catch {
        return true;
      }
    })()) {
      throw untrusted(workDir, `VM name ${JSON.stringify(name)} is not one basecow makes`);
    }
    if (vm.domain !== `${group}-${name}`) throw untrusted(workDir, `domain ${JSON.stringify(vm.domain)} of VM ${name} is not ${group}-${name}`);
    const expect = (path, wanted) => {
      if (path !== wanted) throw untrusted(workDir, `path ${JSON.stringify(path)} of VM ${name} is not the one basecow derives (${wanted})`);
      return wanted;
    };
    const files = [expect(vm.xml, domainXmlPath(workDir, name))];
    const extraDisks = [];
    for (const disk of vm.disks ?? []) {
      if (disk.role === "primary") {
        files.push(expect(disk.path, overlayPath(workDir, name)));
        continue;
      }
      const stem = basename(String(disk.path)).replace(/\.img$/, "");
      const safeStem = (() => {
        try {
          return sanitizeVmName(stem) === stem && !isReservedDiskName(stem);
        } catch {
          return false;
        }
      })();
      if (!safeStem) throw untrusted(workDir, `disk path ${JSON.stringify(disk.path)} of VM ${name} is not one basecow makes`);
      extraDisks.push(expect(disk.path, extraDiskPath(workDir, name, stem)));
    }
    await refuseSymlinkedDirs(workDir, vmDir(workDir, name));
    teardowns.push({ domain: vm.domain, files: [...files, ...extraDisks], extraDisks });
  }
  return teardowns;
}
async function refuseSymlinkedDirs(workDir, dir) {
  let current = workDir;
  for (const part of relative(workDir, dir).split(sep)) {
    current = join(current, part);
    try {
      const info = await lstat(current);
      if (!info.isDirectory()) throw untrusted(workDir, `${current} is a ${info.isSymbolicLink() ? "symbolic link" : "non-directory"}, not the directory basecow made`);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return;
      throw error;
    }
  }
}
async function presentDomains(manifest, workDir, connect, onWarning) {
  try {
    return await listDomains(connect);
  } catch (error) {
    if (!(error instanceof LibvirtUnreachableError || error instanceof MissingToolError)) throw error;
    if (wasStarted(manifest)) {
      throw new BasecowError("libvirt-unreachable", `${manifestPath(workDir)}: basecow started these domains, but ${error.message}. Nothing was removed; run down again once libvirt can be reached.`, { workDir });
    }
    onWarning?.({ code: "libvirt-unreachable", message: `${error.message}; the domains were never started by basecow, so their disks are removed anyway` });
    return /* @__PURE__ */ new Set();
  }
}
async function releaseLeases(manifest, workDir, onWarning) {
  try {
    const key = validateKey(manifest.key);
    if (basename(String(manifest.base)) !== `${key}.img` || basename(dirname(manifest.base)) !== "bases") return;
    await releaseWorkDirLeases(storeLayout(dirname(dirname(dirname(manifest.base)))), key, workDir);
  } catch (error) {
    onWarning?.({ code: "lease-not-released", message: `cannot release ${workDir}'s lease on base ${manifest.key} (gc treats it as stale from now on): ${error.message}` });
  }
}
async function down(options) {
  const workDir = resolve(options.workDir);
  if (!await pathExists(manifestPath(workDir))) return { workDir, destroyed: [], removed: [] };
  return withWorkDirLock(
    workDir,
    async () => {
      const manifest = await readManifest(workDir);
      if (!manifest) return { workDir, destroyed: [], removed: [] };
      if (resolve(manifest.workDir) !== workDir) {
        throw untrusted(workDir, `it names work dir ${JSON.stringify(manifest.workDir)}, not ${workDir} (a moved or copied work dir)`);
      }
      const teardowns = await planTeardown(workDir, manifest);
      const connect = options.connect ?? manifest.connect;
      const destroyed = [];
      const removed = [];
      const present = await presentDomains(manifest, workDir, connect, options.onWarning);
      await mapLimited(teardowns, 4, async (vm) => {
        if (present.has(vm.domain) && await destroyDomain(connect, vm.domain)) destroyed.push(vm.domain);
        for (const path of vm.files) {
          if (await pathExists(path)) removed.push(path);
          await rm(path, { force: true });
        }
        for (const disk of vm.extraDisks) {
          await removeDeadExtraDiskTemps(disk).catch(
            (error) => options.onWarning?.({ code: "leftover-not-removed", message: `cannot remove what a killed up left beside ${disk}: ${error.message}` })
          );
        }
      });
      await rm(manifestPath(workDir), { force: true });
      await releaseLeases(manifest, workDir, options.onWarning);
      return { workDir, destroyed: destroyed.sort(), removed: removed.sort() };
    },
    {
      waitTimeoutMs: options.workDirWaitMs,
      lockTiming: options.lockTiming,
      signal: options.signal,
      onWarning: options.onWarning
    }
  );
}
export {
  down
};
