import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __require = /* @__PURE__ */ ((x) => typeof require !== "undefined" ? require : typeof Proxy !== "undefined" ? new Proxy(x, {
  get: (a, b) => (typeof require !== "undefined" ? require : a)[b]
}) : x)(function(x) {
  if (typeof require !== "undefined") return require.apply(this, arguments);
  throw Error('Dynamic require of "' + x + '" is not supported');
});
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __commonJS = (cb, mod) => function __require2() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));

// src/core/errors.ts
function errnoCode(error) {
  return error?.code;
}
var BasecowError, SourceError, UsageError;
var init_errors = __esm({
  "src/core/errors.ts"() {
    "use strict";
    BasecowError = class extends Error {
      constructor(code, message, facts = {}, options) {
        super(message, options);
        this.code = code;
        this.facts = facts;
        this.name = "BasecowError";
      }
      code;
      facts;
    };
    SourceError = class extends BasecowError {
      constructor(source, reason, options) {
        super("source", `${source}: ${reason}`, { source }, options);
        this.source = source;
        this.reason = reason;
        this.name = "SourceError";
      }
      source;
      reason;
    };
    UsageError = class extends BasecowError {
      constructor(message, code = "bad-input", facts = {}) {
        super(code, message, facts);
        this.name = "UsageError";
      }
    };
  }
});

// src/core/extract/wasm-memory.ts
function wasmMemory(bytes, shared = false) {
  const pages = bytes / WASM_PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
}
var WASM_PAGE;
var init_wasm_memory = __esm({
  "src/core/extract/wasm-memory.ts"() {
    "use strict";
    WASM_PAGE = 64 * 1024;
  }
});

// src/core/extract/zstd/xxh64-wasm.ts
var XXH64_WASM;
var init_xxh64_wasm = __esm({
  "src/core/extract/zstd/xxh64-wasm.ts"() {
    "use strict";
    XXH64_WASM = "AGFzbQEAAAABBwFgA39/fwACEgEDZW52Bm1lbW9yeQIDAYCABAMCAQAHCwEHc3RyaXBlcwAACvYBAfMBAgR+AX8gAikDACEDIAIpAwghBCACKQMQIQUgAikDGCEGIAAgAUFgcWohBwJAIAAgB08NAANAIAMgACkDAELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEDIAQgACkDCELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEEIAUgACkDEELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEFIAYgACkDGELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEGIABBIGohACAAIAdJDQALCyACIAM3AwAgAiAENwMIIAIgBTcDECACIAY3AxgL";
  }
});

// src/core/extract/zstd/xxh64.ts
var PRIME1, PRIME2, PRIME3, PRIME4, PRIME5, MASK, STRIPE, XXH64_STATE_BYTES, rotl, round, mergeLane, compiled, Xxh64;
var init_xxh64 = __esm({
  "src/core/extract/zstd/xxh64.ts"() {
    "use strict";
    init_xxh64_wasm();
    PRIME1 = 0x9e3779b185ebca87n;
    PRIME2 = 0xc2b2ae3d27d4eb4fn;
    PRIME3 = 0x165667b19e3779f9n;
    PRIME4 = 0x85ebca77c2b2ae63n;
    PRIME5 = 0x27d4eb2f165667c5n;
    MASK = (1n << 64n) - 1n;
    STRIPE = 32;
    XXH64_STATE_BYTES = 2 * STRIPE;
    rotl = (x, bits) => (x << bits | x >> 64n - bits) & MASK;
    round = (lane, input) => rotl(lane + input * PRIME2 & MASK, 31n) * PRIME1 & MASK;
    mergeLane = (h, lane) => ((h ^ round(0n, lane)) * PRIME1 & MASK) + PRIME4 & MASK;
    Xxh64 = class {
      /** Keeps its state in memory[stateAt, stateAt + XXH64_STATE_BYTES); stateAt must be 8-aligned. */
      constructor(memory, stateAt) {
        this.stateAt = stateAt;
        compiled ??= new WebAssembly.Module(Buffer.from(XXH64_WASM, "base64"));
        this.stripes = new WebAssembly.Instance(compiled, { env: { memory } }).exports.stripes;
        this.bytes = new Uint8Array(memory.buffer);
        this.view = new DataView(memory.buffer);
        this.carryAt = stateAt + STRIPE;
        this.reset();
      }
      stateAt;
      stripes;
      bytes;
      view;
      carryAt;
      carried = 0;
      total = 0;
      /** Starts over, as for a new frame. */
      reset() {
        const lanes = [PRIME1 + PRIME2 & MASK, PRIME2, 0n, 0n - PRIME1 & MASK];
        lanes.forEach((lane, i) => this.view.setBigUint64(this.stateAt + 8 * i, lane, true));
        this.carried = 0;
        this.total = 0;
      }
      /** Hashes memory[at, at + length) after what came before. */
      update(at, length) {
        this.total += length;
        if (this.carried > 0) {
          const take = Math.min(STRIPE - this.carried, length);
          this.bytes.copyWithin(this.carryAt + this.carried, at, at + take);
          this.carried += take;
          at += take;
          length -= take;
          if (this.carried < STRIPE) return;
          this.stripes(this.carryAt, STRIPE, this.stateAt);
          this.carried = 0;
        }
        const whole = length - length % STRIPE;
        this.stripes(at, whole, this.stateAt);
        if (whole < length) {
          this.bytes.copyWithin(this.carryAt, at + whole, at + length);
          this.carried = length - whole;
        }
      }
      /** The hash of everything since the last reset (the state stays as it is). */
      digest() {
        let h;
        if (this.total >= STRIPE) {
          const lanes = [0, 1, 2, 3].map((i) => this.view.getBigUint64(this.stateAt + 8 * i, true));
          h = rotl(lanes[0], 1n) + rotl(lanes[1], 7n) + rotl(lanes[2], 12n) + rotl(lanes[3], 18n) & MASK;
          for (const lane of lanes) h = mergeLane(h, lane);
        } else {
          h = PRIME5;
        }
        h = h + BigInt(this.total) & MASK;
        let at = this.carryAt;
        const end = this.carryAt + this.carried;
        for (; at + 8 <= end; at += 8) {
          h ^= round(0n, this.view.getBigUint64(at, true));
          h = rotl(h, 27n) * PRIME1 + PRIME4 & MASK;
        }
        if (at + 4 <= end) {
          h ^= BigInt(this.view.getUint32(at, true)) * PRIME1 & MASK;
          h = rotl(h, 23n) * PRIME2 + PRIME3 & MASK;
          at += 4;
        }
        for (; at < end; at++) {
          h ^= BigInt(this.bytes[at]) * PRIME5 & MASK;
          h = rotl(h, 11n) * PRIME1 & MASK;
        }
        h ^= h >> 33n;
        h = h * PRIME2 & MASK;
        h ^= h >> 29n;
        h = h * PRIME3 & MASK;
        h ^= h >> 32n;
        return h;
      }
    };
  }
});

// src/core/extract/zstd/stream.ts
import { setImmediate as nextTurn } from "node:timers/promises";
import { Worker } from "node:worker_threads";
function startWorker() {
  return new Worker(new URL("./decode-worker.js", import.meta.url));
}
function prestartDecoder() {
  if (spare) return;
  let worker;
  try {
    worker = startWorker();
  } catch {
    return;
  }
  const started = { worker };
  worker.unref();
  worker.once("error", (error) => started.failure ??= error);
  worker.once("exit", (code) => started.failure ??= new Error(`decompression worker exited with code ${code}`));
  spare = started;
}
function takeWorker() {
  const taken = spare;
  spare = void 0;
  if (!taken || taken.failure) {
    if (taken) void taken.worker.terminate();
    return startWorker();
  }
  taken.worker.removeAllListeners();
  taken.worker.ref();
  return taken.worker;
}
function checkFrames(path, checksum, at, length, frameEnds) {
  let hashed = 0;
  for (const end of frameEnds) {
    checksum.update(at + hashed, end.at - hashed);
    hashed = end.at;
    if (end.checksum !== null && Number(checksum.digest() & 0xffffffffn) !== end.checksum) {
      throw new SourceError(path, `corrupt zstd data: the frame that ends at compressed byte ${end.compressedEnd} decodes to content that does not match its checksum`);
    }
    checksum.reset();
  }
  checksum.update(at + hashed, length - hashed);
}
var INPUT_SIZE, SLOT_SIZE, SLOT_COUNT, SLOTS_AT, TURN_EVERY_MS, POISON_RELEASED_SLOTS, SLOT_POISON, spare, ZstdStream;
var init_stream = __esm({
  "src/core/extract/zstd/stream.ts"() {
    "use strict";
    init_errors();
    init_wasm_memory();
    init_xxh64();
    INPUT_SIZE = 4 * 1024 * 1024;
    SLOT_SIZE = 512 * 1024;
    SLOT_COUNT = 64;
    SLOTS_AT = WASM_PAGE;
    TURN_EVERY_MS = 20;
    POISON_RELEASED_SLOTS = process.env.BASECOW_POISON_RELEASED_SLOTS === "1";
    SLOT_POISON = 219;
    ZstdStream = class {
      constructor(path, onRead) {
        this.path = path;
        this.onRead = onRead;
      }
      path;
      onRead;
      [Symbol.asyncIterator]() {
        return this.chunks();
      }
      async *chunks() {
        const { path, onRead } = this;
        const memory = wasmMemory(SLOTS_AT + SLOT_COUNT * SLOT_SIZE, true);
        const shared = memory.buffer;
        const checksum = new Xxh64(memory, 0);
        const released = new SharedArrayBuffer(4);
        const releasedSlots = new Int32Array(released);
        const data = { path, inputSize: INPUT_SIZE, memory: shared, slotsAt: SLOTS_AT, slotSize: SLOT_SIZE, slotCount: SLOT_COUNT, released };
        const worker = takeWorker();
        const queue = [];
        let wake;
        const push2 = (m) => {
          queue.push(m);
          wake?.();
        };
        worker.on("message", push2);
        worker.on("error", (error) => push2({ kind: "crash", error }));
        worker.on("exit", (code) => push2({ kind: "crash", error: new Error(`decompression worker exited with code ${code}`) }));
        worker.postMessage(data);
        let sawInput = false;
        let lastTurn = performance.now();
        try {
          for (; ; ) {
            while (queue.length === 0) await new Promise((resolve7) => wake = resolve7);
            const message = queue.shift();
            switch (message.kind) {
              case "read":
                sawInput = true;
                onRead?.(message.position);
                break;
              case "data":
                for (const { slot, length, frameEnds } of message.slots) {
                  if (performance.now() - lastTurn > TURN_EVERY_MS) {
                    await nextTurn();
                    lastTurn = performance.now();
                  }
                  const at = SLOTS_AT + slot * SLOT_SIZE;
                  checkFrames(path, checksum, at, length, frameEnds);
                  if (length > 0) yield Buffer.from(shared, at, length);
                  if (POISON_RELEASED_SLOTS) new Uint8Array(shared, at, SLOT_SIZE).fill(SLOT_POISON);
                  Atomics.add(releasedSlots, 0, 1);
                  Atomics.notify(releasedSlots, 0);
                }
                break;
              case "end":
                if (!sawInput) throw new SourceError(path, "file is empty, expected zstd-compressed data");
                if (message.frameOpen) {
                  throw new SourceError(path, `truncated zstd data: the input ends inside a frame after ${message.consumed} compressed bytes`);
                }
                return;
              case "corrupt":
                if (/allocation error/i.test(message.message)) {
                  throw new SourceError(path, `cannot decode the zstd frame near compressed byte ${message.consumed}: ${message.message} (its window needs more memory than this process could get)`);
                }
                if (message.betweenFrames) {
                  throw new SourceError(path, `the data from compressed byte ${message.consumed} on, after a complete zstd frame, is not another frame (${message.message}): trailing garbage, or a damaged frame header`);
                }
                throw new SourceError(path, `corrupt zstd data near compressed byte ${message.consumed}: ${message.message}`);
              case "failed":
                throw new SourceError(path, `cannot read the source image: ${message.message}`);
              case "crash":
                throw new SourceError(path, `zstd decompression stopped: ${message.error.message}`, { cause: message.error });
            }
          }
        } finally {
          await worker.terminate();
        }
      }
    };
  }
});

// src/core/exec/run-tool.ts
import { spawn } from "node:child_process";
function runTool(command, options = {}) {
  const [file, ...args] = command;
  return new Promise((resolve7, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env });
    const out = [];
    const err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", (e) => {
      if (e.code === "ENOENT") reject(new MissingToolError(file, PACKAGE_OF[file] ?? file));
      else reject(e);
    });
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) resolve7({ stdout, stderr });
      else reject(new ToolError(command, code, signal, stderr));
    });
    child.stdin.on("error", () => void 0);
    child.stdin.end(options.input ?? "");
  });
}
var ToolError, MissingToolError, PACKAGE_OF;
var init_run_tool = __esm({
  "src/core/exec/run-tool.ts"() {
    "use strict";
    ToolError = class extends Error {
      constructor(command, exitCode, signal, stderr) {
        const status = signal ? `signal ${signal}` : `exit status ${exitCode}`;
        const detail = stderr.trim() ? `: ${stderr.trim()}` : "";
        super(`${command.join(" ")} failed with ${status}${detail}`);
        this.command = command;
        this.exitCode = exitCode;
        this.signal = signal;
        this.stderr = stderr;
        this.name = "ToolError";
      }
      command;
      exitCode;
      signal;
      stderr;
    };
    MissingToolError = class extends Error {
      constructor(tool, debianPackage) {
        super(`'${tool}' was not found on PATH; install it with: apt-get install -y ${debianPackage}`);
        this.tool = tool;
        this.debianPackage = debianPackage;
        this.name = "MissingToolError";
      }
      tool;
      debianPackage;
    };
    PACKAGE_OF = {
      "qemu-img": "qemu-utils",
      virsh: "libvirt-clients",
      "virt-xml-validate": "libxml2-utils",
      tar: "tar",
      zstd: "zstd"
    };
  }
});

// src/core/libvirt/access-hint.ts
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
async function qemuUser(uid, gid) {
  try {
    const { stdout } = await runTool(["id", "-G", String(uid)]);
    return { uid, groups: [gid, ...stdout.trim().split(/\s+/).map(Number)] };
  } catch {
    return { uid, groups: [gid] };
  }
}
function canSearch(mode, owner, group, user) {
  if (!user) return (mode & 1) !== 0;
  if (user.uid === 0) return true;
  if (owner === user.uid) return (mode & 64) !== 0;
  if (user.groups.includes(group)) return (mode & 8) !== 0;
  return (mode & 1) !== 0;
}
function ancestors(path) {
  const dirs = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) return dirs;
  }
}
async function explainAccessDenied(message) {
  if (!/permission denied/i.test(message)) return void 0;
  const as = /\(as uid:(\d+), gid:(\d+)\)/.exec(message);
  const user = as ? await qemuUser(Number(as[1]), Number(as[2])) : void 0;
  const who = user ? `uid ${user.uid}, the user QEMU runs as,` : "other users, QEMU's user among them,";
  const paths = [...message.matchAll(/'(\/[^']+)'/g)].map((m) => m[1]);
  for (const path of paths) {
    for (const dir of ancestors(path)) {
      let info;
      try {
        info = await stat(dir);
      } catch {
        break;
      }
      if (!canSearch(info.mode, info.uid, info.gid, user)) {
        const mode = (info.mode & 4095).toString(8).padStart(4, "0");
        return `${dir} (mode ${mode}, owner uid ${info.uid}) does not let ${who} reach ${path}. Keep the base store, the work dir and boot files under directories that user can enter (for example /var/tmp/basecow), or let it in: chmod o+x '${dir}'`;
      }
    }
  }
  return void 0;
}
var init_access_hint = __esm({
  "src/core/libvirt/access-hint.ts"() {
    "use strict";
    init_run_tool();
  }
});

// src/core/libvirt/virsh.ts
async function virsh(uri, args) {
  try {
    return (await runTool(["virsh", "-q", "-c", uri, ...args])).stdout;
  } catch (error) {
    if (error instanceof ToolError && UNREACHABLE.test(error.stderr)) {
      const detail = error.stderr.trim().split("\n").filter(Boolean).at(-1) ?? "connection failed";
      throw new LibvirtUnreachableError(uri, detail.replace(/^error:\s*/, ""));
    }
    throw error;
  }
}
async function createDomain(uri, xmlPath) {
  try {
    await virsh(uri, ["create", xmlPath]);
  } catch (error) {
    const hint = error instanceof ToolError ? await explainAccessDenied(error.stderr) : void 0;
    if (hint) throw new Error(`${error.message.trimEnd()}
${hint}`, { cause: error });
    throw error;
  }
}
async function listDomains(uri, options = {}) {
  const stdout = await virsh(uri, ["list", options.runningOnly ? "--state-running" : "--all", "--name"]);
  return new Set(stdout.split("\n").map((line) => line.trim()).filter(Boolean));
}
async function destroyDomain(uri, domain) {
  try {
    await virsh(uri, ["destroy", domain]);
    return true;
  } catch (error) {
    if (error instanceof ToolError && NO_SUCH_DOMAIN.test(error.stderr)) return false;
    throw error;
  }
}
var DEFAULT_CONNECT_URI, LibvirtUnreachableError, UNREACHABLE, NO_SUCH_DOMAIN;
var init_virsh = __esm({
  "src/core/libvirt/virsh.ts"() {
    "use strict";
    init_access_hint();
    init_run_tool();
    DEFAULT_CONNECT_URI = "qemu:///system";
    LibvirtUnreachableError = class extends Error {
      constructor(uri, detail) {
        super(`cannot reach libvirt at ${uri}: ${detail}; is libvirtd running (systemctl start libvirtd)?`);
        this.uri = uri;
        this.name = "LibvirtUnreachableError";
      }
      uri;
    };
    UNREACHABLE = /failed to connect to the hypervisor/i;
    NO_SUCH_DOMAIN = /failed to get domain|Domain not found|domain is not running/i;
  }
});

// src/core/store/layout.ts
import { homedir } from "node:os";
import { join, resolve } from "node:path";
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
var LAYOUT_VERSION, basePath, sidecarPath, lockPath, tempPrefix;
var init_layout = __esm({
  "src/core/store/layout.ts"() {
    "use strict";
    LAYOUT_VERSION = "v1";
    basePath = (layout, key) => join(layout.bases, `${key}.img`);
    sidecarPath = (layout, key) => join(layout.bases, `${key}.json`);
    lockPath = (layout, key) => join(layout.locks, key);
    tempPrefix = (key) => `${key}+`;
  }
});

// src/core/extract/chunks.ts
import { open } from "node:fs/promises";
async function* readChunks(path, onRead) {
  const file = await open(path, "r");
  try {
    let position = 0;
    const readAt2 = async (at) => {
      const buf = Buffer.allocUnsafe(READ_SIZE);
      const { bytesRead } = await file.read(buf, 0, READ_SIZE, at);
      return buf.subarray(0, bytesRead);
    };
    let pending = readAt2(position);
    for (; ; ) {
      const chunk = await pending;
      if (chunk.length === 0) return;
      position += chunk.length;
      pending = readAt2(position);
      onRead?.(position);
      yield chunk;
    }
  } finally {
    await file.close();
  }
}
function startsWithZstdFrame(head) {
  if (head.length < 4) return false;
  const magic = head.readUInt32LE(0);
  return magic === ZSTD_MAGIC || (magic & ZSTD_SKIPPABLE_MASK) === ZSTD_SKIPPABLE_START;
}
var READ_SIZE, ZSTD_MAGIC, ZSTD_SKIPPABLE_MASK, ZSTD_SKIPPABLE_START;
var init_chunks = __esm({
  "src/core/extract/chunks.ts"() {
    "use strict";
    READ_SIZE = 4 * 1024 * 1024;
    ZSTD_MAGIC = 4247762216;
    ZSTD_SKIPPABLE_MASK = 4294967280;
    ZSTD_SKIPPABLE_START = 407710288;
  }
});

// src/core/extract/raw-digest.ts
import { open as open2 } from "node:fs/promises";
function zeroSegmentHash() {
  if (zeroSegment === void 0) {
    const hasher = new BufferHasher();
    hasher.updateZeros(RAW_DIGEST_SEGMENT);
    zeroSegment = hasher.digest();
  }
  return zeroSegment;
}
function rawDigestFromSegments(segments) {
  const words = Buffer.alloc(8 * segments.length);
  segments.forEach((hash, i) => words.writeBigUInt64LE(hash, 8 * i));
  const hasher = new BufferHasher();
  hasher.update(words);
  return formatRawDigest(hasher.digest());
}
function formatRawDigest(value) {
  return `${RAW_DIGEST_ALGORITHM}:${value.toString(16).padStart(16, "0")}`;
}
async function computeRawDigest(path, signal) {
  const digest = new RawDigest();
  const file = await open2(path, "r");
  try {
    const buf = Buffer.allocUnsafe(READ_SIZE2);
    let position = 0;
    for (; ; ) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(buf, 0, READ_SIZE2, position);
      if (bytesRead === 0) break;
      digest.update(buf.subarray(0, bytesRead), position);
      position += bytesRead;
    }
    return digest.finish(position);
  } finally {
    await file.close();
  }
}
var RAW_DIGEST_SEGMENT, RAW_DIGEST_ALGORITHM, STAGE_SIZE, ZEROS_SIZE, BufferHasher, zeroSegment, RawDigest, READ_SIZE2;
var init_raw_digest = __esm({
  "src/core/extract/raw-digest.ts"() {
    "use strict";
    init_wasm_memory();
    init_xxh64();
    RAW_DIGEST_SEGMENT = 32 * 1024 * 1024;
    RAW_DIGEST_ALGORITHM = "xxh64seg-32m";
    STAGE_SIZE = 1024 * 1024;
    ZEROS_SIZE = 256 * 1024;
    BufferHasher = class {
      extra;
      xxh;
      memory;
      buffer;
      stageAt = WASM_PAGE;
      zerosAt = WASM_PAGE + STAGE_SIZE;
      extraAt = WASM_PAGE + STAGE_SIZE + ZEROS_SIZE;
      constructor(extraBytes = 0) {
        const extra = Math.ceil(extraBytes / WASM_PAGE) * WASM_PAGE;
        this.memory = wasmMemory(this.extraAt + extra, true);
        this.buffer = this.memory.buffer;
        this.xxh = new Xxh64(this.memory, 0);
        this.extra = Buffer.from(this.buffer, this.extraAt, extraBytes);
      }
      reset() {
        this.xxh.reset();
      }
      update(buf) {
        if (buf.buffer === this.buffer) {
          this.xxh.update(buf.byteOffset, buf.length);
          return;
        }
        const stage = new Uint8Array(this.buffer, this.stageAt, STAGE_SIZE);
        for (let at = 0; at < buf.length; at += STAGE_SIZE) {
          const piece = buf.subarray(at, Math.min(buf.length, at + STAGE_SIZE));
          stage.set(piece);
          this.xxh.update(this.stageAt, piece.length);
        }
      }
      updateZeros(length) {
        for (let left = length; left > 0; left -= ZEROS_SIZE) this.xxh.update(this.zerosAt, Math.min(left, ZEROS_SIZE));
      }
      digest() {
        return this.xxh.digest();
      }
    };
    RawDigest = class {
      hasher = new BufferHasher();
      segments = [];
      /** Bytes accounted for so far, from 0. */
      position = 0;
      /** Whether data at `position` can still be taken (nothing after it was taken yet). */
      accepts(position) {
        return position >= this.position;
      }
      update(buf, position) {
        if (!this.accepts(position)) throw new Error(`raw digest: data at offset ${position} arrived after offset ${this.position}`);
        this.zerosTo(position);
        for (let at = 0; at < buf.length; ) {
          const take = Math.min(buf.length - at, RAW_DIGEST_SEGMENT - this.position % RAW_DIGEST_SEGMENT);
          this.hasher.update(buf.subarray(at, at + take));
          this.advance(take);
          at += take;
        }
      }
      finish(size) {
        if (size < this.position) throw new Error(`raw digest: size ${size} is below the ${this.position} bytes hashed`);
        this.zerosTo(size);
        if (this.position % RAW_DIGEST_SEGMENT !== 0) this.segments.push(this.hasher.digest());
        return rawDigestFromSegments(this.segments);
      }
      advance(length) {
        this.position += length;
        if (this.position % RAW_DIGEST_SEGMENT === 0) {
          this.segments.push(this.hasher.digest());
          this.hasher.reset();
        }
      }
      zerosTo(end) {
        while (this.position < end) {
          if (this.position % RAW_DIGEST_SEGMENT === 0 && end - this.position >= RAW_DIGEST_SEGMENT) {
            this.segments.push(zeroSegmentHash());
            this.position += RAW_DIGEST_SEGMENT;
            continue;
          }
          const take = Math.min(end - this.position, RAW_DIGEST_SEGMENT - this.position % RAW_DIGEST_SEGMENT);
          this.hasher.updateZeros(take);
          this.advance(take);
        }
      }
    };
    READ_SIZE2 = 4 * 1024 * 1024;
  }
});

// src/core/extract/parallel/index.ts
import { closeSync, fsync, ftruncateSync, openSync, unlinkSync } from "node:fs";
import { open as open3 } from "node:fs/promises";
import { availableParallelism, freemem } from "node:os";
import { promisify } from "node:util";
import { Worker as Worker2 } from "node:worker_threads";
function workerCount(plan, maxWorkers) {
  const byMemory = Math.max(1, Math.floor(freemem() / 2 / WORKER_MEMORY));
  return Math.max(1, Math.min(maxWorkers ?? availableParallelism(), plan.tasks.length, byMemory));
}
async function decodeParallel(source, dest, plan, workers, options = {}) {
  const fd = openSync(dest, "wx", 384);
  let closed = false;
  const threads = [];
  try {
    ftruncateSync(fd, plan.size);
    const init = { source, dest, size: plan.size, directIo: options.directIo ?? true };
    const hashes = /* @__PURE__ */ new Map();
    const partial = [];
    const writtenBy = /* @__PURE__ */ new Map();
    let compressedDone = 0;
    await new Promise((resolve7, reject) => {
      let next = 0;
      let finished = 0;
      let failed = false;
      const fail = (error) => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      const onAbort = () => fail(options.signal.reason);
      if (options.signal?.aborted) return fail(options.signal.reason);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const give = (worker) => {
        if (next < plan.tasks.length) worker.postMessage({ id: next, task: plan.tasks[next++] });
      };
      for (let i = 0; i < workers; i++) {
        const worker = new Worker2(new URL("./frames-worker.js", import.meta.url));
        threads.push(worker);
        worker.on("message", (reply) => {
          if (failed) return;
          if (reply.kind === "failed") {
            const damaged = reply.failure.compressedOffset !== void 0;
            return fail(damaged ? new SourceError(source, reply.failure.message) : new Error(reply.failure.message));
          }
          for (const { index, hash } of reply.segments) hashes.set(index, hash);
          partial.push(...reply.partial);
          writtenBy.set(worker, reply.written);
          for (const frame of plan.tasks[reply.id].frames) compressedDone += frame.kind === "data" ? frame.compressedSize : 0;
          options.onRead?.(compressedDone);
          finished++;
          if (finished === plan.tasks.length) {
            options.signal?.removeEventListener("abort", onAbort);
            resolve7();
          } else {
            give(worker);
          }
        });
        worker.on("error", fail);
        worker.on("exit", (code) => fail(new Error(`a decode worker exited with code ${code}`)));
        worker.postMessage(init);
        give(worker);
      }
    });
    await stopAll(threads);
    await fsyncAsync(fd);
    const rawDigest = await digestOf(dest, plan.size, hashes, partial);
    if (plan.expectedRawDigest && rawDigest !== plan.expectedRawDigest) {
      throw new SourceError(source, `decoded content does not match the entry's raw digest (${rawDigest}, the entry says ${plan.expectedRawDigest}): the entry is damaged`);
    }
    closeSync(fd);
    closed = true;
    const written = { direct: 0, pageCache: 0 };
    for (const bytes of writtenBy.values()) {
      written.direct += bytes.direct;
      written.pageCache += bytes.pageCache;
    }
    return { size: plan.size, rawDigest, workers, written };
  } catch (error) {
    await stopAll(threads);
    if (!closed) closeSync(fd);
    try {
      unlinkSync(dest);
    } catch {
    }
    throw error;
  }
}
async function stopAll(threads) {
  for (const worker of threads) worker.removeAllListeners("exit");
  await Promise.all(threads.map((worker) => worker.terminate()));
}
async function digestOf(dest, size, hashes, partial) {
  const count = Math.ceil(size / RAW_DIGEST_SEGMENT);
  const missing = [...new Set(partial.map(({ from }) => Math.floor(from / RAW_DIGEST_SEGMENT)))].filter((index) => !hashes.has(index));
  if (missing.length > 0) {
    const hasher = new BufferHasher(RAW_DIGEST_SEGMENT);
    const file = await open3(dest, "r");
    try {
      for (const index of missing) {
        const length = Math.min(RAW_DIGEST_SEGMENT, size - index * RAW_DIGEST_SEGMENT);
        for (let done = 0; done < length; ) {
          const { bytesRead } = await file.read(hasher.extra, done, length - done, index * RAW_DIGEST_SEGMENT + done);
          if (bytesRead === 0) throw new Error(`${dest} is shorter than ${size} bytes`);
          done += bytesRead;
        }
        hasher.reset();
        hasher.update(hasher.extra.subarray(0, length));
        hashes.set(index, hasher.digest());
      }
    } finally {
      await file.close();
    }
  }
  const segments = [];
  for (let index = 0; index < count; index++) {
    const hash = hashes.get(index);
    if (hash === void 0) throw new Error(`segment ${index} of ${dest} was never decoded`);
    segments.push(hash);
  }
  return rawDigestFromSegments(segments);
}
var fsyncAsync, WORKER_MEMORY;
var init_parallel = __esm({
  "src/core/extract/parallel/index.ts"() {
    "use strict";
    init_errors();
    init_raw_digest();
    fsyncAsync = promisify(fsync);
    WORKER_MEMORY = 2 * RAW_DIGEST_SEGMENT + 8 * 1024 * 1024;
  }
});

// src/core/entry/format.ts
import { createHash } from "node:crypto";
function decodeHeaderFrame(head) {
  const idEnd = SKIPPABLE_HEADER + ID_BYTES;
  const isOurs = head.length >= idEnd && head.readUInt32LE(0) === BASECOW_SKIPPABLE_MAGIC && head.toString("latin1", SKIPPABLE_HEADER, idEnd) === HEADER_ID.padEnd(ID_BYTES, "\0");
  if (!isOurs) throw new EntryFormatError("is not a basecow entry (it does not start with a basecow-entry header)");
  if (head.length < HEADER_FRAME_BYTES) throw new EntryFormatError("truncated basecow entry: it ends inside its header");
  const version = head.readUInt32LE(SKIPPABLE_HEADER + 16);
  if (version !== ENTRY_VERSION) {
    throw new EntryFormatError(`basecow entry format version ${version} is not supported (this basecow reads version ${ENTRY_VERSION}); the entry was written by another basecow version`);
  }
  if (head.readUInt32LE(4) !== HEADER_CONTENT || head.readUInt32LE(SKIPPABLE_HEADER + 20) !== 0) {
    throw new EntryFormatError("damaged basecow entry: its header has an unexpected size or flags");
  }
  return { version, apparentSize: Number(head.readBigUInt64LE(SKIPPABLE_HEADER + 24)) };
}
function decodePlanFrame(frame) {
  const content = frame.subarray(SKIPPABLE_HEADER);
  const ok = frame.length >= SKIPPABLE_HEADER + 32 && frame.readUInt32LE(0) === BASECOW_SKIPPABLE_MAGIC && frame.readUInt32LE(4) === content.length && content.toString("latin1", 0, ID_BYTES) === PLAN_ID.padEnd(ID_BYTES, "\0");
  if (!ok) throw new EntryFormatError("damaged basecow entry: the frame before its seek table is not a basecow plan");
  const count = content.readUInt32LE(24);
  if (content.length !== 28 + count + 4 || !check(content.subarray(0, 28 + count)).equals(content.subarray(28 + count))) {
    throw new EntryFormatError("damaged basecow entry: its plan does not match its checksum");
  }
  const kinds = [];
  for (let i = 0; i < count; i++) {
    const kind = content[28 + i];
    if (kind > 1) throw new EntryFormatError(`damaged basecow entry: frame ${i} has unknown kind ${kind}`);
    kinds.push(kind === 1 ? "hole" : "data");
  }
  return { rawDigest: content.readBigUInt64LE(16), kinds };
}
function decodeSeekFooter(footer) {
  if (footer.length < SEEK_FOOTER_BYTES || footer.readUInt32LE(5) !== SEEKABLE_MAGIC) {
    throw new EntryFormatError("truncated or damaged basecow entry: it does not end with a zstd seek table");
  }
  if ((footer[4] & 124) !== 0) throw new EntryFormatError("damaged basecow entry: its seek table has reserved bits set");
  const count = footer.readUInt32LE(0);
  const entryBytes = footer[4] & 128 ? 12 : SEEK_ENTRY_BYTES;
  return { count, tableBytes: SKIPPABLE_HEADER + count * entryBytes + SEEK_FOOTER_BYTES };
}
function decodeSeekTable(table, count) {
  if (table.readUInt32LE(0) !== SEEK_TABLE_MAGIC || table.readUInt32LE(4) !== table.length - SKIPPABLE_HEADER) {
    throw new EntryFormatError("truncated or damaged basecow entry: its seek table frame has a bad header");
  }
  const entryBytes = table[table.length - SEEK_FOOTER_BYTES + 4] & 128 ? 12 : SEEK_ENTRY_BYTES;
  const entries = [];
  for (let i = 0; i < count; i++) {
    const at = SKIPPABLE_HEADER + i * entryBytes;
    entries.push({ compressedSize: table.readUInt32LE(at), decompressedSize: table.readUInt32LE(at + 4) });
  }
  return entries;
}
var ENTRY_VERSION, BASECOW_SKIPPABLE_MAGIC, SEEK_TABLE_MAGIC, SEEKABLE_MAGIC, SKIPPABLE_HEADER, HEADER_ID, PLAN_ID, ID_BYTES, HEADER_CONTENT, HEADER_FRAME_BYTES, SEEK_FOOTER_BYTES, SEEK_ENTRY_BYTES, DATA_FRAME_MAX, HOLE_FRAME_MAX, RLE_BLOCK_MAX, EntryFormatError, check;
var init_format = __esm({
  "src/core/entry/format.ts"() {
    "use strict";
    ENTRY_VERSION = 1;
    BASECOW_SKIPPABLE_MAGIC = 407710299;
    SEEK_TABLE_MAGIC = 407710302;
    SEEKABLE_MAGIC = 2408770225;
    SKIPPABLE_HEADER = 8;
    HEADER_ID = "basecow-entry";
    PLAN_ID = "basecow-plan";
    ID_BYTES = 16;
    HEADER_CONTENT = 32;
    HEADER_FRAME_BYTES = SKIPPABLE_HEADER + HEADER_CONTENT;
    SEEK_FOOTER_BYTES = 9;
    SEEK_ENTRY_BYTES = 8;
    DATA_FRAME_MAX = 32 * 1024 * 1024;
    HOLE_FRAME_MAX = 1024 * 1024 * 1024;
    RLE_BLOCK_MAX = 128 * 1024;
    EntryFormatError = class extends Error {
    };
    check = (bytes) => createHash("sha256").update(bytes).digest().subarray(0, 4);
  }
});

// src/core/entry/read.ts
import { open as open4 } from "node:fs/promises";
async function readAt(file, position, length) {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await file.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}
async function readEntryIndex(path) {
  let file;
  try {
    file = await open4(path, "r");
  } catch (error) {
    throw new SourceError(path, `cannot read the basecow entry: ${error.message}`, { cause: error });
  }
  try {
    return await readIndex(path, file);
  } catch (error) {
    if (error instanceof EntryFormatError) throw new SourceError(path, error.message);
    if (error instanceof SourceError) throw error;
    throw new SourceError(path, `cannot read the basecow entry: ${error.message}`, { cause: error });
  } finally {
    await file.close();
  }
}
async function readIndex(path, file) {
  const bytes = (await file.stat()).size;
  const header = decodeHeaderFrame(await readAt(file, 0, HEADER_FRAME_BYTES));
  const { count, tableBytes } = decodeSeekFooter(await readAt(file, Math.max(0, bytes - SEEK_FOOTER_BYTES), SEEK_FOOTER_BYTES));
  if (count < 2 || tableBytes > bytes - HEADER_FRAME_BYTES) throw new EntryFormatError("truncated or damaged basecow entry: its seek table does not fit the file");
  const seek = decodeSeekTable(await readAt(file, bytes - tableBytes, tableBytes), count);
  const compressedTotal = seek.reduce((sum, entry) => sum + entry.compressedSize, 0);
  if (compressedTotal + tableBytes !== bytes) {
    throw new EntryFormatError(`truncated or damaged basecow entry: its seek table accounts for ${compressedTotal + tableBytes} bytes, the file has ${bytes}`);
  }
  if (seek[0].compressedSize !== HEADER_FRAME_BYTES || seek[0].decompressedSize !== 0) {
    throw new EntryFormatError("damaged basecow entry: the seek table does not start with the header frame");
  }
  const planEntry = seek[count - 1];
  const plan = decodePlanFrame(await readAt(file, bytes - tableBytes - planEntry.compressedSize, planEntry.compressedSize));
  if (plan.kinds.length !== count - 2) {
    throw new EntryFormatError(`damaged basecow entry: its plan lists ${plan.kinds.length} frames, its seek table ${count - 2}`);
  }
  const frames = [];
  let rawOffset = 0;
  let compressedOffset = HEADER_FRAME_BYTES;
  for (let i = 1; i < count - 1; i++) {
    const { compressedSize, decompressedSize } = seek[i];
    const kind = plan.kinds[i - 1];
    const max = kind === "hole" ? HOLE_FRAME_MAX : DATA_FRAME_MAX;
    const crossesSegment = kind === "data" && Math.floor(rawOffset / DATA_FRAME_MAX) !== Math.floor((rawOffset + decompressedSize - 1) / DATA_FRAME_MAX);
    if (decompressedSize === 0 || decompressedSize > max || crossesSegment) {
      throw new EntryFormatError(`damaged basecow entry: frame ${i} (${kind}, ${decompressedSize} bytes at raw offset ${rawOffset}) breaks the format's rules`);
    }
    frames.push({ kind, rawOffset, rawLength: decompressedSize, compressedOffset, compressedSize });
    rawOffset += decompressedSize;
    compressedOffset += compressedSize;
  }
  if (rawOffset !== header.apparentSize) {
    throw new EntryFormatError(`damaged basecow entry: its frames hold ${rawOffset} bytes, its header says ${header.apparentSize}`);
  }
  return { path, version: header.version, apparentSize: header.apparentSize, rawDigest: formatRawDigest(plan.rawDigest), frames, bytes };
}
var init_read = __esm({
  "src/core/entry/read.ts"() {
    "use strict";
    init_errors();
    init_raw_digest();
    init_format();
  }
});

// src/core/extract/parallel/plan.ts
import { open as open5 } from "node:fs/promises";
async function walkFrames(path) {
  const file = await open5(path, "r");
  try {
    const reader = new WindowReader(file, (await file.stat()).size);
    const frames = [];
    let position = 0;
    let raw = 0;
    while (position < reader.size) {
      const magicBytes = await reader.get(position, 8);
      if (!magicBytes) return void 0;
      const magic = magicBytes.readUInt32LE(0);
      if ((magic & SKIPPABLE_MASK) === SKIPPABLE_START) {
        position += 8 + magicBytes.readUInt32LE(4);
        continue;
      }
      if (magic !== ZSTD_MAGIC) return void 0;
      const start = position;
      const fhd = magicBytes[4];
      const fcsFlag = fhd >> 6;
      const single = fhd >> 5 & 1;
      const checksum = fhd >> 2 & 1;
      const dictBytes = [0, 1, 2, 4][fhd & 3];
      const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag];
      if (fcsBytes === 0 || dictBytes !== 0) return void 0;
      const headerBytes = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
      const header = await reader.get(position, headerBytes);
      if (!header) return void 0;
      const fcsAt = headerBytes - fcsBytes;
      let contentSize = fcsBytes === 8 ? Number(header.readBigUInt64LE(fcsAt)) : header.readUIntLE(fcsAt, fcsBytes);
      if (fcsBytes === 2) contentSize += 256;
      position += headerBytes;
      for (; ; ) {
        const blockHeader = await reader.get(position, 3);
        if (!blockHeader) return void 0;
        const value = blockHeader.readUIntLE(0, 3);
        const type = value >> 1 & 3;
        if (type === 3) return void 0;
        position += 3 + (type === 1 ? 1 : value >>> 3);
        if (value & 1) break;
      }
      position += checksum ? 4 : 0;
      if (position > reader.size) return void 0;
      if (contentSize > 0) frames.push({ kind: "data", rawOffset: raw, rawLength: contentSize, compressedOffset: start, compressedSize: position - start });
      raw += contentSize;
    }
    return frames;
  } finally {
    await file.close();
  }
}
function toTasks(frames, target) {
  const tasks = [];
  let current;
  for (const frame of frames) {
    for (let at = frame.rawOffset; at < frame.rawOffset + frame.rawLength; ) {
      const piece = frame.kind === "hole" ? { ...frame, rawOffset: at, rawLength: Math.min(frame.rawOffset + frame.rawLength, (Math.floor(at / RAW_DIGEST_SEGMENT) + 1) * RAW_DIGEST_SEGMENT) - at } : frame;
      at += piece.rawLength;
      const crossesGrid = current && Math.floor(current.rawStart / target) !== Math.floor(piece.rawOffset / target);
      if (!current || crossesGrid || current.rawEnd - current.rawStart >= target) {
        current = { rawStart: piece.rawOffset, rawEnd: piece.rawOffset, frames: [] };
        tasks.push(current);
      }
      current.frames.push(piece);
      current.rawEnd = piece.rawOffset + piece.rawLength;
    }
  }
  return tasks;
}
async function planParallel(path) {
  const head = Buffer.alloc(4);
  const file = await open5(path, "r");
  try {
    await file.read(head, 0, 4, 0);
  } finally {
    await file.close();
  }
  if (head.readUInt32LE(0) === BASECOW_SKIPPABLE_MAGIC) {
    let index;
    try {
      index = await readEntryIndex(path);
    } catch (error) {
      if (error instanceof SourceError && /not a basecow entry/.test(error.reason)) return void 0;
      throw error;
    }
    if (index.frames.length === 0) return void 0;
    return { size: index.apparentSize, tasks: toTasks(index.frames, RAW_DIGEST_SEGMENT), from: "entry", expectedRawDigest: index.rawDigest };
  }
  const frames = await walkFrames(path);
  if (!frames || frames.length < 2) return void 0;
  const last = frames[frames.length - 1];
  return { size: last.rawOffset + last.rawLength, tasks: toTasks(frames, RAW_DIGEST_SEGMENT), from: "frame-headers" };
}
var SKIPPABLE_MASK, SKIPPABLE_START, WINDOW, WindowReader;
var init_plan = __esm({
  "src/core/extract/parallel/plan.ts"() {
    "use strict";
    init_errors();
    init_read();
    init_format();
    init_chunks();
    init_raw_digest();
    SKIPPABLE_MASK = 4294967280;
    SKIPPABLE_START = 407710288;
    WINDOW = 4 * 1024 * 1024;
    WindowReader = class {
      constructor(file, size) {
        this.file = file;
        this.size = size;
      }
      file;
      size;
      at = 0;
      bytes = Buffer.alloc(0);
      async get(position, length) {
        if (position + length > this.size) return void 0;
        if (position < this.at || position + length > this.at + this.bytes.length) {
          const buf = Buffer.allocUnsafe(Math.max(WINDOW, length));
          const { bytesRead } = await this.file.read(buf, 0, buf.length, position);
          this.at = position;
          this.bytes = buf.subarray(0, bytesRead);
        }
        return this.bytes.subarray(position - this.at, position - this.at + length);
      }
    };
  }
});

// src/core/extract/write/direct-writes.ts
import { closeSync as closeSync2, constants, openSync as openSync2, read, write } from "node:fs";
import { promisify as promisify2 } from "node:util";
function pageAlignedBuffer(size) {
  try {
    return Buffer.from(wasmMemory(size).buffer);
  } catch {
    return void 0;
  }
}
var DIRECT_ALIGN, STAGE_SIZE2, writeAsync, readAsync, STAGE_COUNT, MEMORY_SIZE, DirectWrites;
var init_direct_writes = __esm({
  "src/core/extract/write/direct-writes.ts"() {
    "use strict";
    init_errors();
    init_wasm_memory();
    DIRECT_ALIGN = 4096;
    STAGE_SIZE2 = 1024 * 1024;
    writeAsync = promisify2(write);
    readAsync = promisify2(read);
    STAGE_COUNT = 2;
    MEMORY_SIZE = STAGE_COUNT * STAGE_SIZE2 + WASM_PAGE;
    DirectWrites = class _DirectWrites {
      constructor(directFd, memory, fallback) {
        this.directFd = directFd;
        this.fallback = fallback;
        this.stages = Array.from({ length: STAGE_COUNT }, (_, i) => ({ buf: memory.subarray(i * STAGE_SIZE2, (i + 1) * STAGE_SIZE2) }));
        this.block = memory.subarray(STAGE_COUNT * STAGE_SIZE2, STAGE_COUNT * STAGE_SIZE2 + DIRECT_ALIGN);
      }
      directFd;
      fallback;
      /** Data bytes written with O_DIRECT (not counting the filling around runs). */
      bytes = 0;
      stages;
      /** One aligned block, for reading back what the file holds around a run. */
      block;
      current = 0;
      refused = false;
      failure;
      /** End of the furthest data sent to the file so far: beyond it, the file holds only zeros. */
      dataEnd = 0;
      /** File offset of the first staged byte. */
      stagedAt = 0;
      /** Where in the current stage the first staged byte sits: stagedAt modulo DIRECT_ALIGN. */
      stageOffset = 0;
      stagedBytes = 0;
      /**
       * A second descriptor with O_DIRECT on the file that `fallback` writes, or undefined where the
       * filesystem or the process cannot do direct I/O (then the page cache does it all).
       */
      static open(path, fallback) {
        const memory = pageAlignedBuffer(MEMORY_SIZE);
        if (!memory) return void 0;
        let fd;
        try {
          fd = openSync2(path, constants.O_RDWR | constants.O_DIRECT);
        } catch {
          return void 0;
        }
        return new _DirectWrites(fd, memory, fallback);
      }
      /** Takes buf[start, end) for file offset `position`; buf may be reused once this resolves. */
      async write(buf, start, end, position) {
        this.throwIfFailed();
        if (this.refused) {
          await this.writeThroughPageCache(buf, start, end, position);
          return;
        }
        while (start < end) {
          const stageFull = this.stageOffset + this.stagedBytes === STAGE_SIZE2;
          if (this.stagedBytes > 0 && (stageFull || position !== this.stagedAt + this.stagedBytes)) await this.flush();
          if (this.stagedBytes === 0) {
            this.stagedAt = position;
            this.stageOffset = position % DIRECT_ALIGN;
          }
          const take = Math.min(end - start, STAGE_SIZE2 - this.stageOffset - this.stagedBytes);
          buf.copy(this.stages[this.current].buf, this.stageOffset + this.stagedBytes, start, start + take);
          this.stagedBytes += take;
          start += take;
          position += take;
        }
      }
      /** Writes everything staged and waits for it; call before the final fsync. */
      async finish() {
        if (this.stagedBytes > 0) await this.flush();
        await this.settle();
        this.throwIfFailed();
      }
      /** Waits for the writes in flight, whatever their outcome. */
      async settle() {
        await Promise.all(this.stages.map((stage) => stage.writing));
      }
      /** Closes the descriptor, once; settle() first, so that no write in flight outlives it. */
      close() {
        closeSync2(this.directFd);
      }
      throwIfFailed() {
        if (this.failure !== void 0) throw this.failure;
      }
      /**
       * Sends the staged run on its way as one write of whole blocks: a partial block at either end
       * (a full stage ends aligned, so only a run's true ends are partial) is filled out with what the
       * file holds around the run. Then waits until the next stage's previous write is done, so that
       * it is free to fill.
       */
      async flush() {
        const stage = this.stages[this.current];
        const from = this.stageOffset;
        const to = from + this.stagedBytes;
        const blocksEnd = Math.ceil(to / DIRECT_ALIGN) * DIRECT_ALIGN;
        const runAt = this.stagedAt;
        const runEnd = runAt + this.stagedBytes;
        if (from > 0 && !this.refused) await this.fillAround(stage.buf, 0, from, runAt - from);
        if (blocksEnd > to && !this.refused) await this.fillAround(stage.buf, to, blocksEnd, runEnd);
        this.stagedBytes = 0;
        if (this.refused) {
          await this.writeThroughPageCache(stage.buf, from, to, runAt);
          return;
        }
        this.dataEnd = Math.max(this.dataEnd, runEnd);
        stage.writing = this.writeDirect(stage.buf, from, to, blocksEnd, runAt - from).then(
          (direct) => {
            this.bytes += direct;
          },
          (error) => {
            this.failure ??= error;
          }
        );
        this.current = (this.current + 1) % STAGE_COUNT;
        await this.stages[this.current].writing;
        this.throwIfFailed();
      }
      /**
       * Puts into buf[start, end) what the file holds at `position` and on (all within one block):
       * zeros when no data was written that far yet, else the block read back directly, once every
       * write in flight has landed.
       */
      async fillAround(buf, start, end, position) {
        if (position >= this.dataEnd) {
          buf.fill(0, start, end);
          return;
        }
        await this.settle();
        this.throwIfFailed();
        const blockAt = position - position % DIRECT_ALIGN;
        let bytesRead;
        try {
          ({ bytesRead } = await readAsync(this.directFd, this.block, 0, DIRECT_ALIGN, blockAt));
        } catch (error) {
          if (errnoCode(error) !== "EINVAL") throw error;
          this.refused = true;
          return;
        }
        this.block.fill(0, bytesRead);
        this.block.copy(buf, start, position - blockAt, position - blockAt + (end - start));
      }
      /**
       * Past a refusal, data goes through the page cache as it comes, without filling; but only once
       * the direct writes in flight have landed, or one of them could put its filling over it.
       */
      async writeThroughPageCache(buf, start, end, position) {
        await this.settle();
        this.throwIfFailed();
        this.fallback.write(buf, start, end, position);
      }
      /**
       * Writes the whole blocks buf[0, blocksEnd) at file offset `at`, of which buf[from, to) is data
       * and the rest filling. Returns how many data bytes went out directly. What a refused or short
       * write leaves goes through the page cache, data only: the filling is what the file holds there
       * already, and writing it again could cover data that a later write has put there meanwhile.
       */
      async writeDirect(buf, from, to, blocksEnd, at) {
        let done = 0;
        while (done < blocksEnd && !this.refused) {
          let written;
          try {
            ({ bytesWritten: written } = await writeAsync(this.directFd, buf, done, blocksEnd - done, at + done));
          } catch (error) {
            if (errnoCode(error) !== "EINVAL") throw error;
            this.refused = true;
            break;
          }
          if (written === 0) throw new Error(`direct write at offset ${at + done} made no progress`);
          done += written;
          if (written % DIRECT_ALIGN !== 0) break;
        }
        const rest = Math.max(done, from);
        if (rest < to) this.fallback.write(buf, rest, to, at + rest);
        return Math.max(0, Math.min(done, to) - from);
      }
    };
  }
});

// src/core/extract/write/page-cache-writes.ts
import { fdatasync, writeSync } from "node:fs";
import { promisify as promisify3 } from "node:util";
function writeFully(fd, buf, start, end, position) {
  let done = 0;
  const length = end - start;
  while (done < length) {
    const written = writeSync(fd, buf, start + done, length - done, position + done);
    if (written === 0) throw new Error(`write at offset ${position + done} made no progress`);
    done += written;
  }
}
var fdatasyncAsync, FLUSH_EVERY, PageCacheWrites;
var init_page_cache_writes = __esm({
  "src/core/extract/write/page-cache-writes.ts"() {
    "use strict";
    fdatasyncAsync = promisify3(fdatasync);
    FLUSH_EVERY = 32 * 1024 * 1024;
    PageCacheWrites = class {
      constructor(fd) {
        this.fd = fd;
      }
      fd;
      /** Bytes written (data, not holes): what the background flushes are paced by. */
      bytes = 0;
      flushedUpTo = 0;
      flushing;
      flushFailure;
      write(buf, start, end, position) {
        if (this.flushFailure !== void 0) throw this.flushFailure;
        writeFully(this.fd, buf, start, end, position);
        this.bytes += end - start;
        if (!this.flushing && this.bytes - this.flushedUpTo >= FLUSH_EVERY) this.startFlush();
      }
      /** Waits for the background flush in flight and reports its failure. */
      async settle() {
        await this.flushing;
        if (this.flushFailure !== void 0) throw this.flushFailure;
      }
      startFlush() {
        this.flushedUpTo = this.bytes;
        this.flushing = fdatasyncAsync(this.fd).then(
          () => {
            this.flushing = void 0;
          },
          (error) => {
            this.flushFailure ??= error;
            this.flushing = void 0;
          }
        );
      }
    };
  }
});

// src/core/extract/zero-blocks.ts
function isZero(buf, start, end) {
  if (buf[start] !== 0 || buf[end - 1] !== 0 || buf[start + end >>> 1] !== 0) return false;
  for (let at = start; at < end; at += ZERO_SPAN) {
    const stop = Math.min(end, at + ZERO_SPAN);
    if (ZEROS.compare(buf, at, stop, 0, stop - at) !== 0) return false;
  }
  return true;
}
var ZERO_SPAN, ZEROS;
var init_zero_blocks = __esm({
  "src/core/extract/zero-blocks.ts"() {
    "use strict";
    ZERO_SPAN = 64 * 1024;
    ZEROS = Buffer.alloc(ZERO_SPAN);
  }
});

// src/core/extract/write/sparse-writer.ts
import { closeSync as closeSync3, fsync as fsync2, ftruncateSync as ftruncateSync2, openSync as openSync3, unlinkSync as unlinkSync2 } from "node:fs";
import { promisify as promisify4 } from "node:util";
var HOLE_BLOCK, fsyncAsync2, DIRECT_MIN_LENGTH, SparseWriter;
var init_sparse_writer = __esm({
  "src/core/extract/write/sparse-writer.ts"() {
    "use strict";
    init_direct_writes();
    init_page_cache_writes();
    init_zero_blocks();
    init_raw_digest();
    HOLE_BLOCK = 4096;
    fsyncAsync2 = promisify4(fsync2);
    DIRECT_MIN_LENGTH = 1024 * 1024;
    SparseWriter = class _SparseWriter {
      constructor(path, fd, signal, directIo) {
        this.path = path;
        this.fd = fd;
        this.signal = signal;
        this.pageCache = new PageCacheWrites(fd);
        this.direct = directIo ? DirectWrites.open(path, this.pageCache) : void 0;
      }
      path;
      fd;
      signal;
      closed = false;
      pageCache;
      direct;
      wroteData = false;
      /** Hashes the data as it passes; dropped if writes come out of order (then the file is hashed). */
      digest = new RawDigest();
      /** The raw digest of the finished file (see raw-digest.ts); set by finish(). */
      rawDigest = "";
      /**
       * Creates `path` exclusively (it must not exist), mode 0600 until the caller publishes it. Every
       * format's data passes through write(), so that is where a fired `signal` stops the extraction.
       */
      static async create(path, options = {}) {
        return new _SparseWriter(path, openSync3(path, "wx", 384), options.signal, options.directIo ?? true);
      }
      /** Data bytes written, by way: past the page cache, and through it. */
      get writtenBytes() {
        return { direct: this.direct?.bytes ?? 0, pageCache: this.pageCache.bytes };
      }
      async write(buf, position) {
        this.signal?.throwIfAborted();
        this.wroteData = true;
        if (this.digest?.accepts(position)) this.digest.update(buf, position);
        else this.digest = void 0;
        let runStart = -1;
        let at = 0;
        while (at < buf.length) {
          const next = Math.min(buf.length, at + HOLE_BLOCK - (position + at) % HOLE_BLOCK);
          if (isZero(buf, at, next)) {
            if (runStart >= 0) await this.writeRun(buf, runStart, at, position + runStart);
            runStart = -1;
          } else if (runStart < 0) {
            runStart = at;
          }
          at = next;
        }
        if (runStart >= 0) await this.writeRun(buf, runStart, buf.length, position + runStart);
      }
      /**
       * Sets the file's length before its data arrives, for callers that know it. ext4 places the
       * blocks of a file shorter than 16 blocks from a per-CPU pool rather than next to the blocks it
       * already has, so direct writes that reach a still-short file from pool threads on different CPUs
       * can leave it in more extents than GNU tar's (and an extent block more on disk); a file that is
       * already long gets its blocks next to each other. A file that will stay short goes through the
       * page cache, whose writeback allocates it in one piece, as it does for GNU tar.
       */
      setLength(size) {
        try {
          ftruncateSync2(this.fd, size);
        } catch {
        }
        if (size < DIRECT_MIN_LENGTH && this.direct && !this.wroteData) {
          this.direct.close();
          this.direct = void 0;
        }
      }
      /** Sets the final length (trailing holes included) and makes the file durable. */
      async finish(size) {
        await this.direct?.finish();
        await this.pageCache.settle();
        ftruncateSync2(this.fd, size);
        await fsyncAsync2(this.fd);
        this.close();
        this.rawDigest = this.digest ? this.digest.finish(size) : await computeRawDigest(this.path, this.signal);
      }
      /** Closes and removes the partial file; never throws, because it runs on error paths. */
      async discard() {
        await this.direct?.settle();
        await this.pageCache.settle().catch(() => void 0);
        try {
          this.close();
        } catch {
        }
        try {
          unlinkSync2(this.path);
        } catch {
        }
      }
      close() {
        if (this.closed) return;
        this.closed = true;
        try {
          this.direct?.close();
        } finally {
          closeSync3(this.fd);
        }
      }
      async writeRun(buf, start, end, position) {
        if (this.direct) await this.direct.write(buf, start, end, position);
        else this.pageCache.write(buf, start, end, position);
      }
    };
  }
});

// src/core/extract/tar.ts
async function extractTarMember(chunks, member, writer, source, signal) {
  const archive = new ArchiveReader(chunks, source, signal);
  try {
    const wanted = requestedKey(member, archive);
    const seen = new SeenMembers();
    let found;
    for (let entry = await nextEntry(archive); entry; entry = await nextEntry(archive)) {
      if (!isWanted(entry, wanted, archive)) {
        seen.add(entry.name);
        await new EntryData(archive, entry.name, entry.dataSize).finish();
        continue;
      }
      if (found) {
        throw archive.error(`member '${member}' appears more than once in the archive (at bytes ${found.at} and ${entry.at})`);
      }
      found = { result: await extractEntry(archive, entry, writer), at: entry.at };
    }
    await archive.drain();
    if (!found) throw archive.error(`member '${member}' not found in the archive (${seen.describe()})`);
    return found.result;
  } catch (error) {
    await archive.abandon();
    throw error;
  }
}
async function nextEntry(archive) {
  const metadata = { pax: [] };
  let metadataAt;
  for (; ; ) {
    const at = archive.position;
    const block = await archive.read(BLOCK);
    if (block.length === 0 || block.length === BLOCK && block.equals(ZERO_BLOCK)) {
      if (metadataAt === void 0) return void 0;
      throw archive.error(`broken tar: the archive ends after the extended header at byte ${metadataAt}, without the member it describes`);
    }
    if (block.length < BLOCK) {
      throw archive.error(at === 0 ? `not a tar archive (only ${block.length} bytes long)` : `broken tar: archive ends inside a header at byte ${at}`);
    }
    const header = parseHeader(block, at, archive);
    switch (header.type) {
      case "L":
        metadata.longName = cString(await readMetadata(archive, header));
        break;
      case "K":
        metadata.longLink = cString(await readMetadata(archive, header));
        break;
      case "x":
        metadata.pax = metadata.pax.concat(parsePaxRecords(await readMetadata(archive, header), header, archive));
        break;
      case "g":
        await new EntryData(archive, header.name, header.size).finish();
        continue;
      default:
        return buildEntry(archive, header, metadata);
    }
    metadataAt ??= at;
  }
}
function parseHeader(block, at, archive) {
  verifyChecksum(block, at, archive);
  const name = cString(field(block, NAME));
  const prefix = field(block, MAGIC).toString("latin1") === "ustar\0" ? cString(field(block, PREFIX)) : "";
  return {
    name: prefix ? `${prefix}/${name}` : name,
    linkName: cString(field(block, LINKNAME)),
    type: block[TYPEFLAG] === 0 ? "0" : String.fromCharCode(block[TYPEFLAG]),
    size: readNumber(block, SIZE, "size", at, archive),
    at,
    block
  };
}
function verifyChecksum(block, at, archive) {
  const [start, length] = CHECKSUM;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= start && i < start + length ? 32 : block[i];
    unsigned += byte;
    signed += byte < 128 ? byte : byte - 256;
  }
  const recorded = /^ *([0-7]+)(?:[ \0]|$)/.exec(field(block, CHECKSUM).toString("latin1"));
  const sum = recorded ? Number.parseInt(recorded[1], 8) : NaN;
  if (sum === unsigned || sum === signed) return;
  const reason = `header checksum mismatch at byte ${at}`;
  throw archive.error(at === 0 ? `not a tar archive (${reason})` : `broken tar: ${reason}`);
}
function readNumber(block, where, what, at, archive) {
  const bytes = field(block, where);
  const invalid = (problem) => archive.error(`broken tar: ${problem} ${what} field in the header at byte ${at}`);
  if (bytes[0] & 128) {
    if (bytes[0] & 64) throw invalid("negative");
    let value = bytes[0] & 63;
    for (let i = 1; i < bytes.length; i++) value = value * 256 + bytes[i];
    if (!Number.isSafeInteger(value)) throw invalid("too large a");
    return value;
  }
  const digits = /^ *([0-7]*)(?:[ \0]|$)/.exec(bytes.toString("latin1"));
  if (!digits) throw invalid("invalid");
  return digits[1] ? Number.parseInt(digits[1], 8) : 0;
}
function field(block, [start, length]) {
  return block.subarray(start, start + length);
}
function cString(bytes) {
  const end = bytes.indexOf(0);
  return bytes.toString("utf8", 0, end < 0 ? bytes.length : end);
}
async function readMetadata(archive, header) {
  if (header.size > MAX_METADATA) {
    throw archive.error(`broken tar: the extended header at byte ${header.at} claims an implausible ${header.size} bytes`);
  }
  const data = new EntryData(archive, header.name, header.size);
  const bytes = await data.read(header.size);
  await data.finish();
  return bytes;
}
function parsePaxRecords(data, header, archive) {
  const records = [];
  for (let at = 0; at < data.length; ) {
    const space = data.indexOf(32, at);
    const length = space > at ? decimal(data.toString("latin1", at, space)) : void 0;
    const end = at + (length ?? 0);
    const equals = data.indexOf(61, space + 1);
    const wellFormed = length !== void 0 && end <= data.length && data[end - 1] === 10 && equals > space && equals < end;
    if (!wellFormed) {
      throw archive.error(`broken tar: malformed PAX record at byte ${at} of the extended header at byte ${header.at}`);
    }
    records.push([data.toString("utf8", space + 1, equals), data.toString("utf8", equals + 1, end - 1)]);
    at = end;
  }
  return records;
}
async function buildEntry(archive, header, metadata) {
  const pax = interpretPax(metadata.pax, header, archive);
  const entry = {
    name: pax.sparseName ?? pax.path ?? metadata.longName ?? header.name,
    linkName: pax.linkPath ?? metadata.longLink ?? header.linkName,
    type: header.type,
    // GNU tar reads no data after hard links and directories, whatever their size field says.
    dataSize: header.type === "1" || header.type === "5" ? 0 : pax.size ?? header.size,
    at: header.at
  };
  if (header.type === "S") entry.sparse = await readOldGnuSparseMap(archive, header);
  else if (pax.sparse && REGULAR_TYPES.has(header.type)) entry.sparse = pax.sparse;
  return entry;
}
function interpretPax(records, header, archive) {
  const fields = {};
  const parse4 = (key, value) => {
    const parsed = decimal(value);
    if (parsed === void 0) throw archive.error(`broken tar: invalid PAX record ${key}=${value} for the member at byte ${header.at}`);
    return parsed;
  };
  const offsets = [];
  const sizes = [];
  let map;
  let realSize;
  let major;
  for (const [key, value] of records) {
    if (value === "") continue;
    switch (key) {
      case "path":
        fields.path = value;
        break;
      case "linkpath":
        fields.linkPath = value;
        break;
      case "size":
        fields.size = parse4(key, value);
        break;
      case "GNU.sparse.name":
        fields.sparseName = value;
        break;
      case "GNU.sparse.size":
      case "GNU.sparse.realsize":
        realSize = parse4(key, value);
        break;
      case "GNU.sparse.major":
        major = value;
        break;
      case "GNU.sparse.offset":
        offsets.push(parse4(key, value));
        break;
      case "GNU.sparse.numbytes":
        sizes.push(parse4(key, value));
        break;
      case "GNU.sparse.map":
        map = value.split(",").map((item) => parse4(key, item));
        break;
    }
  }
  if (major === void 0 && map === void 0 && offsets.length === 0 && realSize === void 0) return fields;
  const broken = (problem) => archive.error(`broken tar: ${problem} in the PAX sparse header of the member at byte ${header.at}`);
  if (major !== void 0 && major !== "0" && major !== "1") throw broken(`unsupported sparse format ${major}`);
  if (realSize === void 0) throw broken("no real size");
  if (major === "1") return { ...fields, sparse: { realSize } };
  if (map === void 0 && offsets.length !== sizes.length) throw broken("unpaired GNU.sparse.offset/numbytes records");
  const pairs = map ?? offsets.flatMap((offset, i) => [offset, sizes[i]]);
  if (pairs.length % 2 !== 0) throw broken("an odd number of values in GNU.sparse.map");
  const regions = [];
  for (let i = 0; i < pairs.length; i += 2) regions.push({ offset: pairs[i], size: pairs[i + 1] });
  return { ...fields, sparse: { realSize, regions } };
}
function decimal(text) {
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(value) ? value : void 0;
}
async function readOldGnuSparseMap(archive, header) {
  const realSize = readNumber(header.block, GNU_REALSIZE, "realsize", header.at, archive);
  const regions = [];
  let block = header.block;
  let at = header.at;
  let slots = SPARSE_IN_HEADER;
  let mapEnded = false;
  for (; ; ) {
    mapEnded ||= collectSparseSlots(block, slots, at, regions, archive);
    if (block[slots.isExtended] === 0) return { realSize, regions };
    at = archive.position;
    block = await archive.read(BLOCK);
    if (block.length < BLOCK) throw archive.error(`broken tar: archive ends inside the sparse map of member '${header.name}'`);
    slots = SPARSE_IN_EXTENSION;
  }
}
function collectSparseSlots(block, slots, at, regions, archive) {
  for (let i = 0; i < slots.count; i++) {
    const offsetField = slots.start + i * 24;
    if (block[offsetField + 12] === 0) return true;
    regions.push({
      offset: readNumber(block, [offsetField, 12], "sparse offset", at, archive),
      size: readNumber(block, [offsetField + 12, 12], "sparse numbytes", at, archive)
    });
  }
  return false;
}
async function readSparseMapFromData(data, entry, archive) {
  const broken = (problem) => archive.error(`broken tar: ${problem} in the sparse map of member '${entry.name}'`);
  const numbers = [];
  let wanted = 1;
  let partial = "";
  while (numbers.length < wanted) {
    if (data.remaining < BLOCK) throw broken("the map runs past the member data");
    const lines = (partial + (await data.read(BLOCK)).toString("latin1")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (numbers.length === wanted) break;
      const value = decimal(line);
      if (value === void 0) throw broken(`'${line.slice(0, 40)}' is not a number`);
      numbers.push(value);
      if (numbers.length === 1) wanted = 1 + 2 * value;
    }
    if (numbers.length < wanted && partial.length > MAX_DECIMAL_DIGITS) throw broken("a line is too long");
  }
  const regions = [];
  for (let i = 1; i < numbers.length; i += 2) regions.push({ offset: numbers[i], size: numbers[i + 1] });
  return regions;
}
function checkSparseMap(regions, realSize, storedSize, entry, archive) {
  const broken = (problem) => archive.error(`broken tar: the sparse map of member '${entry.name}' ${problem}`);
  let end = 0;
  let stored = 0;
  for (const region of regions) {
    if (region.offset < end) throw broken(`has regions out of order or overlapping (offset ${region.offset} after data up to ${end})`);
    end = region.offset + region.size;
    stored += region.size;
    if (end > realSize) throw broken(`reaches byte ${end}, beyond the member's size of ${realSize} bytes`);
  }
  if (stored !== storedSize) throw broken(`covers ${stored} bytes but the archive stores ${storedSize}`);
}
function memberKey(name) {
  const segments = name.split("/");
  const lastParent = segments.lastIndexOf("..");
  return {
    key: segments.slice(lastParent + 1).filter((segment) => segment !== "" && segment !== ".").join("/"),
    unsafe: name.startsWith("/") || lastParent >= 0
  };
}
function requestedKey(member, archive) {
  const { key, unsafe } = memberKey(member);
  if (unsafe) throw archive.error(`member '${member}' has an unsafe path (absolute or containing '..')`);
  if (key === "") throw archive.error(`member name '${member}' names no file`);
  return key;
}
function isWanted(entry, wanted, archive) {
  const { key, unsafe } = memberKey(entry.name);
  if (key !== wanted) return false;
  if (unsafe) throw archive.error(`member '${entry.name}' has an unsafe path (absolute or containing '..')`);
  return true;
}
async function extractEntry(archive, entry, writer) {
  rejectNonRegular(entry, archive);
  const data = new EntryData(archive, entry.name, entry.dataSize);
  const toWriter = (base) => (piece, offset) => writer.write(piece, base + offset);
  if (!entry.sparse) {
    writer.setLength(entry.dataSize);
    await data.pipe(entry.dataSize, toWriter(0));
    await data.finish();
    return { size: entry.dataSize };
  }
  const { realSize } = entry.sparse;
  const regions = entry.sparse.regions ?? await readSparseMapFromData(data, entry, archive);
  checkSparseMap(regions, realSize, data.remaining, entry, archive);
  writer.setLength(realSize);
  for (const region of regions) await data.pipe(region.size, toWriter(region.offset));
  await data.finish();
  return { size: realSize };
}
function rejectNonRegular(entry, archive) {
  if (REGULAR_TYPES.has(entry.type)) return;
  const kind = TYPE_NAMES[entry.type] ?? `an entry of unknown type '${entry.type}'`;
  const target = entry.type === "1" || entry.type === "2" ? ` to '${entry.linkName}'` : "";
  throw archive.error(`member '${entry.name}' is ${kind}${target}, expected a regular file`);
}
var BLOCK, ZERO_BLOCK, EMPTY, MAX_METADATA, MAX_LISTED_MEMBERS, MAX_DECIMAL_DIGITS, NAME, SIZE, CHECKSUM, TYPEFLAG, LINKNAME, MAGIC, PREFIX, GNU_REALSIZE, SPARSE_IN_HEADER, SPARSE_IN_EXTENSION, REGULAR_TYPES, TYPE_NAMES, ArchiveReader, EntryData, SeenMembers;
var init_tar = __esm({
  "src/core/extract/tar.ts"() {
    "use strict";
    init_errors();
    BLOCK = 512;
    ZERO_BLOCK = Buffer.alloc(BLOCK);
    EMPTY = Buffer.alloc(0);
    MAX_METADATA = 64 * 1024 * 1024;
    MAX_LISTED_MEMBERS = 10;
    MAX_DECIMAL_DIGITS = 16;
    NAME = [0, 100];
    SIZE = [124, 12];
    CHECKSUM = [148, 8];
    TYPEFLAG = 156;
    LINKNAME = [157, 100];
    MAGIC = [257, 6];
    PREFIX = [345, 155];
    GNU_REALSIZE = [483, 12];
    SPARSE_IN_HEADER = { start: 386, count: 4, isExtended: 482 };
    SPARSE_IN_EXTENSION = { start: 0, count: 21, isExtended: 504 };
    REGULAR_TYPES = /* @__PURE__ */ new Set(["0", "7", "S"]);
    TYPE_NAMES = {
      "1": "a hard link",
      "2": "a symbolic link",
      "3": "a character device",
      "4": "a block device",
      "5": "a directory",
      "6": "a FIFO",
      D: "a directory",
      M: "the continuation of a multi-volume member",
      V: "a volume label"
    };
    ArchiveReader = class {
      /** `signal` is checked for every chunk: members before and after the wanted one are read without a single write. */
      constructor(chunks, source, signal) {
        this.source = source;
        this.signal = signal;
        this.iterator = chunks[Symbol.asyncIterator]();
      }
      source;
      signal;
      /** Archive offset of the next unread byte. */
      position = 0;
      chunk = EMPTY;
      ended = false;
      iterator;
      error(reason) {
        return new SourceError(this.source, reason);
      }
      /** Up to `max` bytes without copying; empty only at the end of the stream. */
      async take(max) {
        if (this.chunk.length === 0 && !await this.advance()) return EMPTY;
        const piece = this.chunk.subarray(0, max);
        this.chunk = this.chunk.subarray(piece.length);
        this.position += piece.length;
        return piece;
      }
      /**
       * Exactly `length` bytes, or fewer at the end of the stream. Always a copy: the producer may reuse
       * a chunk's buffer once the next chunk is requested, and what read() returns (headers, maps) is
       * kept longer than that.
       * Only pipe() hands out slices, and its sink is done with each one before the next is taken.
       */
      async read(length) {
        const out = Buffer.allocUnsafe(length);
        let got = 0;
        while (got < length) {
          const piece = await this.take(length - got);
          if (piece.length === 0) break;
          got += piece.copy(out, got);
        }
        return out.subarray(0, got);
      }
      /** Reads to the end, so that the producer still checks (e.g. decompresses) everything after the archive. */
      async drain() {
        do {
          this.position += this.chunk.length;
          this.chunk = EMPTY;
        } while (await this.advance());
      }
      /** Lets the producer release its file when we stop early. Its own failure would hide the error that stopped us. */
      async abandon() {
        if (this.ended) return;
        this.ended = true;
        try {
          await this.iterator.return?.();
        } catch {
        }
      }
      async advance() {
        this.signal?.throwIfAborted();
        while (!this.ended) {
          const next = await this.iterator.next();
          if (next.done) {
            this.ended = true;
          } else if (next.value.length > 0) {
            this.chunk = next.value;
            return true;
          }
        }
        return false;
      }
    };
    EntryData = class {
      constructor(archive, name, size) {
        this.archive = archive;
        this.name = name;
        this.size = size;
      }
      archive;
      name;
      size;
      consumed = 0;
      get remaining() {
        return this.size - this.consumed;
      }
      /** Hands the next `length` bytes to `sink` as slices of the chunks, each with its offset within those bytes. */
      async pipe(length, sink) {
        let done = 0;
        while (done < length) {
          const piece = await this.archive.take(length - done);
          if (piece.length === 0) throw this.truncated();
          if (sink) await sink(piece, done);
          done += piece.length;
          this.consumed += piece.length;
        }
      }
      async read(length) {
        const bytes = await this.archive.read(length);
        this.consumed += bytes.length;
        if (bytes.length < length) throw this.truncated();
        return bytes;
      }
      /** Skips the rest of the data and the padding, leaving the archive at the next header. */
      async finish() {
        await this.pipe(this.remaining);
        const padding = (BLOCK - this.size % BLOCK) % BLOCK;
        if ((await this.archive.read(padding)).length < padding) {
          throw this.archive.error(`broken tar: archive ends inside the padding after member '${this.name}'`);
        }
      }
      truncated() {
        return this.archive.error(`broken tar: archive ends inside member '${this.name}' (got ${this.consumed} of ${this.size} bytes)`);
      }
    };
    SeenMembers = class {
      names = [];
      count = 0;
      add(name) {
        this.count++;
        if (this.names.length < MAX_LISTED_MEMBERS) this.names.push(name);
      }
      describe() {
        if (this.count === 0) return "the archive has no members";
        const more = this.count - this.names.length;
        return `members seen: ${this.names.join(", ")}${more > 0 ? `, and ${more} more` : ""}`;
      }
    };
  }
});

// src/core/extract/index.ts
import { constants as constants2 } from "node:fs";
import { copyFile, open as open6, rm } from "node:fs/promises";
import { basename } from "node:path";
async function readHead(path, length) {
  const file = await open6(path, "r");
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
function looksLikeTar(head) {
  return head.length >= 263 && head.toString("latin1", 257, 262) === "ustar";
}
function formatInName(path) {
  const name = basename(path).toLowerCase();
  if (/\.(tar\.zst|tzst)$/.test(name)) return "tar+zstd";
  if (name.endsWith(".zst")) return "zstd";
  if (name.endsWith(".tar")) return "tar";
  return void 0;
}
async function detectFormat(path) {
  let head;
  try {
    head = await readHead(path, 512);
  } catch (error) {
    throw new SourceError(path, `cannot read the source image: ${error.message}`, { cause: error });
  }
  const zstd = startsWithZstdFrame(head);
  if (head.subarray(0, 4).equals(QCOW2_MAGIC)) {
    throw new SourceError(path, "is a qcow2 image; basecow bases are raw: convert it first with `qemu-img convert -O raw`");
  }
  switch (formatInName(path)) {
    case "tar+zstd":
      if (!zstd) throw new SourceError(path, "the name says .tar.zst but the file does not start with a zstd frame");
      return "tar+zstd";
    case "zstd":
      if (!zstd) throw new SourceError(path, "the name says .zst but the file does not start with a zstd frame");
      return "zstd";
    case "tar":
      if (!looksLikeTar(head)) throw new SourceError(path, "the name says .tar but the file has no tar header");
      return "tar";
  }
  if (zstd) return "zstd";
  if (looksLikeTar(head)) return "tar";
  return "raw";
}
async function extractToRaw(source, dest, options = {}) {
  const format = await detectFormat(source);
  if (format === "raw") {
    const size = await tryReflink(source, dest);
    if (size !== void 0) {
      try {
        return { format, size, written: { direct: 0, pageCache: 0 }, rawDigest: await computeRawDigest(dest, options.signal), workers: 0 };
      } catch (error) {
        await rm(dest, { force: true });
        throw error;
      }
    }
  }
  if (format === "zstd") {
    const parallel = await extractParallel(source, dest, options);
    if (parallel) return parallel;
  }
  const writer = await SparseWriter.create(dest, { signal: options.signal, directIo: options.directIo });
  try {
    const size = await writeFormat(format, source, writer, options);
    await writer.finish(size);
    await refuseQcow2(source, dest);
    return { format, size, written: writer.writtenBytes, rawDigest: writer.rawDigest, workers: format === "zstd" || format === "tar+zstd" ? 1 : 0 };
  } catch (error) {
    await writer.discard();
    if (options.signal?.aborted) throw options.signal.reason;
    throw explainWriteError(source, dest, error, format);
  }
}
async function refuseQcow2(source, dest) {
  if ((await readHead(dest, 4)).equals(QCOW2_MAGIC)) {
    throw new SourceError(source, "holds a qcow2 image, not a raw disk; convert it first with `qemu-img convert -O raw` and compress that");
  }
}
async function extractParallel(source, dest, options) {
  let plan;
  try {
    plan = await planParallel(source);
  } catch (error) {
    throw explainWriteError(source, dest, error, "zstd");
  }
  if (!plan) return void 0;
  const workers = workerCount(plan, options.maxWorkers);
  try {
    const result = await decodeParallel(source, dest, plan, workers, options);
    await refuseQcow2(source, dest).catch(async (error) => {
      await rm(dest, { force: true });
      throw error;
    });
    return { format: "zstd", size: result.size, written: result.written, rawDigest: result.rawDigest, workers: result.workers };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw explainWriteError(source, dest, error, "zstd");
  }
}
async function writeFormat(format, source, writer, options) {
  const member = options.member ?? DEFAULT_MEMBER;
  switch (format) {
    case "raw":
      return writeAll(readChunks(source, options.onRead), writer);
    case "zstd":
      return writeAll(new ZstdStream(source, options.onRead), writer);
    case "tar":
      return (await extractTarMember(readChunks(source, options.onRead), member, writer, source, options.signal)).size;
    case "tar+zstd":
      return (await extractTarMember(new ZstdStream(source, options.onRead), member, writer, source, options.signal)).size;
  }
}
async function writeAll(chunks, writer) {
  let position = 0;
  for await (const chunk of chunks) {
    await writer.write(chunk, position);
    position += chunk.length;
  }
  return position;
}
async function tryReflink(source, dest) {
  try {
    await copyFile(source, dest, constants2.COPYFILE_EXCL | constants2.COPYFILE_FICLONE_FORCE);
  } catch (error) {
    if (errnoCode(error) === "EEXIST") throw error;
    return void 0;
  }
  const file = await open6(dest, "r+");
  try {
    await file.sync();
    return (await file.stat()).size;
  } finally {
    await file.close();
  }
}
function explainWriteError(source, dest, error, format) {
  if (error instanceof SourceError) {
    if (format === "raw" || formatInName(source)) return error;
    return new SourceError(source, `${error.reason} (read as ${FORMAT_NAMES[format]} because that is how its content starts; its name does not say)`, { cause: error });
  }
  const code = errnoCode(error);
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new SourceError(source, `no space left on the device holding ${dest} while extracting`, { cause: error });
  }
  return new SourceError(source, `extraction failed: ${error.message}`, { cause: error });
}
var DEFAULT_MEMBER, QCOW2_MAGIC, FORMAT_NAMES;
var init_extract = __esm({
  "src/core/extract/index.ts"() {
    "use strict";
    init_errors();
    init_chunks();
    init_raw_digest();
    init_parallel();
    init_plan();
    init_sparse_writer();
    init_tar();
    init_stream();
    DEFAULT_MEMBER = "disk.img";
    QCOW2_MAGIC = Buffer.from("QFI\xFB", "latin1");
    FORMAT_NAMES = { raw: "a raw disk", zstd: "zstd", tar: "a tar archive", "tar+zstd": "a zstd-compressed tar archive" };
  }
});

// src/core/shared/fs.ts
import { open as open7, stat as stat2 } from "node:fs/promises";
async function pathExists(path) {
  try {
    await stat2(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}
async function isFile(path) {
  try {
    return (await stat2(path)).isFile();
  } catch {
    return false;
  }
}
async function fsyncDir(dir) {
  const handle = await open7(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
var init_fs = __esm({
  "src/core/shared/fs.ts"() {
    "use strict";
    init_errors();
  }
});

// node_modules/graceful-fs/polyfills.js
var require_polyfills = __commonJS({
  "node_modules/graceful-fs/polyfills.js"(exports, module) {
    var constants6 = __require("constants");
    var origCwd = process.cwd;
    var cwd = null;
    var platform = process.env.GRACEFUL_FS_PLATFORM || process.platform;
    process.cwd = function() {
      if (!cwd)
        cwd = origCwd.call(process);
      return cwd;
    };
    try {
      process.cwd();
    } catch (er) {
    }
    if (typeof process.chdir === "function") {
      chdir = process.chdir;
      process.chdir = function(d) {
        cwd = null;
        chdir.call(process, d);
      };
      if (Object.setPrototypeOf) Object.setPrototypeOf(process.chdir, chdir);
    }
    var chdir;
    module.exports = patch;
    function patch(fs) {
      if (constants6.hasOwnProperty("O_SYMLINK") && process.version.match(/^v0\.6\.[0-2]|^v0\.5\./)) {
        patchLchmod(fs);
      }
      if (!fs.lutimes) {
        patchLutimes(fs);
      }
      fs.chown = chownFix(fs.chown);
      fs.fchown = chownFix(fs.fchown);
      fs.lchown = chownFix(fs.lchown);
      fs.chmod = chmodFix(fs.chmod);
      fs.fchmod = chmodFix(fs.fchmod);
      fs.lchmod = chmodFix(fs.lchmod);
      fs.chownSync = chownFixSync(fs.chownSync);
      fs.fchownSync = chownFixSync(fs.fchownSync);
      fs.lchownSync = chownFixSync(fs.lchownSync);
      fs.chmodSync = chmodFixSync(fs.chmodSync);
      fs.fchmodSync = chmodFixSync(fs.fchmodSync);
      fs.lchmodSync = chmodFixSync(fs.lchmodSync);
      fs.stat = statFix(fs.stat);
      fs.fstat = statFix(fs.fstat);
      fs.lstat = statFix(fs.lstat);
      fs.statSync = statFixSync(fs.statSync);
      fs.fstatSync = statFixSync(fs.fstatSync);
      fs.lstatSync = statFixSync(fs.lstatSync);
      if (fs.chmod && !fs.lchmod) {
        fs.lchmod = function(path, mode, cb) {
          if (cb) process.nextTick(cb);
        };
        fs.lchmodSync = function() {
        };
      }
      if (fs.chown && !fs.lchown) {
        fs.lchown = function(path, uid, gid, cb) {
          if (cb) process.nextTick(cb);
        };
        fs.lchownSync = function() {
        };
      }
      if (platform === "win32") {
        fs.rename = typeof fs.rename !== "function" ? fs.rename : (function(fs$rename) {
          function rename4(from, to, cb) {
            var start = Date.now();
            var backoff = 0;
            fs$rename(from, to, function CB(er) {
              if (er && (er.code === "EACCES" || er.code === "EPERM" || er.code === "EBUSY") && Date.now() - start < 6e4) {
                setTimeout(function() {
                  fs.stat(to, function(stater, st) {
                    if (stater && stater.code === "ENOENT")
                      fs$rename(from, to, CB);
                    else
                      cb(er);
                  });
                }, backoff);
                if (backoff < 100)
                  backoff += 10;
                return;
              }
              if (cb) cb(er);
            });
          }
          if (Object.setPrototypeOf) Object.setPrototypeOf(rename4, fs$rename);
          return rename4;
        })(fs.rename);
      }
      fs.read = typeof fs.read !== "function" ? fs.read : (function(fs$read) {
        function read2(fd, buffer, offset, length, position, callback_) {
          var callback;
          if (callback_ && typeof callback_ === "function") {
            var eagCounter = 0;
            callback = function(er, _, __) {
              if (er && er.code === "EAGAIN" && eagCounter < 10) {
                eagCounter++;
                return fs$read.call(fs, fd, buffer, offset, length, position, callback);
              }
              callback_.apply(this, arguments);
            };
          }
          return fs$read.call(fs, fd, buffer, offset, length, position, callback);
        }
        if (Object.setPrototypeOf) Object.setPrototypeOf(read2, fs$read);
        return read2;
      })(fs.read);
      fs.readSync = typeof fs.readSync !== "function" ? fs.readSync : /* @__PURE__ */ (function(fs$readSync) {
        return function(fd, buffer, offset, length, position) {
          var eagCounter = 0;
          while (true) {
            try {
              return fs$readSync.call(fs, fd, buffer, offset, length, position);
            } catch (er) {
              if (er.code === "EAGAIN" && eagCounter < 10) {
                eagCounter++;
                continue;
              }
              throw er;
            }
          }
        };
      })(fs.readSync);
      function patchLchmod(fs2) {
        fs2.lchmod = function(path, mode, callback) {
          fs2.open(
            path,
            constants6.O_WRONLY | constants6.O_SYMLINK,
            mode,
            function(err, fd) {
              if (err) {
                if (callback) callback(err);
                return;
              }
              fs2.fchmod(fd, mode, function(err2) {
                fs2.close(fd, function(err22) {
                  if (callback) callback(err2 || err22);
                });
              });
            }
          );
        };
        fs2.lchmodSync = function(path, mode) {
          var fd = fs2.openSync(path, constants6.O_WRONLY | constants6.O_SYMLINK, mode);
          var threw = true;
          var ret;
          try {
            ret = fs2.fchmodSync(fd, mode);
            threw = false;
          } finally {
            if (threw) {
              try {
                fs2.closeSync(fd);
              } catch (er) {
              }
            } else {
              fs2.closeSync(fd);
            }
          }
          return ret;
        };
      }
      function patchLutimes(fs2) {
        if (constants6.hasOwnProperty("O_SYMLINK") && fs2.futimes) {
          fs2.lutimes = function(path, at, mt, cb) {
            fs2.open(path, constants6.O_SYMLINK, function(er, fd) {
              if (er) {
                if (cb) cb(er);
                return;
              }
              fs2.futimes(fd, at, mt, function(er2) {
                fs2.close(fd, function(er22) {
                  if (cb) cb(er2 || er22);
                });
              });
            });
          };
          fs2.lutimesSync = function(path, at, mt) {
            var fd = fs2.openSync(path, constants6.O_SYMLINK);
            var ret;
            var threw = true;
            try {
              ret = fs2.futimesSync(fd, at, mt);
              threw = false;
            } finally {
              if (threw) {
                try {
                  fs2.closeSync(fd);
                } catch (er) {
                }
              } else {
                fs2.closeSync(fd);
              }
            }
            return ret;
          };
        } else if (fs2.futimes) {
          fs2.lutimes = function(_a, _b, _c, cb) {
            if (cb) process.nextTick(cb);
          };
          fs2.lutimesSync = function() {
          };
        }
      }
      function chmodFix(orig) {
        if (!orig) return orig;
        return function(target, mode, cb) {
          return orig.call(fs, target, mode, function(er) {
            if (chownErOk(er)) er = null;
            if (cb) cb.apply(this, arguments);
          });
        };
      }
      function chmodFixSync(orig) {
        if (!orig) return orig;
        return function(target, mode) {
          try {
            return orig.call(fs, target, mode);
          } catch (er) {
            if (!chownErOk(er)) throw er;
          }
        };
      }
      function chownFix(orig) {
        if (!orig) return orig;
        return function(target, uid, gid, cb) {
          return orig.call(fs, target, uid, gid, function(er) {
            if (chownErOk(er)) er = null;
            if (cb) cb.apply(this, arguments);
          });
        };
      }
      function chownFixSync(orig) {
        if (!orig) return orig;
        return function(target, uid, gid) {
          try {
            return orig.call(fs, target, uid, gid);
          } catch (er) {
            if (!chownErOk(er)) throw er;
          }
        };
      }
      function statFix(orig) {
        if (!orig) return orig;
        return function(target, options, cb) {
          if (typeof options === "function") {
            cb = options;
            options = null;
          }
          function callback(er, stats) {
            if (stats) {
              if (stats.uid < 0) stats.uid += 4294967296;
              if (stats.gid < 0) stats.gid += 4294967296;
            }
            if (cb) cb.apply(this, arguments);
          }
          return options ? orig.call(fs, target, options, callback) : orig.call(fs, target, callback);
        };
      }
      function statFixSync(orig) {
        if (!orig) return orig;
        return function(target, options) {
          var stats = options ? orig.call(fs, target, options) : orig.call(fs, target);
          if (stats) {
            if (stats.uid < 0) stats.uid += 4294967296;
            if (stats.gid < 0) stats.gid += 4294967296;
          }
          return stats;
        };
      }
      function chownErOk(er) {
        if (!er)
          return true;
        if (er.code === "ENOSYS")
          return true;
        var nonroot = !process.getuid || process.getuid() !== 0;
        if (nonroot) {
          if (er.code === "EINVAL" || er.code === "EPERM")
            return true;
        }
        return false;
      }
    }
  }
});

// node_modules/graceful-fs/legacy-streams.js
var require_legacy_streams = __commonJS({
  "node_modules/graceful-fs/legacy-streams.js"(exports, module) {
    var Stream = __require("stream").Stream;
    module.exports = legacy;
    function legacy(fs) {
      return {
        ReadStream,
        WriteStream
      };
      function ReadStream(path, options) {
        if (!(this instanceof ReadStream)) return new ReadStream(path, options);
        Stream.call(this);
        var self = this;
        this.path = path;
        this.fd = null;
        this.readable = true;
        this.paused = false;
        this.flags = "r";
        this.mode = 438;
        this.bufferSize = 64 * 1024;
        options = options || {};
        var keys = Object.keys(options);
        for (var index = 0, length = keys.length; index < length; index++) {
          var key = keys[index];
          this[key] = options[key];
        }
        if (this.encoding) this.setEncoding(this.encoding);
        if (this.start !== void 0) {
          if ("number" !== typeof this.start) {
            throw TypeError("start must be a Number");
          }
          if (this.end === void 0) {
            this.end = Infinity;
          } else if ("number" !== typeof this.end) {
            throw TypeError("end must be a Number");
          }
          if (this.start > this.end) {
            throw new Error("start must be <= end");
          }
          this.pos = this.start;
        }
        if (this.fd !== null) {
          process.nextTick(function() {
            self._read();
          });
          return;
        }
        fs.open(this.path, this.flags, this.mode, function(err, fd) {
          if (err) {
            self.emit("error", err);
            self.readable = false;
            return;
          }
          self.fd = fd;
          self.emit("open", fd);
          self._read();
        });
      }
      function WriteStream(path, options) {
        if (!(this instanceof WriteStream)) return new WriteStream(path, options);
        Stream.call(this);
        this.path = path;
        this.fd = null;
        this.writable = true;
        this.flags = "w";
        this.encoding = "binary";
        this.mode = 438;
        this.bytesWritten = 0;
        options = options || {};
        var keys = Object.keys(options);
        for (var index = 0, length = keys.length; index < length; index++) {
          var key = keys[index];
          this[key] = options[key];
        }
        if (this.start !== void 0) {
          if ("number" !== typeof this.start) {
            throw TypeError("start must be a Number");
          }
          if (this.start < 0) {
            throw new Error("start must be >= zero");
          }
          this.pos = this.start;
        }
        this.busy = false;
        this._queue = [];
        if (this.fd === null) {
          this._open = fs.open;
          this._queue.push([this._open, this.path, this.flags, this.mode, void 0]);
          this.flush();
        }
      }
    }
  }
});

// node_modules/graceful-fs/clone.js
var require_clone = __commonJS({
  "node_modules/graceful-fs/clone.js"(exports, module) {
    "use strict";
    module.exports = clone;
    var getPrototypeOf = Object.getPrototypeOf || function(obj) {
      return obj.__proto__;
    };
    function clone(obj) {
      if (obj === null || typeof obj !== "object")
        return obj;
      if (obj instanceof Object)
        var copy = { __proto__: getPrototypeOf(obj) };
      else
        var copy = /* @__PURE__ */ Object.create(null);
      Object.getOwnPropertyNames(obj).forEach(function(key) {
        Object.defineProperty(copy, key, Object.getOwnPropertyDescriptor(obj, key));
      });
      return copy;
    }
  }
});

// node_modules/graceful-fs/graceful-fs.js
var require_graceful_fs = __commonJS({
  "node_modules/graceful-fs/graceful-fs.js"(exports, module) {
    var fs = __require("fs");
    var polyfills = require_polyfills();
    var legacy = require_legacy_streams();
    var clone = require_clone();
    var util = __require("util");
    var gracefulQueue;
    var previousSymbol;
    if (typeof Symbol === "function" && typeof Symbol.for === "function") {
      gracefulQueue = /* @__PURE__ */ Symbol.for("graceful-fs.queue");
      previousSymbol = /* @__PURE__ */ Symbol.for("graceful-fs.previous");
    } else {
      gracefulQueue = "___graceful-fs.queue";
      previousSymbol = "___graceful-fs.previous";
    }
    function noop() {
    }
    function publishQueue(context, queue2) {
      Object.defineProperty(context, gracefulQueue, {
        get: function() {
          return queue2;
        }
      });
    }
    var debug = noop;
    if (util.debuglog)
      debug = util.debuglog("gfs4");
    else if (/\bgfs4\b/i.test(process.env.NODE_DEBUG || ""))
      debug = function() {
        var m = util.format.apply(util, arguments);
        m = "GFS4: " + m.split(/\n/).join("\nGFS4: ");
        console.error(m);
      };
    if (!fs[gracefulQueue]) {
      queue = global[gracefulQueue] || [];
      publishQueue(fs, queue);
      fs.close = (function(fs$close) {
        function close(fd, cb) {
          return fs$close.call(fs, fd, function(err) {
            if (!err) {
              resetQueue();
            }
            if (typeof cb === "function")
              cb.apply(this, arguments);
          });
        }
        Object.defineProperty(close, previousSymbol, {
          value: fs$close
        });
        return close;
      })(fs.close);
      fs.closeSync = (function(fs$closeSync) {
        function closeSync4(fd) {
          fs$closeSync.apply(fs, arguments);
          resetQueue();
        }
        Object.defineProperty(closeSync4, previousSymbol, {
          value: fs$closeSync
        });
        return closeSync4;
      })(fs.closeSync);
      if (/\bgfs4\b/i.test(process.env.NODE_DEBUG || "")) {
        process.on("exit", function() {
          debug(fs[gracefulQueue]);
          __require("assert").equal(fs[gracefulQueue].length, 0);
        });
      }
    }
    var queue;
    if (!global[gracefulQueue]) {
      publishQueue(global, fs[gracefulQueue]);
    }
    module.exports = patch(clone(fs));
    if (process.env.TEST_GRACEFUL_FS_GLOBAL_PATCH && !fs.__patched) {
      module.exports = patch(fs);
      fs.__patched = true;
    }
    function patch(fs2) {
      polyfills(fs2);
      fs2.gracefulify = patch;
      fs2.createReadStream = createReadStream;
      fs2.createWriteStream = createWriteStream;
      var fs$readFile = fs2.readFile;
      fs2.readFile = readFile6;
      function readFile6(path, options, cb) {
        if (typeof options === "function")
          cb = options, options = null;
        return go$readFile(path, options, cb);
        function go$readFile(path2, options2, cb2, startTime) {
          return fs$readFile(path2, options2, function(err) {
            if (err && (err.code === "EMFILE" || err.code === "ENFILE"))
              enqueue([go$readFile, [path2, options2, cb2], err, startTime || Date.now(), Date.now()]);
            else {
              if (typeof cb2 === "function")
                cb2.apply(this, arguments);
            }
          });
        }
      }
      var fs$writeFile = fs2.writeFile;
      fs2.writeFile = writeFile3;
      function writeFile3(path, data, options, cb) {
        if (typeof options === "function")
          cb = options, options = null;
        return go$writeFile(path, data, options, cb);
        function go$writeFile(path2, data2, options2, cb2, startTime) {
          return fs$writeFile(path2, data2, options2, function(err) {
            if (err && (err.code === "EMFILE" || err.code === "ENFILE"))
              enqueue([go$writeFile, [path2, data2, options2, cb2], err, startTime || Date.now(), Date.now()]);
            else {
              if (typeof cb2 === "function")
                cb2.apply(this, arguments);
            }
          });
        }
      }
      var fs$appendFile = fs2.appendFile;
      if (fs$appendFile)
        fs2.appendFile = appendFile;
      function appendFile(path, data, options, cb) {
        if (typeof options === "function")
          cb = options, options = null;
        return go$appendFile(path, data, options, cb);
        function go$appendFile(path2, data2, options2, cb2, startTime) {
          return fs$appendFile(path2, data2, options2, function(err) {
            if (err && (err.code === "EMFILE" || err.code === "ENFILE"))
              enqueue([go$appendFile, [path2, data2, options2, cb2], err, startTime || Date.now(), Date.now()]);
            else {
              if (typeof cb2 === "function")
                cb2.apply(this, arguments);
            }
          });
        }
      }
      var fs$copyFile = fs2.copyFile;
      if (fs$copyFile)
        fs2.copyFile = copyFile3;
      function copyFile3(src, dest, flags, cb) {
        if (typeof flags === "function") {
          cb = flags;
          flags = 0;
        }
        return go$copyFile(src, dest, flags, cb);
        function go$copyFile(src2, dest2, flags2, cb2, startTime) {
          return fs$copyFile(src2, dest2, flags2, function(err) {
            if (err && (err.code === "EMFILE" || err.code === "ENFILE"))
              enqueue([go$copyFile, [src2, dest2, flags2, cb2], err, startTime || Date.now(), Date.now()]);
            else {
              if (typeof cb2 === "function")
                cb2.apply(this, arguments);
            }
          });
        }
      }
      var fs$readdir = fs2.readdir;
      fs2.readdir = readdir3;
      var noReaddirOptionVersions = /^v[0-5]\./;
      function readdir3(path, options, cb) {
        if (typeof options === "function")
          cb = options, options = null;
        var go$readdir = noReaddirOptionVersions.test(process.version) ? function go$readdir2(path2, options2, cb2, startTime) {
          return fs$readdir(path2, fs$readdirCallback(
            path2,
            options2,
            cb2,
            startTime
          ));
        } : function go$readdir2(path2, options2, cb2, startTime) {
          return fs$readdir(path2, options2, fs$readdirCallback(
            path2,
            options2,
            cb2,
            startTime
          ));
        };
        return go$readdir(path, options, cb);
        function fs$readdirCallback(path2, options2, cb2, startTime) {
          return function(err, files) {
            if (err && (err.code === "EMFILE" || err.code === "ENFILE"))
              enqueue([
                go$readdir,
                [path2, options2, cb2],
                err,
                startTime || Date.now(),
                Date.now()
              ]);
            else {
              if (files && files.sort)
                files.sort();
              if (typeof cb2 === "function")
                cb2.call(this, err, files);
            }
          };
        }
      }
      if (process.version.substr(0, 4) === "v0.8") {
        var legStreams = legacy(fs2);
        ReadStream = legStreams.ReadStream;
        WriteStream = legStreams.WriteStream;
      }
      var fs$ReadStream = fs2.ReadStream;
      if (fs$ReadStream) {
        ReadStream.prototype = Object.create(fs$ReadStream.prototype);
        ReadStream.prototype.open = ReadStream$open;
      }
      var fs$WriteStream = fs2.WriteStream;
      if (fs$WriteStream) {
        WriteStream.prototype = Object.create(fs$WriteStream.prototype);
        WriteStream.prototype.open = WriteStream$open;
      }
      Object.defineProperty(fs2, "ReadStream", {
        get: function() {
          return ReadStream;
        },
        set: function(val) {
          ReadStream = val;
        },
        enumerable: true,
        configurable: true
      });
      Object.defineProperty(fs2, "WriteStream", {
        get: function() {
          return WriteStream;
        },
        set: function(val) {
          WriteStream = val;
        },
        enumerable: true,
        configurable: true
      });
      var FileReadStream = ReadStream;
      Object.defineProperty(fs2, "FileReadStream", {
        get: function() {
          return FileReadStream;
        },
        set: function(val) {
          FileReadStream = val;
        },
        enumerable: true,
        configurable: true
      });
      var FileWriteStream = WriteStream;
      Object.defineProperty(fs2, "FileWriteStream", {
        get: function() {
          return FileWriteStream;
        },
        set: function(val) {
          FileWriteStream = val;
        },
        enumerable: true,
        configurable: true
      });
      function ReadStream(path, options) {
        if (this instanceof ReadStream)
          return fs$ReadStream.apply(this, arguments), this;
        else
          return ReadStream.apply(Object.create(ReadStream.prototype), arguments);
      }
      function ReadStream$open() {
        var that = this;
        open10(that.path, that.flags, that.mode, function(err, fd) {
          if (err) {
            if (that.autoClose)
              that.destroy();
            that.emit("error", err);
          } else {
            that.fd = fd;
            that.emit("open", fd);
            that.read();
          }
        });
      }
      function WriteStream(path, options) {
        if (this instanceof WriteStream)
          return fs$WriteStream.apply(this, arguments), this;
        else
          return WriteStream.apply(Object.create(WriteStream.prototype), arguments);
      }
      function WriteStream$open() {
        var that = this;
        open10(that.path, that.flags, that.mode, function(err, fd) {
          if (err) {
            that.destroy();
            that.emit("error", err);
          } else {
            that.fd = fd;
            that.emit("open", fd);
          }
        });
      }
      function createReadStream(path, options) {
        return new fs2.ReadStream(path, options);
      }
      function createWriteStream(path, options) {
        return new fs2.WriteStream(path, options);
      }
      var fs$open = fs2.open;
      fs2.open = open10;
      function open10(path, flags, mode, cb) {
        if (typeof mode === "function")
          cb = mode, mode = null;
        return go$open(path, flags, mode, cb);
        function go$open(path2, flags2, mode2, cb2, startTime) {
          return fs$open(path2, flags2, mode2, function(err, fd) {
            if (err && (err.code === "EMFILE" || err.code === "ENFILE"))
              enqueue([go$open, [path2, flags2, mode2, cb2], err, startTime || Date.now(), Date.now()]);
            else {
              if (typeof cb2 === "function")
                cb2.apply(this, arguments);
            }
          });
        }
      }
      return fs2;
    }
    function enqueue(elem) {
      debug("ENQUEUE", elem[0].name, elem[1]);
      fs[gracefulQueue].push(elem);
      retry();
    }
    var retryTimer;
    function resetQueue() {
      var now = Date.now();
      for (var i = 0; i < fs[gracefulQueue].length; ++i) {
        if (fs[gracefulQueue][i].length > 2) {
          fs[gracefulQueue][i][3] = now;
          fs[gracefulQueue][i][4] = now;
        }
      }
      retry();
    }
    function retry() {
      clearTimeout(retryTimer);
      retryTimer = void 0;
      if (fs[gracefulQueue].length === 0)
        return;
      var elem = fs[gracefulQueue].shift();
      var fn = elem[0];
      var args = elem[1];
      var err = elem[2];
      var startTime = elem[3];
      var lastTime = elem[4];
      if (startTime === void 0) {
        debug("RETRY", fn.name, args);
        fn.apply(null, args);
      } else if (Date.now() - startTime >= 6e4) {
        debug("TIMEOUT", fn.name, args);
        var cb = args.pop();
        if (typeof cb === "function")
          cb.call(null, err);
      } else {
        var sinceAttempt = Date.now() - lastTime;
        var sinceStart = Math.max(lastTime - startTime, 1);
        var desiredDelay = Math.min(sinceStart * 1.2, 100);
        if (sinceAttempt >= desiredDelay) {
          debug("RETRY", fn.name, args);
          fn.apply(null, args.concat([startTime]));
        } else {
          fs[gracefulQueue].push(elem);
        }
      }
      if (retryTimer === void 0) {
        retryTimer = setTimeout(retry, 0);
      }
    }
  }
});

// node_modules/retry/lib/retry_operation.js
var require_retry_operation = __commonJS({
  "node_modules/retry/lib/retry_operation.js"(exports, module) {
    function RetryOperation(timeouts, options) {
      if (typeof options === "boolean") {
        options = { forever: options };
      }
      this._originalTimeouts = JSON.parse(JSON.stringify(timeouts));
      this._timeouts = timeouts;
      this._options = options || {};
      this._maxRetryTime = options && options.maxRetryTime || Infinity;
      this._fn = null;
      this._errors = [];
      this._attempts = 1;
      this._operationTimeout = null;
      this._operationTimeoutCb = null;
      this._timeout = null;
      this._operationStart = null;
      if (this._options.forever) {
        this._cachedTimeouts = this._timeouts.slice(0);
      }
    }
    module.exports = RetryOperation;
    RetryOperation.prototype.reset = function() {
      this._attempts = 1;
      this._timeouts = this._originalTimeouts;
    };
    RetryOperation.prototype.stop = function() {
      if (this._timeout) {
        clearTimeout(this._timeout);
      }
      this._timeouts = [];
      this._cachedTimeouts = null;
    };
    RetryOperation.prototype.retry = function(err) {
      if (this._timeout) {
        clearTimeout(this._timeout);
      }
      if (!err) {
        return false;
      }
      var currentTime = (/* @__PURE__ */ new Date()).getTime();
      if (err && currentTime - this._operationStart >= this._maxRetryTime) {
        this._errors.unshift(new Error("RetryOperation timeout occurred"));
        return false;
      }
      this._errors.push(err);
      var timeout = this._timeouts.shift();
      if (timeout === void 0) {
        if (this._cachedTimeouts) {
          this._errors.splice(this._errors.length - 1, this._errors.length);
          this._timeouts = this._cachedTimeouts.slice(0);
          timeout = this._timeouts.shift();
        } else {
          return false;
        }
      }
      var self = this;
      var timer = setTimeout(function() {
        self._attempts++;
        if (self._operationTimeoutCb) {
          self._timeout = setTimeout(function() {
            self._operationTimeoutCb(self._attempts);
          }, self._operationTimeout);
          if (self._options.unref) {
            self._timeout.unref();
          }
        }
        self._fn(self._attempts);
      }, timeout);
      if (this._options.unref) {
        timer.unref();
      }
      return true;
    };
    RetryOperation.prototype.attempt = function(fn, timeoutOps) {
      this._fn = fn;
      if (timeoutOps) {
        if (timeoutOps.timeout) {
          this._operationTimeout = timeoutOps.timeout;
        }
        if (timeoutOps.cb) {
          this._operationTimeoutCb = timeoutOps.cb;
        }
      }
      var self = this;
      if (this._operationTimeoutCb) {
        this._timeout = setTimeout(function() {
          self._operationTimeoutCb();
        }, self._operationTimeout);
      }
      this._operationStart = (/* @__PURE__ */ new Date()).getTime();
      this._fn(this._attempts);
    };
    RetryOperation.prototype.try = function(fn) {
      console.log("Using RetryOperation.try() is deprecated");
      this.attempt(fn);
    };
    RetryOperation.prototype.start = function(fn) {
      console.log("Using RetryOperation.start() is deprecated");
      this.attempt(fn);
    };
    RetryOperation.prototype.start = RetryOperation.prototype.try;
    RetryOperation.prototype.errors = function() {
      return this._errors;
    };
    RetryOperation.prototype.attempts = function() {
      return this._attempts;
    };
    RetryOperation.prototype.mainError = function() {
      if (this._errors.length === 0) {
        return null;
      }
      var counts = {};
      var mainError = null;
      var mainErrorCount = 0;
      for (var i = 0; i < this._errors.length; i++) {
        var error = this._errors[i];
        var message = error.message;
        var count = (counts[message] || 0) + 1;
        counts[message] = count;
        if (count >= mainErrorCount) {
          mainError = error;
          mainErrorCount = count;
        }
      }
      return mainError;
    };
  }
});

// node_modules/retry/lib/retry.js
var require_retry = __commonJS({
  "node_modules/retry/lib/retry.js"(exports) {
    var RetryOperation = require_retry_operation();
    exports.operation = function(options) {
      var timeouts = exports.timeouts(options);
      return new RetryOperation(timeouts, {
        forever: options && options.forever,
        unref: options && options.unref,
        maxRetryTime: options && options.maxRetryTime
      });
    };
    exports.timeouts = function(options) {
      if (options instanceof Array) {
        return [].concat(options);
      }
      var opts = {
        retries: 10,
        factor: 2,
        minTimeout: 1 * 1e3,
        maxTimeout: Infinity,
        randomize: false
      };
      for (var key in options) {
        opts[key] = options[key];
      }
      if (opts.minTimeout > opts.maxTimeout) {
        throw new Error("minTimeout is greater than maxTimeout");
      }
      var timeouts = [];
      for (var i = 0; i < opts.retries; i++) {
        timeouts.push(this.createTimeout(i, opts));
      }
      if (options && options.forever && !timeouts.length) {
        timeouts.push(this.createTimeout(i, opts));
      }
      timeouts.sort(function(a, b) {
        return a - b;
      });
      return timeouts;
    };
    exports.createTimeout = function(attempt, opts) {
      var random = opts.randomize ? Math.random() + 1 : 1;
      var timeout = Math.round(random * opts.minTimeout * Math.pow(opts.factor, attempt));
      timeout = Math.min(timeout, opts.maxTimeout);
      return timeout;
    };
    exports.wrap = function(obj, options, methods) {
      if (options instanceof Array) {
        methods = options;
        options = null;
      }
      if (!methods) {
        methods = [];
        for (var key in obj) {
          if (typeof obj[key] === "function") {
            methods.push(key);
          }
        }
      }
      for (var i = 0; i < methods.length; i++) {
        var method = methods[i];
        var original = obj[method];
        obj[method] = function retryWrapper(original2) {
          var op = exports.operation(options);
          var args = Array.prototype.slice.call(arguments, 1);
          var callback = args.pop();
          args.push(function(err) {
            if (op.retry(err)) {
              return;
            }
            if (err) {
              arguments[0] = op.mainError();
            }
            callback.apply(this, arguments);
          });
          op.attempt(function() {
            original2.apply(obj, args);
          });
        }.bind(obj, original);
        obj[method].options = options;
      }
    };
  }
});

// node_modules/retry/index.js
var require_retry2 = __commonJS({
  "node_modules/retry/index.js"(exports, module) {
    module.exports = require_retry();
  }
});

// node_modules/signal-exit/signals.js
var require_signals = __commonJS({
  "node_modules/signal-exit/signals.js"(exports, module) {
    module.exports = [
      "SIGABRT",
      "SIGALRM",
      "SIGHUP",
      "SIGINT",
      "SIGTERM"
    ];
    if (process.platform !== "win32") {
      module.exports.push(
        "SIGVTALRM",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGUSR2",
        "SIGTRAP",
        "SIGSYS",
        "SIGQUIT",
        "SIGIOT"
        // should detect profiler and enable/disable accordingly.
        // see #21
        // 'SIGPROF'
      );
    }
    if (process.platform === "linux") {
      module.exports.push(
        "SIGIO",
        "SIGPOLL",
        "SIGPWR",
        "SIGSTKFLT",
        "SIGUNUSED"
      );
    }
  }
});

// node_modules/signal-exit/index.js
var require_signal_exit = __commonJS({
  "node_modules/signal-exit/index.js"(exports, module) {
    var process2 = global.process;
    var processOk = function(process3) {
      return process3 && typeof process3 === "object" && typeof process3.removeListener === "function" && typeof process3.emit === "function" && typeof process3.reallyExit === "function" && typeof process3.listeners === "function" && typeof process3.kill === "function" && typeof process3.pid === "number" && typeof process3.on === "function";
    };
    if (!processOk(process2)) {
      module.exports = function() {
        return function() {
        };
      };
    } else {
      assert = __require("assert");
      signals = require_signals();
      isWin = /^win/i.test(process2.platform);
      EE = __require("events");
      if (typeof EE !== "function") {
        EE = EE.EventEmitter;
      }
      if (process2.__signal_exit_emitter__) {
        emitter = process2.__signal_exit_emitter__;
      } else {
        emitter = process2.__signal_exit_emitter__ = new EE();
        emitter.count = 0;
        emitter.emitted = {};
      }
      if (!emitter.infinite) {
        emitter.setMaxListeners(Infinity);
        emitter.infinite = true;
      }
      module.exports = function(cb, opts) {
        if (!processOk(global.process)) {
          return function() {
          };
        }
        assert.equal(typeof cb, "function", "a callback must be provided for exit handler");
        if (loaded === false) {
          load();
        }
        var ev = "exit";
        if (opts && opts.alwaysLast) {
          ev = "afterexit";
        }
        var remove = function() {
          emitter.removeListener(ev, cb);
          if (emitter.listeners("exit").length === 0 && emitter.listeners("afterexit").length === 0) {
            unload();
          }
        };
        emitter.on(ev, cb);
        return remove;
      };
      unload = function unload2() {
        if (!loaded || !processOk(global.process)) {
          return;
        }
        loaded = false;
        signals.forEach(function(sig) {
          try {
            process2.removeListener(sig, sigListeners[sig]);
          } catch (er) {
          }
        });
        process2.emit = originalProcessEmit;
        process2.reallyExit = originalProcessReallyExit;
        emitter.count -= 1;
      };
      module.exports.unload = unload;
      emit = function emit2(event, code, signal) {
        if (emitter.emitted[event]) {
          return;
        }
        emitter.emitted[event] = true;
        emitter.emit(event, code, signal);
      };
      sigListeners = {};
      signals.forEach(function(sig) {
        sigListeners[sig] = function listener() {
          if (!processOk(global.process)) {
            return;
          }
          var listeners = process2.listeners(sig);
          if (listeners.length === emitter.count) {
            unload();
            emit("exit", null, sig);
            emit("afterexit", null, sig);
            if (isWin && sig === "SIGHUP") {
              sig = "SIGINT";
            }
            process2.kill(process2.pid, sig);
          }
        };
      });
      module.exports.signals = function() {
        return signals;
      };
      loaded = false;
      load = function load2() {
        if (loaded || !processOk(global.process)) {
          return;
        }
        loaded = true;
        emitter.count += 1;
        signals = signals.filter(function(sig) {
          try {
            process2.on(sig, sigListeners[sig]);
            return true;
          } catch (er) {
            return false;
          }
        });
        process2.emit = processEmit;
        process2.reallyExit = processReallyExit;
      };
      module.exports.load = load;
      originalProcessReallyExit = process2.reallyExit;
      processReallyExit = function processReallyExit2(code) {
        if (!processOk(global.process)) {
          return;
        }
        process2.exitCode = code || /* istanbul ignore next */
        0;
        emit("exit", process2.exitCode, null);
        emit("afterexit", process2.exitCode, null);
        originalProcessReallyExit.call(process2, process2.exitCode);
      };
      originalProcessEmit = process2.emit;
      processEmit = function processEmit2(ev, arg) {
        if (ev === "exit" && processOk(global.process)) {
          if (arg !== void 0) {
            process2.exitCode = arg;
          }
          var ret = originalProcessEmit.apply(this, arguments);
          emit("exit", process2.exitCode, null);
          emit("afterexit", process2.exitCode, null);
          return ret;
        } else {
          return originalProcessEmit.apply(this, arguments);
        }
      };
    }
    var assert;
    var signals;
    var isWin;
    var EE;
    var emitter;
    var unload;
    var emit;
    var sigListeners;
    var loaded;
    var load;
    var originalProcessReallyExit;
    var processReallyExit;
    var originalProcessEmit;
    var processEmit;
  }
});

// node_modules/proper-lockfile/lib/mtime-precision.js
var require_mtime_precision = __commonJS({
  "node_modules/proper-lockfile/lib/mtime-precision.js"(exports, module) {
    "use strict";
    var cacheSymbol = /* @__PURE__ */ Symbol();
    function probe(file, fs, callback) {
      const cachedPrecision = fs[cacheSymbol];
      if (cachedPrecision) {
        return fs.stat(file, (err, stat7) => {
          if (err) {
            return callback(err);
          }
          callback(null, stat7.mtime, cachedPrecision);
        });
      }
      const mtime = new Date(Math.ceil(Date.now() / 1e3) * 1e3 + 5);
      fs.utimes(file, mtime, mtime, (err) => {
        if (err) {
          return callback(err);
        }
        fs.stat(file, (err2, stat7) => {
          if (err2) {
            return callback(err2);
          }
          const precision = stat7.mtime.getTime() % 1e3 === 0 ? "s" : "ms";
          Object.defineProperty(fs, cacheSymbol, { value: precision });
          callback(null, stat7.mtime, precision);
        });
      });
    }
    function getMtime(precision) {
      let now = Date.now();
      if (precision === "s") {
        now = Math.ceil(now / 1e3) * 1e3;
      }
      return new Date(now);
    }
    module.exports.probe = probe;
    module.exports.getMtime = getMtime;
  }
});

// node_modules/proper-lockfile/lib/lockfile.js
var require_lockfile = __commonJS({
  "node_modules/proper-lockfile/lib/lockfile.js"(exports, module) {
    "use strict";
    var path = __require("path");
    var fs = require_graceful_fs();
    var retry = require_retry2();
    var onExit = require_signal_exit();
    var mtimePrecision = require_mtime_precision();
    var locks = {};
    function getLockFile(file, options) {
      return options.lockfilePath || `${file}.lock`;
    }
    function resolveCanonicalPath(file, options, callback) {
      if (!options.realpath) {
        return callback(null, path.resolve(file));
      }
      options.fs.realpath(file, callback);
    }
    function acquireLock(file, options, callback) {
      const lockfilePath = getLockFile(file, options);
      options.fs.mkdir(lockfilePath, (err) => {
        if (!err) {
          return mtimePrecision.probe(lockfilePath, options.fs, (err2, mtime, mtimePrecision2) => {
            if (err2) {
              options.fs.rmdir(lockfilePath, () => {
              });
              return callback(err2);
            }
            callback(null, mtime, mtimePrecision2);
          });
        }
        if (err.code !== "EEXIST") {
          return callback(err);
        }
        if (options.stale <= 0) {
          return callback(Object.assign(new Error("Lock file is already being held"), { code: "ELOCKED", file }));
        }
        options.fs.stat(lockfilePath, (err2, stat7) => {
          if (err2) {
            if (err2.code === "ENOENT") {
              return acquireLock(file, { ...options, stale: 0 }, callback);
            }
            return callback(err2);
          }
          if (!isLockStale(stat7, options)) {
            return callback(Object.assign(new Error("Lock file is already being held"), { code: "ELOCKED", file }));
          }
          removeLock(file, options, (err3) => {
            if (err3) {
              return callback(err3);
            }
            acquireLock(file, { ...options, stale: 0 }, callback);
          });
        });
      });
    }
    function isLockStale(stat7, options) {
      return stat7.mtime.getTime() < Date.now() - options.stale;
    }
    function removeLock(file, options, callback) {
      options.fs.rmdir(getLockFile(file, options), (err) => {
        if (err && err.code !== "ENOENT") {
          return callback(err);
        }
        callback();
      });
    }
    function updateLock(file, options) {
      const lock2 = locks[file];
      if (lock2.updateTimeout) {
        return;
      }
      lock2.updateDelay = lock2.updateDelay || options.update;
      lock2.updateTimeout = setTimeout(() => {
        lock2.updateTimeout = null;
        options.fs.stat(lock2.lockfilePath, (err, stat7) => {
          const isOverThreshold = lock2.lastUpdate + options.stale < Date.now();
          if (err) {
            if (err.code === "ENOENT" || isOverThreshold) {
              return setLockAsCompromised(file, lock2, Object.assign(err, { code: "ECOMPROMISED" }));
            }
            lock2.updateDelay = 1e3;
            return updateLock(file, options);
          }
          const isMtimeOurs = lock2.mtime.getTime() === stat7.mtime.getTime();
          if (!isMtimeOurs) {
            return setLockAsCompromised(
              file,
              lock2,
              Object.assign(
                new Error("Unable to update lock within the stale threshold"),
                { code: "ECOMPROMISED" }
              )
            );
          }
          const mtime = mtimePrecision.getMtime(lock2.mtimePrecision);
          options.fs.utimes(lock2.lockfilePath, mtime, mtime, (err2) => {
            const isOverThreshold2 = lock2.lastUpdate + options.stale < Date.now();
            if (lock2.released) {
              return;
            }
            if (err2) {
              if (err2.code === "ENOENT" || isOverThreshold2) {
                return setLockAsCompromised(file, lock2, Object.assign(err2, { code: "ECOMPROMISED" }));
              }
              lock2.updateDelay = 1e3;
              return updateLock(file, options);
            }
            lock2.mtime = mtime;
            lock2.lastUpdate = Date.now();
            lock2.updateDelay = null;
            updateLock(file, options);
          });
        });
      }, lock2.updateDelay);
      if (lock2.updateTimeout.unref) {
        lock2.updateTimeout.unref();
      }
    }
    function setLockAsCompromised(file, lock2, err) {
      lock2.released = true;
      if (lock2.updateTimeout) {
        clearTimeout(lock2.updateTimeout);
      }
      if (locks[file] === lock2) {
        delete locks[file];
      }
      lock2.options.onCompromised(err);
    }
    function lock(file, options, callback) {
      options = {
        stale: 1e4,
        update: null,
        realpath: true,
        retries: 0,
        fs,
        onCompromised: (err) => {
          throw err;
        },
        ...options
      };
      options.retries = options.retries || 0;
      options.retries = typeof options.retries === "number" ? { retries: options.retries } : options.retries;
      options.stale = Math.max(options.stale || 0, 2e3);
      options.update = options.update == null ? options.stale / 2 : options.update || 0;
      options.update = Math.max(Math.min(options.update, options.stale / 2), 1e3);
      resolveCanonicalPath(file, options, (err, file2) => {
        if (err) {
          return callback(err);
        }
        const operation = retry.operation(options.retries);
        operation.attempt(() => {
          acquireLock(file2, options, (err2, mtime, mtimePrecision2) => {
            if (operation.retry(err2)) {
              return;
            }
            if (err2) {
              return callback(operation.mainError());
            }
            const lock2 = locks[file2] = {
              lockfilePath: getLockFile(file2, options),
              mtime,
              mtimePrecision: mtimePrecision2,
              options,
              lastUpdate: Date.now()
            };
            updateLock(file2, options);
            callback(null, (releasedCallback) => {
              if (lock2.released) {
                return releasedCallback && releasedCallback(Object.assign(new Error("Lock is already released"), { code: "ERELEASED" }));
              }
              unlock(file2, { ...options, realpath: false }, releasedCallback);
            });
          });
        });
      });
    }
    function unlock(file, options, callback) {
      options = {
        fs,
        realpath: true,
        ...options
      };
      resolveCanonicalPath(file, options, (err, file2) => {
        if (err) {
          return callback(err);
        }
        const lock2 = locks[file2];
        if (!lock2) {
          return callback(Object.assign(new Error("Lock is not acquired/owned by you"), { code: "ENOTACQUIRED" }));
        }
        lock2.updateTimeout && clearTimeout(lock2.updateTimeout);
        lock2.released = true;
        delete locks[file2];
        removeLock(file2, options, callback);
      });
    }
    function check2(file, options, callback) {
      options = {
        stale: 1e4,
        realpath: true,
        fs,
        ...options
      };
      options.stale = Math.max(options.stale || 0, 2e3);
      resolveCanonicalPath(file, options, (err, file2) => {
        if (err) {
          return callback(err);
        }
        options.fs.stat(getLockFile(file2, options), (err2, stat7) => {
          if (err2) {
            return err2.code === "ENOENT" ? callback(null, false) : callback(err2);
          }
          return callback(null, !isLockStale(stat7, options));
        });
      });
    }
    function getLocks() {
      return locks;
    }
    onExit(() => {
      for (const file in locks) {
        const options = locks[file].options;
        try {
          options.fs.rmdirSync(getLockFile(file, options));
        } catch (e) {
        }
      }
    });
    module.exports.lock = lock;
    module.exports.unlock = unlock;
    module.exports.check = check2;
    module.exports.getLocks = getLocks;
  }
});

// node_modules/proper-lockfile/lib/adapter.js
var require_adapter = __commonJS({
  "node_modules/proper-lockfile/lib/adapter.js"(exports, module) {
    "use strict";
    var fs = require_graceful_fs();
    function createSyncFs(fs2) {
      const methods = ["mkdir", "realpath", "stat", "rmdir", "utimes"];
      const newFs = { ...fs2 };
      methods.forEach((method) => {
        newFs[method] = (...args) => {
          const callback = args.pop();
          let ret;
          try {
            ret = fs2[`${method}Sync`](...args);
          } catch (err) {
            return callback(err);
          }
          callback(null, ret);
        };
      });
      return newFs;
    }
    function toPromise(method) {
      return (...args) => new Promise((resolve7, reject) => {
        args.push((err, result) => {
          if (err) {
            reject(err);
          } else {
            resolve7(result);
          }
        });
        method(...args);
      });
    }
    function toSync(method) {
      return (...args) => {
        let err;
        let result;
        args.push((_err, _result) => {
          err = _err;
          result = _result;
        });
        method(...args);
        if (err) {
          throw err;
        }
        return result;
      };
    }
    function toSyncOptions(options) {
      options = { ...options };
      options.fs = createSyncFs(options.fs || fs);
      if (typeof options.retries === "number" && options.retries > 0 || options.retries && typeof options.retries.retries === "number" && options.retries.retries > 0) {
        throw Object.assign(new Error("Cannot use retries with the sync api"), { code: "ESYNC" });
      }
      return options;
    }
    module.exports = {
      toPromise,
      toSync,
      toSyncOptions
    };
  }
});

// node_modules/proper-lockfile/index.js
var require_proper_lockfile = __commonJS({
  "node_modules/proper-lockfile/index.js"(exports, module) {
    "use strict";
    var lockfile2 = require_lockfile();
    var { toPromise, toSync, toSyncOptions } = require_adapter();
    async function lock(file, options) {
      const release = await toPromise(lockfile2.lock)(file, options);
      return toPromise(release);
    }
    function lockSync(file, options) {
      const release = toSync(lockfile2.lock)(file, toSyncOptions(options));
      return toSync(release);
    }
    function unlock(file, options) {
      return toPromise(lockfile2.unlock)(file, options);
    }
    function unlockSync(file, options) {
      return toSync(lockfile2.unlock)(file, toSyncOptions(options));
    }
    function check2(file, options) {
      return toPromise(lockfile2.check)(file, options);
    }
    function checkSync(file, options) {
      return toSync(lockfile2.check)(file, toSyncOptions(options));
    }
    module.exports = lock;
    module.exports.lock = lock;
    module.exports.unlock = unlock;
    module.exports.lockSync = lockSync;
    module.exports.unlockSync = unlockSync;
    module.exports.check = check2;
    module.exports.checkSync = checkSync;
  }
});

// src/core/shared/lock.ts
import { randomBytes } from "node:crypto";
import { readFile, rename, rm as rm2, rmdir, writeFile } from "node:fs/promises";
import { basename as basename2, join as join2 } from "node:path";
async function tryLock(lockPath2, timing, scratchDir) {
  let release;
  try {
    release = await import_proper_lockfile.default.lock(lockPath2, {
      // The lock guards a name that does not exist yet, so it cannot be resolved.
      realpath: false,
      lockfilePath: lockPath2,
      stale: timing.staleMs,
      update: Math.max(1e3, Math.floor(timing.staleMs / 4)),
      retries: 0,
      // A late heartbeat alone takes nothing away; a takeover shows in the owner file.
      onCompromised: () => void 0
    });
  } catch (error) {
    if (errnoCode(error) === "ELOCKED") return void 0;
    throw new Error(`cannot take the lock ${lockPath2}: ${error.message}`, { cause: error });
  }
  const token = `${process.pid}-${randomBytes(8).toString("hex")}`;
  const owner = ownerPath(lockPath2);
  const staged = join2(scratchDir, `${basename2(lockPath2)}+${token}.owner`);
  try {
    await writeFile(staged, token);
    await rename(staged, owner);
  } catch (error) {
    await rm2(staged, { force: true }).catch(() => void 0);
    await release().catch(() => void 0);
    throw new Error(`cannot take the lock ${lockPath2}: writing its owner file failed: ${error.message}`, { cause: error });
  }
  const lost = async () => {
    const holder = await readFile(owner, "utf8").catch(() => void 0);
    return holder === token ? void 0 : new Error(`the lock ${lockPath2} was taken over by another process`);
  };
  return {
    lost,
    async release() {
      if (await lost()) return;
      await rm2(owner, { force: true });
      try {
        await release();
      } catch {
        await rmdir(lockPath2).catch(() => void 0);
      }
    }
  };
}
var import_proper_lockfile, DEFAULT_LOCK_TIMING, ownerPath;
var init_lock = __esm({
  "src/core/shared/lock.ts"() {
    "use strict";
    import_proper_lockfile = __toESM(require_proper_lockfile(), 1);
    init_errors();
    DEFAULT_LOCK_TIMING = { staleMs: 1e4, pollMs: 250 };
    ownerPath = (lockPath2) => `${lockPath2}+owner`;
  }
});

// src/core/shared/package-root.ts
import { existsSync, readFileSync } from "node:fs";
import { dirname as dirname2, join as join3 } from "node:path";
import { fileURLToPath } from "node:url";
function packageRoot() {
  if (cached) return cached;
  let dir = dirname2(fileURLToPath(import.meta.url));
  for (; ; ) {
    const manifest = join3(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "basecow") {
      cached = dir;
      return dir;
    }
    const parent = dirname2(dir);
    if (parent === dir) throw new Error(`cannot find basecow's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
var cached;
var init_package_root = __esm({
  "src/core/shared/package-root.ts"() {
    "use strict";
  }
});

// src/core/shared/version.ts
import { readFileSync as readFileSync2 } from "node:fs";
import { join as join4 } from "node:path";
var TOOL_NAME, TOOL_VERSION;
var init_version = __esm({
  "src/core/shared/version.ts"() {
    "use strict";
    init_package_root();
    TOOL_NAME = "basecow";
    TOOL_VERSION = JSON.parse(readFileSync2(join4(packageRoot(), "package.json"), "utf8")).version;
  }
});

// src/core/store/key.ts
function validateKey(key) {
  if (DIGEST_KEY.test(key) || CALLER_KEY.test(key) && key !== "." && key !== "..") return key;
  throw new UsageError(
    `invalid key ${JSON.stringify(key)}: a key is 'sha256-<64 hex>' or 1 to 128 characters of A-Z a-z 0-9 . _ - (and not '.' or '..')`,
    "bad-key",
    { key }
  );
}
var CALLER_KEY, DIGEST_KEY;
var init_key = __esm({
  "src/core/store/key.ts"() {
    "use strict";
    init_errors();
    CALLER_KEY = /^[A-Za-z0-9._-]{1,128}$/;
    DIGEST_KEY = /^sha256-[0-9a-f]{64}$/;
  }
});

// src/core/shared/pid.ts
function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}
var init_pid = __esm({
  "src/core/shared/pid.ts"() {
    "use strict";
    init_errors();
  }
});

// src/core/shared/atomic-write.ts
import { randomBytes as randomBytes2 } from "node:crypto";
import { chmod, open as open8, readdir, rename as rename2, rm as rm3 } from "node:fs/promises";
import { basename as basename3, dirname as dirname3, join as join5 } from "node:path";
function tempNameFor(path) {
  return join5(dirname3(path), `.${basename3(path)}${TEMP_INFIX}${process.pid}-${randomBytes2(4).toString("hex")}`);
}
async function replaceAtomically(path, produce, options = {}) {
  const temp = tempNameFor(path);
  try {
    const result = await produce(temp);
    if (options.mode !== void 0) await chmod(temp, options.mode);
    await rename2(temp, path);
    await fsyncDir(dirname3(path));
    return result;
  } finally {
    await rm3(temp, { force: true });
  }
}
async function writeFileAtomically(path, data, options = {}) {
  await replaceAtomically(
    path,
    async (temp) => {
      const handle = await open8(temp, "wx", options.mode ?? 420);
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
    await rm3(join5(dir, name), { force: true });
    removed.push(join5(dir, name));
  }
  return removed;
}
var TEMP_INFIX;
var init_atomic_write = __esm({
  "src/core/shared/atomic-write.ts"() {
    "use strict";
    init_fs();
    init_pid();
    TEMP_INFIX = ".tmp-";
  }
});

// src/core/store/source-digest.ts
import { createHash as createHash2 } from "node:crypto";
import { mkdir, open as open9, readFile as readFile2, stat as stat3 } from "node:fs/promises";
import { join as join6 } from "node:path";
async function hashFile(path, onRead, signal) {
  const hash = createHash2("sha256");
  const file = await open9(path, "r");
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
    info = await stat3(source, { bigint: true });
  } catch (error) {
    throw new SourceError(source, `cannot read the source image: ${error.message}`, { cause: error });
  }
  if (!info.isFile()) throw new SourceError(source, "is not a regular file");
  return info;
}
async function sourceKey(source, info, memoDir, hooks = {}) {
  const { onRead, signal } = hooks;
  const memoPath = join6(memoDir, `${info.dev}-${info.ino}.json`);
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
    const memo = JSON.parse(await readFile2(path, "utf8"));
    return DIGEST_KEY.test(memo.key) ? memo : void 0;
  } catch {
    return void 0;
  }
}
var HASH_READ_SIZE;
var init_source_digest = __esm({
  "src/core/store/source-digest.ts"() {
    "use strict";
    init_errors();
    init_atomic_write();
    init_key();
    HASH_READ_SIZE = 8 * 1024 * 1024;
  }
});

// src/core/store/local-image.ts
import { resolve as resolve2 } from "node:path";
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
var sameFile;
var init_local_image = __esm({
  "src/core/store/local-image.ts"() {
    "use strict";
    init_errors();
    init_source_digest();
    sameFile = (a, b) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
  }
});

// src/core/store/sidecar.ts
async function writeSidecar(path, sidecar) {
  await writeFileAtomically(path, `${JSON.stringify(sidecar, null, 2)}
`, { mode: 420 });
}
var init_sidecar = __esm({
  "src/core/store/sidecar.ts"() {
    "use strict";
    init_atomic_write();
  }
});

// src/core/store/temp-sweep.ts
import { readdir as readdir2, rm as rm4, stat as stat4 } from "node:fs/promises";
import { basename as basename4, join as join7 } from "node:path";
async function sweepTemps(layout, key, staleMs) {
  const prefix = tempPrefix(key);
  const now = Date.now();
  const names = await readdir2(layout.tmp);
  await Promise.all(
    names.map(async (name) => {
      const owner = /\+(\d+)-[0-9a-f]+\./.exec(name);
      if (!owner) return;
      const path = join7(layout.tmp, name);
      const info = await stat4(path).catch(() => void 0);
      if (!info) return;
      const idle = now - info.mtimeMs;
      const dead = !processAlive(Number(owner[1]));
      const remove = name.startsWith(prefix) ? dead || idle > staleMs : dead && idle > FOREIGN_TEMP_AGE_MS;
      if (remove) await rm4(path, { force: true });
    })
  );
  await removeDeadTemps(layout.bases, basename4(sidecarPath(layout, key)));
}
var FOREIGN_TEMP_AGE_MS;
var init_temp_sweep = __esm({
  "src/core/store/temp-sweep.ts"() {
    "use strict";
    init_atomic_write();
    init_pid();
    init_layout();
    FOREIGN_TEMP_AGE_MS = 10 * 60 * 1e3;
  }
});

// src/core/store/ensure-base.ts
import { randomBytes as randomBytes3 } from "node:crypto";
import { chmod as chmod2, mkdir as mkdir2, rename as rename3, rm as rm5, stat as stat5 } from "node:fs/promises";
import { join as join8 } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
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
    const extracted = await extractToRaw(entry.path, tempImage, { signal: options.signal });
    timings.workers = extracted.workers;
    await publish(layout, key, tempImage, lock, { path: `${remote.name} cache`, kind: "image", digest: null, format: extracted.format, member: null, bytes: (await stat5(entry.path)).size }, "remote");
    return true;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof LockLostError) throw error;
    options.onWarning?.({ code: "remote-entry-unusable", message: `the ${remote.name} cache entry for ${key} was not used (the base is made from its source instead): ${error.message}` });
    return false;
  } finally {
    timings.extractSeconds = (performance.now() - extractStarted) / 1e3;
    await rm5(tempImage, { force: true });
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
    const bytes = (await stat5(materialized.path)).size;
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
      materialized.origin
    );
    return materialized.origin;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof BasecowError || error instanceof LockLostError) throw error;
    throw new SourceError(source.label, `publishing base ${key} failed: ${error.message}`, { cause: error });
  } finally {
    timings.extractSeconds = (performance.now() - extractStarted) / 1e3;
    await rm5(tempImage, { force: true });
    await materialized.dispose().catch(
      (error) => options.onWarning?.({ code: "leftover-not-removed", message: `cannot remove ${materialized.path}: ${error.message}` })
    );
  }
}
async function publish(layout, key, tempImage, lock, record, origin) {
  const info = await stat5(tempImage);
  await chmod2(tempImage, 292);
  const sidecar = {
    schema: 1,
    key,
    source: record,
    origin,
    apparentBytes: info.size,
    allocatedBytes: info.blocks * 512,
    created: (/* @__PURE__ */ new Date()).toISOString(),
    tool: { name: TOOL_NAME, version: TOOL_VERSION }
  };
  const lost = await lock.lost();
  if (lost) throw new LockLostError(lost.message);
  await writeSidecar(sidecarPath(layout, key), sidecar);
  await rename3(tempImage, basePath(layout, key));
  await fsyncDir(layout.bases);
}
async function describeBase(layout, key, cacheHit, origin, started, timings, keyMemoized) {
  const base = basePath(layout, key);
  const info = await stat5(base);
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
var DEFAULT_WAIT_TIMEOUT_MS, LockLostError, tempStem;
var init_ensure_base = __esm({
  "src/core/store/ensure-base.ts"() {
    "use strict";
    init_errors();
    init_extract();
    init_fs();
    init_lock();
    init_version();
    init_key();
    init_layout();
    init_local_image();
    init_sidecar();
    init_temp_sweep();
    DEFAULT_WAIT_TIMEOUT_MS = 30 * 60 * 1e3;
    LockLostError = class extends Error {
    };
    tempStem = (layout, key) => join8(layout.tmp, `${tempPrefix(key)}${process.pid}-${randomBytes3(4).toString("hex")}`);
  }
});

// src/core/shared/map-limited.ts
async function mapLimited(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  let failed = false;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  const settled = await Promise.allSettled(workers);
  const failure = settled.find((outcome) => outcome.status === "rejected");
  if (failure) throw failure.reason;
  return results;
}
var init_map_limited = __esm({
  "src/core/shared/map-limited.ts"() {
    "use strict";
  }
});

// src/core/exec/qemu-img.ts
async function imageInfo(path, format) {
  const args = ["qemu-img", "info", "--output=json", "-U"];
  if (format) args.push("-f", format);
  const { stdout } = await runTool([...args, path]);
  return JSON.parse(stdout);
}
async function createOverlayImage(path, params) {
  const args = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", params.base];
  if (params.options) args.push("-o", params.options);
  args.push(path);
  if (params.sizeBytes !== void 0) args.push(String(params.sizeBytes));
  await runTool(args);
}
var init_qemu_img = __esm({
  "src/core/exec/qemu-img.ts"() {
    "use strict";
    init_run_tool();
  }
});

// src/core/testnet/overlay.ts
import { constants as constants3 } from "node:fs";
import { access, chmod as chmod3, copyFile as copyFile2, mkdir as mkdir3, rm as rm6, stat as stat6 } from "node:fs/promises";
import { dirname as dirname4, isAbsolute } from "node:path";
async function createOverlays(spec) {
  const baseSize = await checkBase(spec.base);
  const virtualSize = Math.max(baseSize, spec.minSizeBytes ?? 0);
  const sizeBytes = virtualSize > baseSize ? virtualSize : void 0;
  const options = spec.qcow2Options ?? DEFAULT_QCOW2_OPTIONS;
  const results = new Array(spec.overlays.length);
  const toCreate = [];
  await mapLimited(spec.overlays, 8, async ({ path }, index) => {
    const present = await pathExists(path);
    if (present && !spec.recreate) {
      results[index] = { path, status: "reused", virtualSize: await checkReusable(path, spec.base, virtualSize) };
      return;
    }
    if (present) await rm6(path, { force: true });
    toCreate.push(path);
    results[index] = { path, status: "created", virtualSize };
  });
  if (toCreate.length > 0) {
    await Promise.all(toCreate.map((path) => mkdir3(dirname4(path), { recursive: true })));
    const [first, ...rest] = toCreate;
    await createOverlayImage(first, { base: spec.base, sizeBytes, options });
    await chmod3(first, 384);
    await Promise.all(
      rest.map(async (path) => {
        await copyFile2(first, path, constants3.COPYFILE_EXCL);
        await chmod3(path, 384);
      })
    );
  }
  return results;
}
async function checkBase(base) {
  if (!isAbsolute(base)) throw new UsageError(`base path must be absolute, got ${JSON.stringify(base)}: overlays record it`, "bad-base-path", { base });
  try {
    await access(base, constants3.R_OK);
  } catch (error) {
    const why = errnoCode(error) === "ENOENT" ? "does not exist" : `is not readable (${errnoCode(error)})`;
    throw new OverlayError(base, `base image ${why}`);
  }
  const info = await imageInfo(base);
  if (info["backing-filename"]) {
    throw new OverlayError(base, `base image has its own backing file ${info["backing-filename"]}; a base must be a standalone raw image`);
  }
  if (info.format !== "raw" && info.format !== "luks") throw new OverlayError(base, `base image is ${info.format}, expected raw`);
  return (await stat6(base)).size;
}
async function checkReusable(path, base, wantedSize) {
  const info = await imageInfo(path);
  const backing = info["full-backing-filename"] ?? info["backing-filename"];
  if (info.format !== "qcow2") {
    throw new OverlayError(path, `existing overlay is ${info.format}, not qcow2`, "overlay-not-reusable");
  }
  if (backing !== base) {
    throw new OverlayError(path, `existing overlay is backed by ${backing ?? "nothing"}, not by ${base}`, "overlay-not-reusable");
  }
  if (info["backing-filename-format"] !== "raw") {
    throw new OverlayError(path, `existing overlay declares backing format ${info["backing-filename-format"] ?? "none"}, not raw`, "overlay-not-reusable");
  }
  if (info["virtual-size"] < wantedSize) {
    throw new OverlayError(path, `existing overlay is ${info["virtual-size"]} bytes, smaller than the requested ${wantedSize}`, "overlay-not-reusable");
  }
  return info["virtual-size"];
}
var DEFAULT_QCOW2_OPTIONS, OverlayError;
var init_overlay = __esm({
  "src/core/testnet/overlay.ts"() {
    "use strict";
    init_errors();
    init_fs();
    init_map_limited();
    init_qemu_img();
    DEFAULT_QCOW2_OPTIONS = "extended_l2=on,cluster_size=128k,lazy_refcounts=on";
    OverlayError = class extends BasecowError {
      constructor(path, reason, code = "base-unusable") {
        super(code, `${path}: ${reason}`, { path });
        this.path = path;
        this.name = "OverlayError";
      }
      path;
    };
  }
});

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
var init_numbers = __esm({
  "src/inputs/numbers.ts"() {
    "use strict";
    init_errors();
  }
});

// src/inputs/size.ts
function parseSize(text, label = "size") {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`${label}: invalid size ${JSON.stringify(text)}: use bytes or a number with K, M, G or T (e.g. 32G)`);
  const bytes = Math.ceil(Number(match[1]) * UNITS[match[2].toUpperCase()]);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${label}: size ${JSON.stringify(text)} is too large`);
  return bytes;
}
var UNITS;
var init_size = __esm({
  "src/inputs/size.ts"() {
    "use strict";
    init_errors();
    UNITS = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  }
});

// src/inputs/vms.ts
import { readFileSync as readFileSync3 } from "node:fs";
import { dirname as dirname5, resolve as resolve3 } from "node:path";
function parseVmList(arg, label, cwd = process.cwd()) {
  const text = arg.trim();
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1 || count > MAX_VMS) throw new UsageError(`${label} ${text}: the count must be between 1 and ${MAX_VMS}`);
    return Array.from({ length: count }, (_, i) => ({ name: `vm${i + 1}` }));
  }
  if (text.endsWith(".json")) return readVmFile(resolve3(cwd, text));
  const names = text.split(",").map((n) => n.trim());
  if (names.some((n) => n === "")) throw new UsageError(`${label} ${JSON.stringify(arg)}: empty VM name in the list`);
  return names.map((name) => ({ name }));
}
function readVmFile(path) {
  let data;
  try {
    data = JSON.parse(readFileSync3(path, "utf8"));
  } catch (error) {
    throw new UsageError(`${path}: cannot read the VM list: ${error.message}`);
  }
  const list = Array.isArray(data) ? data : data?.vms;
  if (!Array.isArray(list) || list.length === 0) throw new UsageError(`${path}: expected a non-empty array of VMs or { "vms": [...] }`);
  return list.map((entry, i) => checkVm(entry, `${path}: vms[${i}]`, dirname5(path)));
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
      source: resolve3(baseDir, disk.source),
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
var MAX_VMS;
var init_vms = __esm({
  "src/inputs/vms.ts"() {
    "use strict";
    init_errors();
    MAX_VMS = 1024;
  }
});

// src/cli/default-image.ts
import { join as join9 } from "node:path";
function defaultImage() {
  return join9(packageRoot(), "images", "demo.img.zst");
}
var init_default_image = __esm({
  "src/cli/default-image.ts"() {
    "use strict";
    init_package_root();
  }
});

// src/cli/hints.ts
function hintFor(error) {
  switch (error.code) {
    case "overlay-not-reusable":
      return "run up with --recreate to replace it (what the VM wrote is lost), or down first";
    case "would-orphan":
      return `run \`basecow down --work-dir ${error.facts.workDir}\` first`;
    case "work-dir-busy":
      return "wait for that process, or give this testnet its own --work-dir";
    default:
      return void 0;
  }
}
var init_hints = __esm({
  "src/cli/hints.ts"() {
    "use strict";
  }
});

// src/cli/interrupt.ts
import { constants as constants4 } from "node:os";
function interruptOnSignals() {
  const controller = new AbortController();
  const handler = (name) => {
    if (controller.signal.aborted) process.exit(128 + constants4.signals[name]);
    controller.abort(new InterruptedError(name));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    // A terminal's Ctrl-C reaches the children too (qemu-img, virsh), whose failure then surfaces
    // first: once we were interrupted, that is the story.
    explain: (error) => controller.signal.aborted ? controller.signal.reason : error,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    }
  };
}
var InterruptedError;
var init_interrupt = __esm({
  "src/cli/interrupt.ts"() {
    "use strict";
    InterruptedError = class extends Error {
      constructor(signal) {
        super(`interrupted by ${signal}`);
        this.signal = signal;
        this.name = "InterruptedError";
      }
      signal;
      get exitCode() {
        return 128 + constants4.signals[this.signal];
      }
    };
  }
});

// src/cli/progress.ts
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
  let phase;
  let phaseStarted = 0;
  let lastPrinted = 0;
  let lineOpen = false;
  const interval = tty ? 200 : plainEveryMs;
  return {
    report(p) {
      const now = performance.now();
      if (p.phase !== phase) {
        phase = p.phase;
        phaseStarted = now;
        lastPrinted = now;
      }
      const finished = p.total > 0 && p.done >= p.total && lastPrinted > phaseStarted;
      if (now - lastPrinted < interval && !finished) return;
      lastPrinted = now;
      const line = describe(p, (now - phaseStarted) / 1e3);
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
var PHASE_LABEL;
var init_progress = __esm({
  "src/cli/progress.ts"() {
    "use strict";
    PHASE_LABEL = {
      hash: "hashing",
      wait: "waiting for another process",
      restore: "restoring from the remote cache",
      download: "downloading",
      build: "building",
      extract: "extracting"
    };
  }
});

// src/core/libvirt/domain-type.ts
import { constants as constants5 } from "node:fs";
import { access as access2 } from "node:fs/promises";
async function resolveDomainType(requested = "auto") {
  if (requested !== "auto") return requested;
  try {
    await access2("/dev/kvm", constants5.R_OK | constants5.W_OK);
    return "kvm";
  } catch {
    return "qemu";
  }
}
var init_domain_type = __esm({
  "src/core/libvirt/domain-type.ts"() {
    "use strict";
  }
});

// node_modules/mustache/mustache.mjs
function isFunction(object) {
  return typeof object === "function";
}
function typeStr(obj) {
  return isArray(obj) ? "array" : typeof obj;
}
function escapeRegExp(string) {
  return string.replace(/[\-\[\]{}()*+?.,\\\^$|#\s]/g, "\\$&");
}
function hasProperty(obj, propName) {
  return obj != null && typeof obj === "object" && propName in obj;
}
function primitiveHasOwnProperty(primitive, propName) {
  return primitive != null && typeof primitive !== "object" && primitive.hasOwnProperty && primitive.hasOwnProperty(propName);
}
function testRegExp(re, string) {
  return regExpTest.call(re, string);
}
function isWhitespace(string) {
  return !testRegExp(nonSpaceRe, string);
}
function escapeHtml(string) {
  return String(string).replace(/[&<>"'`=\/]/g, function fromEntityMap(s) {
    return entityMap[s];
  });
}
function parseTemplate(template, tags) {
  if (!template)
    return [];
  var lineHasNonSpace = false;
  var sections = [];
  var tokens = [];
  var spaces = [];
  var hasTag = false;
  var nonSpace = false;
  var indentation = "";
  var tagIndex = 0;
  function stripSpace() {
    if (hasTag && !nonSpace) {
      while (spaces.length)
        delete tokens[spaces.pop()];
    } else {
      spaces = [];
    }
    hasTag = false;
    nonSpace = false;
  }
  var openingTagRe, closingTagRe, closingCurlyRe;
  function compileTags(tagsToCompile) {
    if (typeof tagsToCompile === "string")
      tagsToCompile = tagsToCompile.split(spaceRe, 2);
    if (!isArray(tagsToCompile) || tagsToCompile.length !== 2)
      throw new Error("Invalid tags: " + tagsToCompile);
    openingTagRe = new RegExp(escapeRegExp(tagsToCompile[0]) + "\\s*");
    closingTagRe = new RegExp("\\s*" + escapeRegExp(tagsToCompile[1]));
    closingCurlyRe = new RegExp("\\s*" + escapeRegExp("}" + tagsToCompile[1]));
  }
  compileTags(tags || mustache.tags);
  var scanner = new Scanner(template);
  var start, type, value, chr, token, openSection;
  while (!scanner.eos()) {
    start = scanner.pos;
    value = scanner.scanUntil(openingTagRe);
    if (value) {
      for (var i = 0, valueLength = value.length; i < valueLength; ++i) {
        chr = value.charAt(i);
        if (isWhitespace(chr)) {
          spaces.push(tokens.length);
          indentation += chr;
        } else {
          nonSpace = true;
          lineHasNonSpace = true;
          indentation += " ";
        }
        tokens.push(["text", chr, start, start + 1]);
        start += 1;
        if (chr === "\n") {
          stripSpace();
          indentation = "";
          tagIndex = 0;
          lineHasNonSpace = false;
        }
      }
    }
    if (!scanner.scan(openingTagRe))
      break;
    hasTag = true;
    type = scanner.scan(tagRe) || "name";
    scanner.scan(whiteRe);
    if (type === "=") {
      value = scanner.scanUntil(equalsRe);
      scanner.scan(equalsRe);
      scanner.scanUntil(closingTagRe);
    } else if (type === "{") {
      value = scanner.scanUntil(closingCurlyRe);
      scanner.scan(curlyRe);
      scanner.scanUntil(closingTagRe);
      type = "&";
    } else {
      value = scanner.scanUntil(closingTagRe);
    }
    if (!scanner.scan(closingTagRe))
      throw new Error("Unclosed tag at " + scanner.pos);
    if (type == ">") {
      token = [type, value, start, scanner.pos, indentation, tagIndex, lineHasNonSpace];
    } else {
      token = [type, value, start, scanner.pos];
    }
    tagIndex++;
    tokens.push(token);
    if (type === "#" || type === "^") {
      sections.push(token);
    } else if (type === "/") {
      openSection = sections.pop();
      if (!openSection)
        throw new Error('Unopened section "' + value + '" at ' + start);
      if (openSection[1] !== value)
        throw new Error('Unclosed section "' + openSection[1] + '" at ' + start);
    } else if (type === "name" || type === "{" || type === "&") {
      nonSpace = true;
    } else if (type === "=") {
      compileTags(value);
    }
  }
  stripSpace();
  openSection = sections.pop();
  if (openSection)
    throw new Error('Unclosed section "' + openSection[1] + '" at ' + scanner.pos);
  return nestTokens(squashTokens(tokens));
}
function squashTokens(tokens) {
  var squashedTokens = [];
  var token, lastToken;
  for (var i = 0, numTokens = tokens.length; i < numTokens; ++i) {
    token = tokens[i];
    if (token) {
      if (token[0] === "text" && lastToken && lastToken[0] === "text") {
        lastToken[1] += token[1];
        lastToken[3] = token[3];
      } else {
        squashedTokens.push(token);
        lastToken = token;
      }
    }
  }
  return squashedTokens;
}
function nestTokens(tokens) {
  var nestedTokens = [];
  var collector = nestedTokens;
  var sections = [];
  var token, section;
  for (var i = 0, numTokens = tokens.length; i < numTokens; ++i) {
    token = tokens[i];
    switch (token[0]) {
      case "#":
      case "^":
        collector.push(token);
        sections.push(token);
        collector = token[4] = [];
        break;
      case "/":
        section = sections.pop();
        section[5] = token[2];
        collector = sections.length > 0 ? sections[sections.length - 1][4] : nestedTokens;
        break;
      default:
        collector.push(token);
    }
  }
  return nestedTokens;
}
function Scanner(string) {
  this.string = string;
  this.tail = string;
  this.pos = 0;
}
function Context(view, parentContext) {
  this.view = view;
  this.cache = { ".": this.view };
  this.parent = parentContext;
}
function Writer() {
  this.templateCache = {
    _cache: {},
    set: function set(key, value) {
      this._cache[key] = value;
    },
    get: function get(key) {
      return this._cache[key];
    },
    clear: function clear() {
      this._cache = {};
    }
  };
}
var objectToString, isArray, regExpTest, nonSpaceRe, entityMap, whiteRe, spaceRe, equalsRe, curlyRe, tagRe, mustache, defaultWriter, mustache_default;
var init_mustache = __esm({
  "node_modules/mustache/mustache.mjs"() {
    objectToString = Object.prototype.toString;
    isArray = Array.isArray || function isArrayPolyfill(object) {
      return objectToString.call(object) === "[object Array]";
    };
    regExpTest = RegExp.prototype.test;
    nonSpaceRe = /\S/;
    entityMap = {
      "&": "&amp;",
      "<": "&lt;",
      ">": "&gt;",
      '"': "&quot;",
      "'": "&#39;",
      "/": "&#x2F;",
      "`": "&#x60;",
      "=": "&#x3D;"
    };
    whiteRe = /\s*/;
    spaceRe = /\s+/;
    equalsRe = /\s*=/;
    curlyRe = /\s*\}/;
    tagRe = /#|\^|\/|>|\{|&|=|!/;
    Scanner.prototype.eos = function eos() {
      return this.tail === "";
    };
    Scanner.prototype.scan = function scan(re) {
      var match = this.tail.match(re);
      if (!match || match.index !== 0)
        return "";
      var string = match[0];
      this.tail = this.tail.substring(string.length);
      this.pos += string.length;
      return string;
    };
    Scanner.prototype.scanUntil = function scanUntil(re) {
      var index = this.tail.search(re), match;
      switch (index) {
        case -1:
          match = this.tail;
          this.tail = "";
          break;
        case 0:
          match = "";
          break;
        default:
          match = this.tail.substring(0, index);
          this.tail = this.tail.substring(index);
      }
      this.pos += match.length;
      return match;
    };
    Context.prototype.push = function push(view) {
      return new Context(view, this);
    };
    Context.prototype.lookup = function lookup(name) {
      var cache = this.cache;
      var value;
      if (cache.hasOwnProperty(name)) {
        value = cache[name];
      } else {
        var context = this, intermediateValue, names, index, lookupHit = false;
        while (context) {
          if (name.indexOf(".") > 0) {
            intermediateValue = context.view;
            names = name.split(".");
            index = 0;
            while (intermediateValue != null && index < names.length) {
              if (index === names.length - 1)
                lookupHit = hasProperty(intermediateValue, names[index]) || primitiveHasOwnProperty(intermediateValue, names[index]);
              intermediateValue = intermediateValue[names[index++]];
            }
          } else {
            intermediateValue = context.view[name];
            lookupHit = hasProperty(context.view, name);
          }
          if (lookupHit) {
            value = intermediateValue;
            break;
          }
          context = context.parent;
        }
        cache[name] = value;
      }
      if (isFunction(value))
        value = value.call(this.view);
      return value;
    };
    Writer.prototype.clearCache = function clearCache() {
      if (typeof this.templateCache !== "undefined") {
        this.templateCache.clear();
      }
    };
    Writer.prototype.parse = function parse(template, tags) {
      var cache = this.templateCache;
      var cacheKey = template + ":" + (tags || mustache.tags).join(":");
      var isCacheEnabled = typeof cache !== "undefined";
      var tokens = isCacheEnabled ? cache.get(cacheKey) : void 0;
      if (tokens == void 0) {
        tokens = parseTemplate(template, tags);
        isCacheEnabled && cache.set(cacheKey, tokens);
      }
      return tokens;
    };
    Writer.prototype.render = function render(template, view, partials, config) {
      var tags = this.getConfigTags(config);
      var tokens = this.parse(template, tags);
      var context = view instanceof Context ? view : new Context(view, void 0);
      return this.renderTokens(tokens, context, partials, template, config);
    };
    Writer.prototype.renderTokens = function renderTokens(tokens, context, partials, originalTemplate, config) {
      var buffer = "";
      var token, symbol, value;
      for (var i = 0, numTokens = tokens.length; i < numTokens; ++i) {
        value = void 0;
        token = tokens[i];
        symbol = token[0];
        if (symbol === "#") value = this.renderSection(token, context, partials, originalTemplate, config);
        else if (symbol === "^") value = this.renderInverted(token, context, partials, originalTemplate, config);
        else if (symbol === ">") value = this.renderPartial(token, context, partials, config);
        else if (symbol === "&") value = this.unescapedValue(token, context);
        else if (symbol === "name") value = this.escapedValue(token, context, config);
        else if (symbol === "text") value = this.rawValue(token);
        if (value !== void 0)
          buffer += value;
      }
      return buffer;
    };
    Writer.prototype.renderSection = function renderSection(token, context, partials, originalTemplate, config) {
      var self = this;
      var buffer = "";
      var value = context.lookup(token[1]);
      function subRender(template) {
        return self.render(template, context, partials, config);
      }
      if (!value) return;
      if (isArray(value)) {
        for (var j = 0, valueLength = value.length; j < valueLength; ++j) {
          buffer += this.renderTokens(token[4], context.push(value[j]), partials, originalTemplate, config);
        }
      } else if (typeof value === "object" || typeof value === "string" || typeof value === "number") {
        buffer += this.renderTokens(token[4], context.push(value), partials, originalTemplate, config);
      } else if (isFunction(value)) {
        if (typeof originalTemplate !== "string")
          throw new Error("Cannot use higher-order sections without the original template");
        value = value.call(context.view, originalTemplate.slice(token[3], token[5]), subRender);
        if (value != null)
          buffer += value;
      } else {
        buffer += this.renderTokens(token[4], context, partials, originalTemplate, config);
      }
      return buffer;
    };
    Writer.prototype.renderInverted = function renderInverted(token, context, partials, originalTemplate, config) {
      var value = context.lookup(token[1]);
      if (!value || isArray(value) && value.length === 0)
        return this.renderTokens(token[4], context, partials, originalTemplate, config);
    };
    Writer.prototype.indentPartial = function indentPartial(partial, indentation, lineHasNonSpace) {
      var filteredIndentation = indentation.replace(/[^ \t]/g, "");
      var partialByNl = partial.split("\n");
      for (var i = 0; i < partialByNl.length; i++) {
        if (partialByNl[i].length && (i > 0 || !lineHasNonSpace)) {
          partialByNl[i] = filteredIndentation + partialByNl[i];
        }
      }
      return partialByNl.join("\n");
    };
    Writer.prototype.renderPartial = function renderPartial(token, context, partials, config) {
      if (!partials) return;
      var tags = this.getConfigTags(config);
      var value = isFunction(partials) ? partials(token[1]) : partials[token[1]];
      if (value != null) {
        var lineHasNonSpace = token[6];
        var tagIndex = token[5];
        var indentation = token[4];
        var indentedValue = value;
        if (tagIndex == 0 && indentation) {
          indentedValue = this.indentPartial(value, indentation, lineHasNonSpace);
        }
        var tokens = this.parse(indentedValue, tags);
        return this.renderTokens(tokens, context, partials, indentedValue, config);
      }
    };
    Writer.prototype.unescapedValue = function unescapedValue(token, context) {
      var value = context.lookup(token[1]);
      if (value != null)
        return value;
    };
    Writer.prototype.escapedValue = function escapedValue(token, context, config) {
      var escape = this.getConfigEscape(config) || mustache.escape;
      var value = context.lookup(token[1]);
      if (value != null)
        return typeof value === "number" && escape === mustache.escape ? String(value) : escape(value);
    };
    Writer.prototype.rawValue = function rawValue(token) {
      return token[1];
    };
    Writer.prototype.getConfigTags = function getConfigTags(config) {
      if (isArray(config)) {
        return config;
      } else if (config && typeof config === "object") {
        return config.tags;
      } else {
        return void 0;
      }
    };
    Writer.prototype.getConfigEscape = function getConfigEscape(config) {
      if (config && typeof config === "object" && !isArray(config)) {
        return config.escape;
      } else {
        return void 0;
      }
    };
    mustache = {
      name: "mustache.js",
      version: "4.2.0",
      tags: ["{{", "}}"],
      clearCache: void 0,
      escape: void 0,
      parse: void 0,
      render: void 0,
      Scanner: void 0,
      Context: void 0,
      Writer: void 0,
      /**
       * Allows a user to override the default caching strategy, by providing an
       * object with set, get and clear methods. This can also be used to disable
       * the cache by setting it to the literal `undefined`.
       */
      set templateCache(cache) {
        defaultWriter.templateCache = cache;
      },
      /**
       * Gets the default or overridden caching object from the default writer.
       */
      get templateCache() {
        return defaultWriter.templateCache;
      }
    };
    defaultWriter = new Writer();
    mustache.clearCache = function clearCache2() {
      return defaultWriter.clearCache();
    };
    mustache.parse = function parse2(template, tags) {
      return defaultWriter.parse(template, tags);
    };
    mustache.render = function render2(template, view, partials, config) {
      if (typeof template !== "string") {
        throw new TypeError('Invalid template! Template should be a "string" but "' + typeStr(template) + '" was given as the first argument for mustache#render(template, view, partials)');
      }
      return defaultWriter.render(template, view, partials, config);
    };
    mustache.escape = escapeHtml;
    mustache.Scanner = Scanner;
    mustache.Context = Context;
    mustache.Writer = Writer;
    mustache_default = mustache;
  }
});

// src/core/libvirt/domain-xml.ts
import { readFile as readFile3 } from "node:fs/promises";
import { join as join10 } from "node:path";
function xmlEscape(value) {
  return String(value).replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}
function renderDomain(template, view) {
  return mustache_default.render(template, view, {}, { escape: xmlEscape });
}
function renderField(text, view) {
  return mustache_default.render(text, view, {}, { escape: String });
}
function defaultTemplatePath() {
  return join10(packageRoot(), "templates", "domain.xml.mustache");
}
async function loadTemplate(path) {
  const resolved = path ?? defaultTemplatePath();
  try {
    const text = await readFile3(resolved, "utf8");
    mustache_default.parse(text);
    return { path: resolved, text };
  } catch (error) {
    throw new UsageError(`domain template ${resolved}: ${error.message}`, "bad-template", { template: resolved });
  }
}
var XML_ENTITIES;
var init_domain_xml = __esm({
  "src/core/libvirt/domain-xml.ts"() {
    "use strict";
    init_mustache();
    init_errors();
    init_package_root();
    XML_ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
  }
});

// src/core/testnet/extra-disks.ts
import { mkdir as mkdir4, truncate } from "node:fs/promises";
import { basename as basename5, dirname as dirname6 } from "node:path";
async function prepareExtraDisks(dir, disks, options) {
  await mkdir4(dir, { recursive: true });
  await Promise.all(
    disks.map(async (d) => {
      if (!options.recreate && await pathExists(d.path)) return;
      await removeDeadTemps(dir, basename5(d.path));
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
  return removeDeadTemps(dirname6(path), basename5(path));
}
var EXTRA_DISK_ALIGN;
var init_extra_disks = __esm({
  "src/core/testnet/extra-disks.ts"() {
    "use strict";
    init_extract();
    init_atomic_write();
    init_fs();
    EXTRA_DISK_ALIGN = 4096;
  }
});

// src/core/testnet/identity.ts
import { createHash as createHash3 } from "node:crypto";
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
var NAME_CHARSET, MAX_NAME_LENGTH, identityHash, nicSeed;
var init_identity = __esm({
  "src/core/testnet/identity.ts"() {
    "use strict";
    init_errors();
    NAME_CHARSET = /[^A-Za-z0-9_.-]+/g;
    MAX_NAME_LENGTH = 63;
    identityHash = (group, seed) => createHash3("sha256").update(`basecow-vm-identity-v1\0${group}\0${seed}`).digest();
    nicSeed = (vmName, nicIndex) => nicIndex === 0 ? vmName : `${vmName}#nic${nicIndex}`;
  }
});

// src/core/testnet/manifest.ts
import { readFile as readFile4 } from "node:fs/promises";
import { join as join11 } from "node:path";
async function writeManifest(manifest) {
  const path = manifestPath(manifest.workDir);
  await writeFileAtomically(path, `${JSON.stringify(manifest, null, 2)}
`);
  return path;
}
async function readManifest(workDir) {
  const path = manifestPath(workDir);
  let text;
  try {
    text = await readFile4(path, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return void 0;
    throw new Error(`${path}: cannot read the manifest: ${error.message}`, { cause: error });
  }
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not a valid manifest (${error.message}); remove it or restore it`, { cause: error });
  }
  if (manifest.schema !== MANIFEST_SCHEMA) {
    throw new Error(`${path}: unknown manifest schema ${JSON.stringify(manifest.schema)}, expected ${MANIFEST_SCHEMA}`);
  }
  return manifest;
}
var MANIFEST_SCHEMA, MANIFEST_FILE, manifestPath, wasStarted;
var init_manifest = __esm({
  "src/core/testnet/manifest.ts"() {
    "use strict";
    init_errors();
    init_atomic_write();
    MANIFEST_SCHEMA = "basecow.manifest/v1";
    MANIFEST_FILE = "manifest.json";
    manifestPath = (workDir) => join11(workDir, MANIFEST_FILE);
    wasStarted = (manifest) => manifest.started !== false;
  }
});

// src/core/testnet/plan.ts
import { createHash as createHash4 } from "node:crypto";
import { join as join12, resolve as resolve4 } from "node:path";
function defaultGroup(workDir) {
  return `bc${createHash4("sha256").update(resolve4(workDir)).digest("hex").slice(0, 8)}`;
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
var vmDir, overlayPath, domainXmlPath, consoleLogPath, extraDiskPath;
var init_plan2 = __esm({
  "src/core/testnet/plan.ts"() {
    "use strict";
    init_errors();
    init_identity();
    vmDir = (workDir, vmName) => join12(workDir, "vms", vmName);
    overlayPath = (workDir, vmName) => join12(vmDir(workDir, vmName), "primary.qcow2");
    domainXmlPath = (workDir, vmName) => join12(vmDir(workDir, vmName), "domain.xml");
    consoleLogPath = (workDir, vmName) => join12(vmDir(workDir, vmName), "console.log");
    extraDiskPath = (workDir, vmName, diskName) => join12(vmDir(workDir, vmName), `${diskName}.img`);
  }
});

// src/core/testnet/work-dir-lock.ts
import { mkdir as mkdir5, readFile as readFile5 } from "node:fs/promises";
import { join as join13 } from "node:path";
import { setTimeout as sleep2 } from "node:timers/promises";
async function holderPid(lockPath2) {
  const token = await readFile5(ownerPath(lockPath2), "utf8").catch(() => "");
  const pid = Number(/^(\d+)-/.exec(token)?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : void 0;
}
async function withWorkDirLock(workDir, fn, options = {}) {
  await mkdir5(workDir, { recursive: true });
  const lockPath2 = join13(workDir, WORK_DIR_LOCK);
  const timing = { ...DEFAULT_LOCK_TIMING, ...options.lockTiming };
  const timeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS2;
  const started = performance.now();
  let told = false;
  for (; ; ) {
    options.signal?.throwIfAborted();
    const lock = await tryLock(lockPath2, timing, workDir);
    if (lock) {
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    }
    const pid = await holderPid(lockPath2);
    if (!told) {
      told = true;
      options.onWait?.(pid);
    }
    if (performance.now() - started > timeoutMs) {
      throw new BasecowError(
        "work-dir-busy",
        `work dir ${workDir} is in use by ${pid ? `pid ${pid}` : "another basecow process"} (an up or down that has not finished); gave up after ${Math.round(timeoutMs / 1e3)} s`,
        { workDir, pid: pid ?? 0 }
      );
    }
    await sleep2(timing.pollMs);
  }
}
var WORK_DIR_LOCK, DEFAULT_WAIT_TIMEOUT_MS2;
var init_work_dir_lock = __esm({
  "src/core/testnet/work-dir-lock.ts"() {
    "use strict";
    init_errors();
    init_lock();
    WORK_DIR_LOCK = ".basecow.lock";
    DEFAULT_WAIT_TIMEOUT_MS2 = 10 * 60 * 1e3;
  }
});

// src/core/testnet/up.ts
var up_exports = {};
__export(up_exports, {
  up: () => up
});
import { writeFile as writeFile2 } from "node:fs/promises";
import { resolve as resolve5 } from "node:path";
async function up(options) {
  const workDir = resolve5(options.workDir);
  const names = sanitizeVmNames(options.vms.map((vm) => vm.name));
  const group = validateGroup(options.group ?? defaultGroup(workDir));
  const connect = options.connect ?? DEFAULT_CONNECT_URI;
  const nicSpecsOf = (spec) => spec.nics ?? (options.network ? [options.network] : []);
  const plans = planTestnet(options.vms, names, options.vms.map((spec) => nicSpecsOf(spec).length), workDir, group, options.identityHash);
  const [domainType, template] = await Promise.all([resolveDomainType(options.domainType), loadTemplate(options.template)]);
  return withWorkDirLock(
    workDir,
    async () => {
      const previous = await readManifest(workDir);
      if (previous) refuseOrphans(previous, plans);
      const base = await ensureBase(options);
      const manifest = {
        schema: "basecow.manifest/v1",
        key: base.key,
        base: base.base,
        cacheHit: base.cacheHit,
        group,
        workDir,
        domainType,
        connect,
        started: previous ? wasStarted(previous) : false,
        vms: plans.map((plan) => plan.entry)
      };
      await writeManifest(manifest);
      options.signal?.throwIfAborted();
      await createOverlays({
        base: base.base,
        overlays: plans.map((plan) => ({ path: plan.entry.overlay })),
        minSizeBytes: options.minSizeBytes,
        qcow2Options: options.qcow2Options,
        recreate: options.recreate
      });
      await mapLimited(plans, 8, async (plan, index) => {
        options.signal?.throwIfAborted();
        await prepareExtraDisks(plan.dir, plan.extra, options);
        await writeFile2(plan.entry.xml, renderDomain(template.text, domainView(plan, index, group, domainType, base.base, nicSpecsOf(plan.spec), options)));
      });
      options.signal?.throwIfAborted();
      if (options.start) await startDomains(manifest, options.signal);
      return manifest;
    },
    {
      waitTimeoutMs: options.workDirWaitMs,
      lockTiming: options.lockTiming,
      signal: options.signal,
      onWait: (pid) => options.onWarning?.({ code: "work-dir-busy", message: `work dir ${workDir} is in use by ${pid ? `pid ${pid}` : "another basecow process"}; waiting for it to finish` })
    }
  );
}
function domainView(plan, index, group, domainType, base, nicSpecs, options) {
  const { spec, name, entry } = plan;
  const disks = entry.disks.map((d) => ({ ...d, cache: "unsafe", discard: "unmap", backingFile: d.role === "primary" ? base : void 0 }));
  const view = {
    name: entry.domain,
    vmName: name,
    group,
    index,
    uuid: entry.uuid,
    mac: entry.mac,
    domainType,
    arch: "x86_64",
    machine: options.machine ?? "q35",
    memoryMiB: spec.memoryMiB ?? options.memoryMiB ?? 1024,
    vcpus: spec.vcpus ?? options.vcpus ?? 1,
    hostCpu: domainType === "kvm",
    onReboot: "restart",
    kernel: options.kernel && resolve5(options.kernel),
    initrd: options.initrd && resolve5(options.initrd),
    loader: options.uefiLoader ? { path: resolve5(options.uefiLoader) } : void 0,
    disks,
    nics: nicSpecs.map((nic, j) => nicView(nic, plan.nicMacs[j], j)),
    consoleLog: entry.consoleLog
  };
  const cmdline = spec.cmdline ?? options.cmdline;
  if (cmdline !== void 0) view.cmdline = renderField(cmdline, view);
  return view;
}
function refuseOrphans(previous, plans) {
  const domains = new Set(plans.map((plan) => plan.entry.domain));
  const paths = new Set(plans.flatMap((plan) => [plan.entry.xml, ...plan.entry.disks.map((d) => d.path)]));
  const orphans = previous.vms.flatMap((vm) => [
    ...domains.has(vm.domain) ? [] : [`domain ${vm.domain}`],
    ...[vm.xml, ...vm.disks.map((d) => d.path)].filter((path) => !paths.has(path))
  ]);
  if (orphans.length > 0) {
    throw new UsageError(
      `${manifestPath(previous.workDir)} already has ${orphans.join(", ")}, which this up would no longer list (other VMs, group or extra disks); tear the testnet down first, or keep them`,
      "would-orphan",
      { workDir: previous.workDir }
    );
  }
}
async function startDomains(manifest, signal) {
  const running = await listDomains(manifest.connect, { runningOnly: true });
  if (!manifest.started) {
    manifest.started = true;
    await writeManifest(manifest);
  }
  await mapLimited(
    manifest.vms.filter((vm) => !running.has(vm.domain)),
    4,
    (vm) => {
      signal?.throwIfAborted();
      return createDomain(manifest.connect, vm.xml);
    }
  );
}
function nicView(nic, mac, index) {
  const alias = `ua-basecow-nic${index}`;
  switch (nic.type) {
    case "bridge":
      return { type: "bridge", mac, alias, bridge: nic.bridge };
    case "network":
      return { type: "network", mac, alias, network: nic.network };
    case "tap":
      return { type: "ethernet", mac, alias, tap: nic.tap };
  }
}
var init_up = __esm({
  "src/core/testnet/up.ts"() {
    "use strict";
    init_errors();
    init_domain_type();
    init_domain_xml();
    init_virsh();
    init_map_limited();
    init_ensure_base();
    init_extra_disks();
    init_identity();
    init_manifest();
    init_overlay();
    init_plan2();
    init_work_dir_lock();
  }
});

// src/core/testnet/down.ts
var down_exports = {};
__export(down_exports, {
  down: () => down
});
import { lstat, rm as rm7 } from "node:fs/promises";
import { basename as basename6, join as join14, relative, resolve as resolve6, sep } from "node:path";
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
      const stem = basename6(String(disk.path)).replace(/\.img$/, "");
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
    current = join14(current, part);
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
async function down(options) {
  const workDir = resolve6(options.workDir);
  if (!await pathExists(manifestPath(workDir))) return { workDir, destroyed: [], removed: [] };
  return withWorkDirLock(
    workDir,
    async () => {
      const manifest = await readManifest(workDir);
      if (!manifest) return { workDir, destroyed: [], removed: [] };
      if (resolve6(manifest.workDir) !== workDir) {
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
          await rm7(path, { force: true });
        }
        for (const disk of vm.extraDisks) {
          await removeDeadExtraDiskTemps(disk).catch(
            (error) => options.onWarning?.({ code: "leftover-not-removed", message: `cannot remove what a killed up left beside ${disk}: ${error.message}` })
          );
        }
      });
      await rm7(manifestPath(workDir), { force: true });
      return { workDir, destroyed: destroyed.sort(), removed: removed.sort() };
    },
    {
      waitTimeoutMs: options.workDirWaitMs,
      lockTiming: options.lockTiming,
      signal: options.signal,
      onWait: (pid) => options.onWarning?.({ code: "work-dir-busy", message: `work dir ${workDir} is in use by ${pid ? `pid ${pid}` : "another basecow process"}; waiting for it to finish` })
    }
  );
}
var init_down = __esm({
  "src/core/testnet/down.ts"() {
    "use strict";
    init_errors();
    init_virsh();
    init_run_tool();
    init_fs();
    init_map_limited();
    init_extra_disks();
    init_identity();
    init_manifest();
    init_plan2();
    init_work_dir_lock();
  }
});

// src/cli/main.ts
var main_exports = {};
__export(main_exports, {
  main: () => main
});
import { parseArgs } from "node:util";
async function main(argv) {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "prepare":
        return await prepare(rest);
      case "up":
        return await upCommand(rest);
      case "down":
        return await downCommand(rest);
      case void 0:
      case "-h":
      case "--help":
      case "help":
        process.stdout.write(`${USAGE}
`);
        return command === void 0 ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof InterruptedError) {
      process.stderr.write(`basecow: ${error.message}; stopped without leaving anything half-written
`);
      return error.exitCode;
    }
    const hint = error instanceof BasecowError ? hintFor(error) : void 0;
    const message = hint ? `${error.message}; ${hint}` : error.message;
    if (error instanceof UsageError) {
      process.stderr.write(`basecow: ${message}
${error.code === "bad-input" ? `
${USAGE}
` : ""}`);
      return 2;
    }
    process.stderr.write(`basecow: error: ${message}
`);
    if (process.env.BASECOW_DEBUG) process.stderr.write(`${error.stack}
`);
    return 1;
  }
}
function parse3(args, options) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError(error.message);
  }
}
function sourceOptions(values) {
  return {
    source: values.image ?? defaultImage(),
    cacheDir: values["cache-dir"] ?? defaultCacheDir(),
    key: values.key,
    member: values.member
  };
}
async function withProgressAndInterrupts(run) {
  const progress = progressReporter(process.stderr);
  const interrupt = interruptOnSignals();
  try {
    return await run({ onProgress: progress.report, signal: interrupt.signal, onWarning: printWarning });
  } catch (error) {
    throw interrupt.explain(error);
  } finally {
    interrupt.dispose();
    progress.end();
  }
}
async function prepare(args) {
  const { values } = parse3(args, SOURCE_OPTIONS);
  const result = await withProgressAndInterrupts((hooks) => ensureBase({ ...sourceOptions(values), ...hooks }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(prepareJson(result))}
`);
  } else {
    process.stdout.write(
      [
        `base:      ${result.base}`,
        `key:       ${result.key}`,
        `cache:     ${result.cacheHit === "miss" ? "miss (extracted now)" : `hit (${result.cacheHit})`}`,
        `size:      ${formatBytes(result.apparentBytes)} apparent, ${formatBytes(result.allocatedBytes)} allocated`,
        `time:      ${result.seconds.toFixed(3)} s (hash ${result.timings.hashSeconds.toFixed(3)} s${result.keyMemoized ? ", memoized" : ""}, wait ${result.timings.waitSeconds.toFixed(3)} s, extract ${result.timings.extractSeconds.toFixed(3)} s)`
      ].join("\n") + "\n"
    );
  }
  return 0;
}
function prepareJson(result) {
  return {
    key: result.key,
    base: result.base,
    sidecar: result.sidecar,
    cacheHit: result.cacheHit,
    apparentBytes: result.apparentBytes,
    allocatedBytes: result.allocatedBytes,
    seconds: result.seconds,
    timings: result.timings,
    keyMemoized: result.keyMemoized
  };
}
function printWarning(warning) {
  process.stderr.write(`basecow: warning: ${warning.message}
`);
}
async function upCommand(args) {
  const { values } = parse3(args, {
    ...SOURCE_OPTIONS,
    vms: { type: "string", default: "3" },
    "work-dir": { type: "string", default: DEFAULT_WORK_DIR },
    group: { type: "string" },
    template: { type: "string" },
    "min-size": { type: "string" },
    "qcow2-options": { type: "string" },
    recreate: { type: "boolean", default: false },
    "domain-type": { type: "string", default: "auto" },
    network: { type: "string", default: "none" },
    memory: { type: "string" },
    vcpus: { type: "string" },
    kernel: { type: "string" },
    initrd: { type: "string" },
    cmdline: { type: "string" },
    uefi: { type: "string" },
    start: { type: "boolean", default: false },
    connect: { type: "string" }
  });
  const domainType = parseDomainType(values["domain-type"], "--domain-type");
  const manifest = await withProgressAndInterrupts(async (hooks) => {
    const { up: up2 } = await Promise.resolve().then(() => (init_up(), up_exports));
    return up2({
      ...sourceOptions(values),
      ...hooks,
      workDir: values["work-dir"],
      vms: parseVmList(values.vms, "--vms"),
      group: values.group,
      template: values.template,
      minSizeBytes: values["min-size"] === void 0 ? void 0 : parseSize(values["min-size"], "--min-size"),
      qcow2Options: values["qcow2-options"],
      recreate: values.recreate,
      domainType,
      network: parseNetwork(values.network, "--network"),
      memoryMiB: parsePositiveInt(values.memory, "--memory"),
      vcpus: parsePositiveInt(values.vcpus, "--vcpus"),
      kernel: values.kernel,
      initrd: values.initrd,
      cmdline: values.cmdline,
      uefiLoader: values.uefi,
      start: values.start,
      connect: values.connect
    });
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(manifest, null, 2)}
`);
    return 0;
  }
  const lines = [
    `base:      ${manifest.base} (${manifest.cacheHit === "miss" ? "extracted now" : `cache hit: ${manifest.cacheHit}`})`,
    `manifest:  ${manifest.workDir}/manifest.json`,
    `domains:   ${manifest.domainType}${values.start ? ", started" : " (not started; use --start or virsh create <xml>)"}`,
    ...manifest.vms.map((vm) => `  ${vm.name.padEnd(12)} ${vm.mac}  ${vm.overlay}`)
  ];
  process.stdout.write(`${lines.join("\n")}
`);
  return 0;
}
async function downCommand(args) {
  const { values } = parse3(args, {
    "work-dir": { type: "string", default: DEFAULT_WORK_DIR },
    connect: { type: "string" },
    json: { type: "boolean", default: false }
  });
  const { down: down2 } = await Promise.resolve().then(() => (init_down(), down_exports));
  const warnings = [];
  const result = await withProgressAndInterrupts(
    (hooks) => down2({
      workDir: values["work-dir"],
      connect: values.connect,
      signal: hooks.signal,
      onWarning: (warning) => {
        warnings.push(warning.message);
        hooks.onWarning(warning);
      }
    })
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...result, warnings })}
`);
  } else {
    process.stdout.write(`${result.workDir}: stopped ${result.destroyed.length} domain(s), removed ${result.removed.length} file(s); the base stays in the store
`);
  }
  return 0;
}
var USAGE, SOURCE_OPTIONS, DEFAULT_WORK_DIR;
var init_main = __esm({
  "src/cli/main.ts"() {
    "use strict";
    init_errors();
    init_virsh();
    init_layout();
    init_ensure_base();
    init_overlay();
    init_numbers();
    init_size();
    init_vms();
    init_default_image();
    init_hints();
    init_interrupt();
    init_progress();
    USAGE = `usage: basecow <command> [options]

commands:
  prepare   extract a source image once into the base store and print its path
            --image <path>      .img.zst/.zst, .tar.zst/.tzst/.tar, or raw .img/.raw
                                (default: the embedded demo image)
            --key <key>         use this key instead of the sha256 of the source
            --member <name>     tar member holding the disk (default disk.img)
            --cache-dir <dir>   base store (default $BASECOW_CACHE_DIR or ~/.cache/basecow)
            --json              print one JSON object on stdout, logs on stderr

  up        prepare the base, then give every VM a qcow2 overlay, its extra disks and a
            libvirt domain XML, and write <work-dir>/manifest.json
            --image, --key, --member, --cache-dir   as for prepare
            --vms <n|a,b,c|vms.json>   VMs to make (default 3: vm1..vm3)
            --work-dir <dir>    where overlays, XML and the manifest go (default ./.basecow/testnet)
            --group <name>      prefix of the domain names (default derived from the work dir)
            --template <file>   mustache domain template (default templates/domain.xml.mustache)
            --min-size <size>   grow-only minimum disk size, e.g. 32G
            --qcow2-options <o> overlay creation options (default ${DEFAULT_QCOW2_OPTIONS})
            --recreate          replace existing overlays and extra disks (their writes are lost)
            --domain-type <t>   auto (kvm when /dev/kvm is usable), kvm or qemu
            --network <n>       none, bridge:<br>, network:<libvirt net> or tap:<dev> (default none)
            --memory <MiB> --vcpus <n>
            --kernel <f> --initrd <f> --cmdline <s>   direct kernel boot ({{vmName}} expands)
            --uefi <OVMF_CODE.fd>   boot with this UEFI firmware
            --start             start each domain with virsh create
            --connect <uri>     libvirt URI (default ${DEFAULT_CONNECT_URI})
            --json              print the manifest on stdout and nothing else
  down      stop the domains of a work dir and remove their overlays, extra disks and XML
            --work-dir <dir> --connect <uri> --json

exit status: 0 on success, 1 on failure, 2 on bad usage, 130/143 when stopped by SIGINT/SIGTERM`;
    SOURCE_OPTIONS = {
      image: { type: "string" },
      key: { type: "string" },
      member: { type: "string" },
      "cache-dir": { type: "string" },
      json: { type: "boolean", default: false }
    };
    DEFAULT_WORK_DIR = ".basecow/testnet";
  }
});

// src/cli/index.ts
init_stream();
if (process.argv[2] === "prepare" || process.argv[2] === "up") prestartDecoder();
var { main: main2 } = await Promise.resolve().then(() => (init_main(), main_exports));
process.exitCode = await main2(process.argv.slice(2));
