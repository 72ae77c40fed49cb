import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  WASM_PAGE,
  Xxh64,
  inPlaceHashingOf,
  wasmMemory
} from "./chunk-XJ5TQIRZ.js";

// src/core/extract/raw-digest.ts
import { open } from "node:fs/promises";
var RAW_DIGEST_SEGMENT = 32 * 1024 * 1024;
var RAW_DIGEST_ALGORITHM = "xxh64seg-32m";
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
  foreign = /* @__PURE__ */ new WeakMap();
  /** A hash over the memory `buffer` belongs to, when that memory offers hashing in place. */
  inPlace(buffer) {
    let xxh = this.foreign.get(buffer);
    if (!xxh) {
      const offer = inPlaceHashingOf(buffer);
      if (!offer) return void 0;
      xxh = new Xxh64(offer.memory, offer.stateAt);
      this.foreign.set(buffer, xxh);
    }
    return xxh;
  }
  update(buf) {
    if (buf.buffer === this.buffer) {
      this.xxh.update(buf.byteOffset, buf.length);
      return;
    }
    const there = this.inPlace(buf.buffer);
    if (there) {
      this.xxh.copyStateTo(there);
      there.update(buf.byteOffset, buf.length);
      there.copyStateTo(this.xxh);
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
var zeroSegment;
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
function parseRawDigest(digest) {
  const match = new RegExp(`^${RAW_DIGEST_ALGORITHM}:([0-9a-f]{16})$`).exec(digest);
  return match ? BigInt(`0x${match[1]}`) : void 0;
}
var RawDigest = class {
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
var READ_SIZE = 4 * 1024 * 1024;
async function computeRawDigest(path, signal) {
  const digest = new RawDigest();
  const file = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    let position = 0;
    for (; ; ) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(buf, 0, READ_SIZE, position);
      if (bytesRead === 0) break;
      digest.update(buf.subarray(0, bytesRead), position);
      position += bytesRead;
    }
    return digest.finish(position);
  } finally {
    await file.close();
  }
}

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

export {
  RAW_DIGEST_SEGMENT,
  BufferHasher,
  zeroSegmentHash,
  rawDigestFromSegments,
  formatRawDigest,
  parseRawDigest,
  RawDigest,
  computeRawDigest,
  isZero
};
