import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  UsageError
} from "./chunk-BHNCOJM6.js";

// src/inputs/numbers.ts
function parsePositiveInt(value, label) {
  if (value === void 0 || value.trim() === "") return void 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${label} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}
function parseDomainType(value, label) {
  if (value === "auto" || value === "kvm" || value === "qemu") return value;
  throw new UsageError(`${label} must be auto, kvm or qemu, got ${JSON.stringify(value)}`);
}
function parseBoolean(value, label, fallback) {
  const text = (value ?? "").trim().toLowerCase();
  if (text === "") return fallback;
  if (["true", "yes", "1", "on"].includes(text)) return true;
  if (["false", "no", "0", "off"].includes(text)) return false;
  throw new UsageError(`${label} must be true or false, got ${JSON.stringify(value)}`);
}

// src/inputs/size.ts
var UNITS = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
function parseSize(text, label = "size") {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`${label}: invalid size ${JSON.stringify(text)}: use bytes or a number with K, M, G or T (e.g. 32G)`);
  const bytes = Math.ceil(Number(match[1]) * UNITS[match[2].toUpperCase()]);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${label}: size ${JSON.stringify(text)} is too large`);
  return bytes;
}

// src/inputs/lifecycle.ts
var DURATION_UNITS = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 7 * 864e5 };
function parseDuration(text, label) {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text.trim());
  if (!match) throw new UsageError(`${label}: invalid duration ${JSON.stringify(text)}: use a number with s, m, h, d or w (e.g. 14d)`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2].toLowerCase()]);
}
function parseBudget(text, label) {
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text.trim());
  if (percent) {
    const fraction = Number(percent[1]) / 100;
    if (fraction > 1) throw new UsageError(`${label}: ${JSON.stringify(text)} is more than the whole filesystem`);
    return { budgetFraction: fraction };
  }
  return { budgetBytes: parseSize(text, label) };
}
function parseVerify(text, label) {
  if (text === void 0 || text.trim() === "") return void 0;
  const value = text.trim();
  if (value === "always" || value === "changed" || value === "never") return value;
  throw new UsageError(`${label} must be always, changed or never, got ${JSON.stringify(text)}`);
}
function parseDurability(text, label) {
  if (text === void 0 || text.trim() === "") return void 0;
  const value = text.trim();
  if (value === "deferred" || value === "before-publish") return value;
  throw new UsageError(`${label} must be deferred or before-publish, got ${JSON.stringify(text)}`);
}

// src/inputs/source.ts
var given = (value) => value !== void 0 && value.trim() !== "";
function parseSourceChoice(inputs, labels, options = {}) {
  const exactlyOne = `give exactly one source: ${labels.image}, ${labels.url} + ${labels.sha256}, or ${labels.build} + ${labels.keyFiles}`;
  const chosen = [given(inputs.image) && labels.image, (given(inputs.url) || given(inputs.sha256)) && labels.url, (given(inputs.build) || given(inputs.keyFiles)) && labels.build].filter(
    (x) => typeof x === "string"
  );
  if (chosen.length > 1) throw new UsageError(`${exactlyOne} (got ${chosen.join(" and ")})`);
  const member = given(inputs.member) ? inputs.member.trim() : void 0;
  if (given(inputs.url) || given(inputs.sha256)) {
    if (!given(inputs.url)) throw new UsageError(`${labels.sha256} needs ${labels.url}: ${exactlyOne}`);
    if (!given(inputs.sha256)) throw new UsageError(`${labels.url} needs ${labels.sha256} (the sha256 of the file it names, to verify the download)`);
    return { kind: "url", url: parseUrl(inputs.url.trim(), labels.url), sha256: parseSha256(inputs.sha256, labels.sha256), member };
  }
  if (given(inputs.build) || given(inputs.keyFiles)) {
    if (!given(inputs.build)) throw new UsageError(`${labels.keyFiles} needs ${labels.build}: ${exactlyOne}`);
    if (!given(inputs.keyFiles)) throw new UsageError(`${labels.build} needs ${labels.keyFiles} (globs of the files the image is made from: they and the command are its key)`);
    return { kind: "build", command: inputs.build, keyFiles: parseKeyFiles(inputs.keyFiles, labels.keyFiles, options.keyFilesCommas ?? false), member };
  }
  if (given(inputs.image)) return { kind: "image", image: inputs.image, member };
  if (options.defaultImage !== void 0) return { kind: "image", image: options.defaultImage, member };
  throw new UsageError(exactlyOne);
}
function parseSha256(text, label) {
  const hex = text.trim().replace(/^sha256[:-]/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new UsageError(`${label} must be 64 hexadecimal digits (optionally after 'sha256:'), got ${JSON.stringify(text)}`);
  return hex.toLowerCase();
}
function parseUrl(text, label) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${label} ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`${label} must be an http or https URL, got ${url.protocol.slice(0, -1)}`);
  return text;
}
function parseKeyFiles(text, label, commas) {
  const globs = text.split(commas ? /[\n,]/ : /\n/).map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
  if (globs.length === 0) throw new UsageError(`${label} has no glob`);
  return globs;
}

// src/sources/index.ts
async function sourceFromChoice(choice, setting) {
  switch (choice.kind) {
    case "image":
      return choice.image;
    case "url": {
      const { urlSource } = await import("./url-LZEKAMUX.js");
      return urlSource({ url: choice.url, sha256: choice.sha256 });
    }
    case "build": {
      const { buildSource } = await import("./build-SXLMFSQF.js");
      return buildSource({ command: choice.command, keyFiles: choice.keyFiles, workspace: setting.workspace, output: setting.output, onGlobDebug: setting.onGlobDebug });
    }
  }
}

// src/inputs/vms.ts
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
var MAX_VMS = 1024;
function parseVmList(arg, label, cwd = process.cwd()) {
  const text = arg.trim();
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1 || count > MAX_VMS) throw new UsageError(`${label} ${text}: the count must be between 1 and ${MAX_VMS}`);
    return Array.from({ length: count }, (_, i) => ({ name: `vm${i + 1}` }));
  }
  if (text.endsWith(".json")) return readVmFile(resolve(cwd, text));
  const names = text.split(",").map((n) => n.trim());
  if (names.some((n) => n === "")) throw new UsageError(`${label} ${JSON.stringify(arg)}: empty VM name in the list`);
  return names.map((name) => ({ name }));
}
function readVmFile(path) {
  let data;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`${path}: cannot read the VM list: ${error.message}`);
  }
  const list = Array.isArray(data) ? data : data?.vms;
  if (!Array.isArray(list) || list.length === 0) throw new UsageError(`${path}: expected a non-empty array of VMs or { "vms": [...] }`);
  return list.map((entry, i) => checkVm(entry, `${path}: vms[${i}]`, dirname(path)));
}
function checkVm(entry, where, baseDir) {
  if (typeof entry === "string") return { name: entry };
  if (typeof entry !== "object" || entry === null) throw new UsageError(`${where}: expected a name or an object`);
  const vm = entry;
  if (typeof vm.name !== "string" || vm.name === "") throw new UsageError(`${where}: "name" must be a non-empty string`);
  const positive = (key) => {
    const value = vm[key];
    if (value === void 0) return void 0;
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`${where}: "${key}" must be a positive integer`);
    return value;
  };
  const extraDisks = vm.extraDisks === void 0 ? void 0 : checkArray(vm.extraDisks, `${where}.extraDisks`).map((d, j) => {
    const disk = d;
    if (typeof disk?.source !== "string") throw new UsageError(`${where}.extraDisks[${j}]: "source" must be a path`);
    return {
      source: resolve(baseDir, disk.source),
      name: optionalString(disk.name, `${where}.extraDisks[${j}].name`),
      member: optionalString(disk.member, `${where}.extraDisks[${j}].member`)
    };
  });
  const nics = vm.nics === void 0 ? void 0 : checkArray(vm.nics, `${where}.nics`).map((n, j) => parseNic(n, `${where}.nics[${j}]`));
  return {
    name: vm.name,
    memoryMiB: positive("memoryMiB"),
    vcpus: positive("vcpus"),
    cmdline: optionalString(vm.cmdline, `${where}.cmdline`),
    extraDisks,
    nics
  };
}
function checkArray(value, where) {
  if (!Array.isArray(value)) throw new UsageError(`${where}: expected an array`);
  return value;
}
function optionalString(value, where) {
  if (value === void 0) return void 0;
  if (typeof value !== "string") throw new UsageError(`${where}: expected a string`);
  return value;
}
function parseNic(value, where) {
  if (typeof value === "string") return parseNetwork(value, where) ?? invalidNic(where);
  const nic = value;
  if (nic?.type === "bridge" && typeof nic.bridge === "string") return { type: "bridge", bridge: nic.bridge };
  if (nic?.type === "network" && typeof nic.network === "string") return { type: "network", network: nic.network };
  if (nic?.type === "tap" && typeof nic.tap === "string") return { type: "tap", tap: nic.tap };
  return invalidNic(where);
}
function invalidNic(where) {
  throw new UsageError(`${where}: a NIC is "bridge:<name>", "network:<name>", "tap:<dev>" or an object with type and that field`);
}
function parseNetwork(text, where) {
  const [kind, name] = [text.slice(0, text.indexOf(":")), text.slice(text.indexOf(":") + 1)];
  if (text === "none") return void 0;
  if (text.includes(":") && name !== "" && /^[A-Za-z0-9_.:-]+$/.test(name)) {
    if (kind === "bridge") return { type: "bridge", bridge: name };
    if (kind === "network") return { type: "network", network: name };
    if (kind === "tap") return { type: "tap", tap: name };
  }
  throw new UsageError(`${where} ${JSON.stringify(text)}: use none, bridge:<bridge>, network:<libvirt network> or tap:<device>`);
}

// src/output/progress.ts
var PHASE_LABEL = {
  hash: "hashing",
  wait: "waiting for another process",
  restore: "restoring from the remote cache",
  download: "downloading",
  build: "building",
  extract: "extracting"
};
function formatBytes(bytes) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
function progressReporter(stream, plainEveryMs = 5e3) {
  const tty = stream.isTTY === true;
  const phases = /* @__PURE__ */ new Map();
  let lineOpen = false;
  const interval = tty ? 200 : plainEveryMs;
  return {
    report(p) {
      const now = performance.now();
      let state = phases.get(p.phase);
      if (!state) {
        state = { started: now, lastPrinted: now };
        phases.set(p.phase, state);
      }
      const finished = p.total > 0 && p.done >= p.total && state.lastPrinted > state.started;
      if (now - state.lastPrinted < interval && !finished) return;
      state.lastPrinted = now;
      const line = describe(p, (now - state.started) / 1e3);
      if (tty) {
        stream.write(`\r\x1B[2K${line}`);
        lineOpen = true;
      } else {
        stream.write(`${line}
`);
      }
    },
    end() {
      if (lineOpen) stream.write("\n");
      lineOpen = false;
    }
  };
}
function describe(p, elapsed) {
  if (p.phase === "wait") return `basecow: ${PHASE_LABEL.wait} (${elapsed.toFixed(0)} s)`;
  const rate = elapsed > 0 ? p.done / elapsed : 0;
  if (p.total <= 0) return `basecow: ${PHASE_LABEL[p.phase]} ${formatBytes(p.done)} (${formatBytes(rate)}/s)`;
  const eta = rate > 0 ? (p.total - p.done) / rate : 0;
  const percent = p.total > 0 ? (100 * p.done / p.total).toFixed(0) : "100";
  return `basecow: ${PHASE_LABEL[p.phase]} ${formatBytes(p.done)} / ${formatBytes(p.total)} (${percent}%, ${formatBytes(rate)}/s, ETA ${eta.toFixed(0)} s)`;
}

export {
  parsePositiveInt,
  parseDomainType,
  parseBoolean,
  parseSize,
  parseDuration,
  parseBudget,
  parseVerify,
  parseDurability,
  parseSourceChoice,
  sourceFromChoice,
  parseVmList,
  parseNetwork,
  formatBytes,
  progressReporter
};
