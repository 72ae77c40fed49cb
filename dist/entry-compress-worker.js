import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/entry/entry-compress-worker.ts
import { open } from "node:fs/promises";
import { parentPort } from "node:worker_threads";

// zstd-addon:zstd-napi-binding
import { createRequire } from "node:module";
var zstd_napi_binding_default = createRequire(import.meta.url)("./zstd-napi.node");

// src/core/extract/wasm-memory.ts
var WASM_PAGE = 64 * 1024;
function wasmMemory(bytes, shared = false) {
  const pages = bytes / WASM_PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
}

// src/core/extract/zstd/xxh64-wasm.ts
var XXH64_WASM = "AGFzbQEAAAABBwFgA39/fwACEgEDZW52Bm1lbW9yeQIDAYCABAMCAQAHCwEHc3RyaXBlcwAACvYBAfMBAgR+AX8gAikDACEDIAIpAwghBCACKQMQIQUgAikDGCEGIAAgAUFgcWohBwJAIAAgB08NAANAIAMgACkDAELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEDIAQgACkDCELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEEIAUgACkDEELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEFIAYgACkDGELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEGIABBIGohACAAIAdJDQALCyACIAM3AwAgAiAENwMIIAIgBTcDECACIAY3AxgL";

// src/core/extract/zstd/xxh64.ts
var PRIME1 = 0x9e3779b185ebca87n;
var PRIME2 = 0xc2b2ae3d27d4eb4fn;
var PRIME3 = 0x165667b19e3779f9n;
var PRIME4 = 0x85ebca77c2b2ae63n;
var PRIME5 = 0x27d4eb2f165667c5n;
var MASK = (1n << 64n) - 1n;
var STRIPE = 32;
var XXH64_STATE_BYTES = 2 * STRIPE;
var rotl = (x, bits) => (x << bits | x >> 64n - bits) & MASK;
var round = (lane, input) => rotl(lane + input * PRIME2 & MASK, 31n) * PRIME1 & MASK;
var mergeLane = (h, lane) => ((h ^ round(0n, lane)) * PRIME1 & MASK) + PRIME4 & MASK;
var compiled;
var Xxh64 = class {
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

// src/core/extract/raw-digest.ts
var RAW_DIGEST_SEGMENT = 32 * 1024 * 1024;
var STAGE_SIZE = 1024 * 1024;
var ZEROS_SIZE = 256 * 1024;
var BufferHasher = class {
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
var READ_SIZE = 4 * 1024 * 1024;

// src/core/extract/zero-blocks.ts
var ZERO_SPAN = 64 * 1024;
var ZEROS = Buffer.alloc(ZERO_SPAN);
function isZero(buf, start, end) {
  if (buf[start] !== 0 || buf[end - 1] !== 0 || buf[start + end >>> 1] !== 0) return false;
  for (let at = start; at < end; at += ZERO_SPAN) {
    const stop = Math.min(end, at + ZERO_SPAN);
    if (ZEROS.compare(buf, at, stop, 0, stop - at) !== 0) return false;
  }
  return true;
}

// src/core/entry/entry-compress-worker.ts
var BLOCK = 4096;
var port = parentPort;
function planRuns(buf, length, minHole) {
  const runs = [];
  let dataStart = -1;
  let zeroStart = -1;
  const closeZeros = (end, last) => {
    if (end - zeroStart >= minHole || last && dataStart < 0) {
      if (dataStart >= 0) runs.push({ kind: "data", offset: dataStart, length: zeroStart - dataStart });
      runs.push({ kind: "hole", offset: zeroStart, length: end - zeroStart });
      dataStart = -1;
    } else if (dataStart < 0) {
      dataStart = zeroStart;
    }
    zeroStart = -1;
  };
  for (let at = 0; at < length; at += BLOCK) {
    const end = Math.min(length, at + BLOCK);
    if (isZero(buf, at, end)) {
      if (zeroStart < 0) zeroStart = at;
    } else {
      if (zeroStart >= 0) closeZeros(at, false);
      if (dataStart < 0) dataStart = at;
    }
  }
  if (zeroStart >= 0) closeZeros(length, true);
  if (dataStart >= 0) runs.push({ kind: "data", offset: dataStart, length: length - dataStart });
  return runs;
}
function main(init) {
  const hasher = new BufferHasher(init.segmentSize);
  const input = hasher.extra;
  const cctx = new zstd_napi_binding_default.CCtx();
  cctx.setParameter(zstd_napi_binding_default.CParameter.compressionLevel, init.level);
  cctx.setParameter(zstd_napi_binding_default.CParameter.checksumFlag, 1);
  cctx.setParameter(zstd_napi_binding_default.CParameter.contentSizeFlag, 1);
  const output = Buffer.allocUnsafe(init.segmentSize + (init.segmentSize >> 7) + 65536);
  const fileOpened = open(init.path, "r");
  port.on("message", (request) => {
    void (async () => {
      const file = await fileOpened;
      let filled = 0;
      while (filled < request.length) {
        const { bytesRead } = await file.read(input, filled, request.length - filled, request.start + filled);
        if (bytesRead === 0) throw new Error(`${init.path} ended at ${request.start + filled} while it was read (it is ${request.length + request.start} bytes or more)`);
        filled += bytesRead;
      }
      const segment = input.subarray(0, request.length);
      hasher.reset();
      hasher.update(segment);
      const runs = [];
      let produced = 0;
      for (const run of planRuns(segment, request.length, init.minHole)) {
        let compressedSize = 0;
        if (run.kind === "data") {
          compressedSize = cctx.compress2(output.subarray(produced), segment.subarray(run.offset, run.offset + run.length));
          produced += compressedSize;
        }
        runs.push({ ...run, offset: request.start + run.offset, compressedSize });
      }
      const frames = new Uint8Array(produced);
      frames.set(output.subarray(0, produced));
      port.postMessage({ kind: "done", index: request.index, hash: hasher.digest(), runs, frames }, [frames.buffer]);
    })().catch((error) => {
      port.postMessage({ kind: "failed", index: request.index, message: error.message });
    });
  });
}
port.once("message", main);
export {
  planRuns
};
