import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/extract/wasm-memory.ts
var WASM_PAGE = 64 * 1024;
function wasmMemory(bytes, shared = false) {
  const pages = bytes / WASM_PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
}
var inPlaceHashing = /* @__PURE__ */ new WeakMap();
function offerInPlaceHashing(memory, stateAt) {
  inPlaceHashing.set(memory.buffer, { memory, stateAt });
}
function inPlaceHashingOf(buffer) {
  return inPlaceHashing.get(buffer);
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
  /**
   * Hands this hash's progress to `other` (lanes, carried bytes, counts), so that `other` goes on
   * where this one stopped, over another memory: hashing bytes where they lie instead of copying
   * them into this hash's memory first.
   */
  copyStateTo(other) {
    other.bytes.set(this.bytes.subarray(this.stateAt, this.stateAt + XXH64_STATE_BYTES), other.stateAt);
    other.carried = this.carried;
    other.total = this.total;
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

export {
  WASM_PAGE,
  wasmMemory,
  offerInPlaceHashing,
  inPlaceHashingOf,
  XXH64_STATE_BYTES,
  Xxh64
};
