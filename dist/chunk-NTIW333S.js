import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  extractToRaw
} from "./chunk-3HNSYQ66.js";
import {
  DEFAULT_LOCK_TIMING,
  ownerPath,
  tryLock
} from "./chunk-ZBR2KLNB.js";
import {
  pathExists,
  removeDeadTemps,
  replaceAtomically
} from "./chunk-PP3B4BCK.js";
import {
  BasecowError,
  UsageError
} from "./chunk-BHNCOJM6.js";

// src/core/testnet/extra-disks.ts
import { mkdir, truncate } from "node:fs/promises";
import { basename, dirname } from "node:path";
var EXTRA_DISK_ALIGN = 4096;
async function prepareExtraDisks(dir, disks, options) {
  await mkdir(dir, { recursive: true });
  await Promise.all(
    disks.map(async (d) => {
      if (!options.recreate && await pathExists(d.path)) return;
      await removeDeadTemps(dir, basename(d.path));
      await replaceAtomically(
        d.path,
        async (temp) => {
          const { size } = await extractToRaw(d.source, temp, { member: d.member, signal: options.signal });
          const padded = Math.ceil(size / EXTRA_DISK_ALIGN) * EXTRA_DISK_ALIGN;
          if (padded !== size) await truncate(temp, padded);
        },
        // A reflinked raw source arrives with its own mode; the VM's disks are the runner's alone.
        { mode: 384 }
      );
    })
  );
}
async function removeDeadExtraDiskTemps(path) {
  return removeDeadTemps(dirname(path), basename(path));
}

// src/core/testnet/identity.ts
import { createHash } from "node:crypto";
var NAME_CHARSET = /[^A-Za-z0-9_.-]+/g;
var MAX_NAME_LENGTH = 63;
function sanitizeVmName(name) {
  const cleaned = name.replace(NAME_CHARSET, "-").replace(/^[.-]+/, "").replace(/-+$/, "").slice(0, MAX_NAME_LENGTH);
  if (cleaned === "") throw new UsageError(`VM name ${JSON.stringify(name)} has no usable characters (allowed: A-Z a-z 0-9 _ . -)`, "bad-vm-name", { name });
  return cleaned;
}
function sanitizeVmNames(names) {
  const seen = /* @__PURE__ */ new Map();
  return names.map((name) => {
    const clean = sanitizeVmName(name);
    const earlier = seen.get(clean);
    if (earlier !== void 0) {
      throw new UsageError(`VM names ${JSON.stringify(earlier)} and ${JSON.stringify(name)} both become '${clean}'; rename one of them`, "bad-vm-name", { name });
    }
    seen.set(clean, name);
    return clean;
  });
}
var identityHash = (group, seed) => createHash("sha256").update(`basecow-vm-identity-v1\0${group}\0${seed}`).digest();
function macFrom(bytes) {
  return [6, 188, bytes[0], bytes[1], bytes[2], bytes[3]].map((b) => b.toString(16).padStart(2, "0")).join(":");
}
function vmIdentity(group, name, hash = identityHash) {
  const bytes = hash(group, name);
  const u = Buffer.from(bytes.subarray(4, 20));
  u[6] = u[6] & 15 | 128;
  u[8] = u[8] & 63 | 128;
  const hex = u.toString("hex");
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { domain: `${group}-${name}`, mac: macFrom(bytes), uuid };
}
var nicSeed = (vmName, nicIndex) => nicIndex === 0 ? vmName : `${vmName}#nic${nicIndex}`;
function uniqueMacs(group, seeds, hash = identityHash) {
  const taken = /* @__PURE__ */ new Set();
  const macs = /* @__PURE__ */ new Map();
  for (const seed of [...new Set(seeds)].sort()) {
    let mac = macFrom(hash(group, seed));
    for (let attempt = 1; taken.has(mac); attempt += 1) mac = macFrom(hash(group, `${seed}#mac${attempt}`));
    taken.add(mac);
    macs.set(seed, mac);
  }
  return macs;
}
function validateGroup(group) {
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(group) || /^[.-]/.test(group)) {
    throw new UsageError(`invalid group ${JSON.stringify(group)}: 1 to 40 characters of A-Z a-z 0-9 _ . - not starting with . or -`, "bad-group", { group });
  }
  return group;
}

// src/core/testnet/plan.ts
import { createHash as createHash2 } from "node:crypto";
import { join, resolve } from "node:path";
var vmDir = (workDir, vmName) => join(workDir, "vms", vmName);
var overlayPath = (workDir, vmName) => join(vmDir(workDir, vmName), "primary.qcow2");
var domainXmlPath = (workDir, vmName) => join(vmDir(workDir, vmName), "domain.xml");
var consoleLogPath = (workDir, vmName) => join(vmDir(workDir, vmName), "console.log");
var extraDiskPath = (workDir, vmName, diskName) => join(vmDir(workDir, vmName), `${diskName}.img`);
function defaultGroup(workDir) {
  return `bc${createHash2("sha256").update(resolve(workDir)).digest("hex").slice(0, 8)}`;
}
function isReservedDiskName(name) {
  return name === "primary" || /^nic\d+$/.test(name);
}
function planExtraDisks(workDir, spec, vmName) {
  const disks = (spec.extraDisks ?? []).map((d, j) => ({ ...d, name: sanitizeVmName(d.name ?? `disk${j + 1}`) }));
  const seen = /* @__PURE__ */ new Set();
  for (const d of disks) {
    if (isReservedDiskName(d.name) || seen.has(d.name)) {
      throw new UsageError(`VM ${spec.name}: extra disk name '${d.name}' is used twice or reserved ('primary' and 'nic<N>' are taken)`, "bad-disk-name", { vm: spec.name, disk: d.name });
    }
    seen.add(d.name);
  }
  return disks.map((d) => ({ name: d.name, path: extraDiskPath(workDir, vmName, d.name), source: d.source, member: d.member }));
}
function diskTarget(index) {
  let suffix = "";
  let n = index;
  do {
    suffix = String.fromCharCode(97 + n % 26) + suffix;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `vd${suffix}`;
}
function planTestnet(specs, names, nicCounts, workDir, group, hash) {
  const seeds = names.flatMap((name, i) => Array.from({ length: Math.max(1, nicCounts[i]) }, (_, j) => nicSeed(name, j)));
  const macs = uniqueMacs(group, seeds, hash);
  return specs.map((spec, i) => {
    const name = names[i];
    const identity = vmIdentity(group, name, hash);
    const extra = planExtraDisks(workDir, spec, name);
    const overlay = overlayPath(workDir, name);
    const nicMacs = Array.from({ length: Math.max(1, nicCounts[i]) }, (_, j) => macs.get(nicSeed(name, j)));
    const disks = [
      { alias: "ua-basecow-primary", role: "primary", path: overlay, format: "qcow2", target: "vda" },
      ...extra.map((d, j) => ({ alias: `ua-basecow-${d.name}`, role: "extra", path: d.path, format: "raw", target: diskTarget(j + 1) }))
    ];
    const entry = {
      name,
      domain: identity.domain,
      overlay,
      xml: domainXmlPath(workDir, name),
      mac: nicMacs[0],
      uuid: identity.uuid,
      consoleLog: consoleLogPath(workDir, name),
      disks
    };
    return { spec, name, dir: vmDir(workDir, name), extra, nicMacs, entry };
  });
}

// src/core/testnet/work-dir-lock.ts
import { mkdir as mkdir2, readFile } from "node:fs/promises";
import { join as join2 } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
var WORK_DIR_LOCK = ".basecow.lock";
var DEFAULT_WAIT_TIMEOUT_MS = 10 * 60 * 1e3;
async function holderPid(lockPath) {
  const token = await readFile(ownerPath(lockPath), "utf8").catch(() => "");
  const pid = Number(/^(\d+)-/.exec(token)?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : void 0;
}
async function withWorkDirLock(workDir, fn, options = {}) {
  await mkdir2(workDir, { recursive: true });
  const lockPath = join2(workDir, WORK_DIR_LOCK);
  const timing = { ...DEFAULT_LOCK_TIMING, ...options.lockTiming };
  const timeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const started = performance.now();
  let told = false;
  for (; ; ) {
    options.signal?.throwIfAborted();
    const lock = await tryLock(lockPath, timing, workDir);
    if (lock) {
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    }
    const pid = await holderPid(lockPath);
    const holder = pid ? `pid ${pid}` : "another basecow process";
    if (!told) {
      told = true;
      options.onWarning?.({ code: "work-dir-busy", message: `work dir ${workDir} is in use by ${holder}; waiting for it to finish` });
    }
    if (performance.now() - started > timeoutMs) {
      throw new BasecowError(
        "work-dir-busy",
        `work dir ${workDir} is in use by ${holder} (an up or down that has not finished); gave up after ${Math.round(timeoutMs / 1e3)} s`,
        { workDir, pid: pid ?? 0 }
      );
    }
    await sleep(timing.pollMs);
  }
}

export {
  prepareExtraDisks,
  removeDeadExtraDiskTemps,
  sanitizeVmName,
  sanitizeVmNames,
  validateGroup,
  vmDir,
  overlayPath,
  domainXmlPath,
  extraDiskPath,
  defaultGroup,
  isReservedDiskName,
  planTestnet,
  withWorkDirLock
};
