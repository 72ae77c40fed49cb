import { open } from 'node:fs/promises';
import { WASM_PAGE, inPlaceHashingOf, wasmMemory } from './wasm-memory.js';
import { Xxh64 } from './zstd/xxh64.js';

/**
 * The raw digest of a base: what a base holds, byte for byte, whichever way it was made (extracted
 * from any source, restored from an L2 entry, decoded by several workers at once) and however its
 * holes lie. Definition (`xxh64seg-32m`): cut the raw image (holes read as zeros) into segments of
 * 32 MiB, the last one shorter; h_i = XXH64(segment i, seed 0); the digest is XXH64 (seed 0) of
 * h_0 ‖ h_1 ‖ … as 64-bit little-endian words, written `xxh64seg-32m:<16 hex digits>`.
 *
 * Why segments: XXH64 cannot be merged, so one hash over the whole image could only be computed in
 * order; per-segment hashes let parallel decoders hash their own segments, an all-zero segment's hash
 * is a constant (holes cost nothing), and the image's length is in the last segment's hash. XXH64
 * because its WebAssembly loop runs at memory speed (~14 GB/s here) on the thread that is idle while
 * the decoder works. It guards against damage and mistakes, not against an attacker.
 */
export const RAW_DIGEST_SEGMENT = 32 * 1024 * 1024;
export const RAW_DIGEST_ALGORITHM = 'xxh64seg-32m';

const STAGE_SIZE = 1024 * 1024;
const ZEROS_SIZE = 256 * 1024;

/**
 * Streaming XXH64 over bytes anywhere: the hash runs over WebAssembly memory, so bytes in a memory
 * that offers in-place hashing (the decoder's slots) are hashed where they lie, and bytes from
 * elsewhere are copied through a 1 MiB stage (it stays in the CPU's caches); `extra` is memory of
 * its own that callers can read into to be hashed where they lie.
 */
export class BufferHasher {
  readonly extra: Buffer;
  private readonly xxh: Xxh64;
  private readonly memory: WebAssembly.Memory;
  private readonly buffer: ArrayBufferLike;
  private readonly stageAt = WASM_PAGE;
  private readonly zerosAt = WASM_PAGE + STAGE_SIZE;
  private readonly extraAt = WASM_PAGE + STAGE_SIZE + ZEROS_SIZE;

  constructor(extraBytes = 0) {
    const extra = Math.ceil(extraBytes / WASM_PAGE) * WASM_PAGE;
    // Shared because the hashing module declares its memory shared (the decoder's slots are).
    this.memory = wasmMemory(this.extraAt + extra, true);
    this.buffer = this.memory.buffer;
    this.xxh = new Xxh64(this.memory, 0);
    this.extra = Buffer.from(this.buffer, this.extraAt, extraBytes);
  }

  reset(): void {
    this.xxh.reset();
  }

  private readonly foreign = new WeakMap<ArrayBufferLike, Xxh64>();

  /** A hash over the memory `buffer` belongs to, when that memory offers hashing in place. */
  private inPlace(buffer: ArrayBufferLike): Xxh64 | undefined {
    let xxh = this.foreign.get(buffer);
    if (!xxh) {
      const offer = inPlaceHashingOf(buffer);
      if (!offer) return undefined;
      xxh = new Xxh64(offer.memory, offer.stateAt);
      this.foreign.set(buffer, xxh);
    }
    return xxh;
  }

  update(buf: Uint8Array): void {
    if (buf.buffer === this.buffer) {
      this.xxh.update(buf.byteOffset, buf.length);
      return;
    }
    const there = this.inPlace(buf.buffer);
    if (there) {
      // Synchronous from the state's copy in to its copy out, so nothing else uses that area meanwhile.
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

  updateZeros(length: number): void {
    for (let left = length; left > 0; left -= ZEROS_SIZE) this.xxh.update(this.zerosAt, Math.min(left, ZEROS_SIZE));
  }

  digest(): bigint {
    return this.xxh.digest();
  }
}

let zeroSegment: bigint | undefined;

/** XXH64 of a whole segment of zeros: every hole that covers a segment has this hash. */
export function zeroSegmentHash(): bigint {
  if (zeroSegment === undefined) {
    const hasher = new BufferHasher();
    hasher.updateZeros(RAW_DIGEST_SEGMENT);
    zeroSegment = hasher.digest();
  }
  return zeroSegment;
}

/** The raw digest from its segment hashes, in order. */
export function rawDigestFromSegments(segments: readonly bigint[]): string {
  const words = Buffer.alloc(8 * segments.length);
  segments.forEach((hash, i) => words.writeBigUInt64LE(hash, 8 * i));
  const hasher = new BufferHasher();
  hasher.update(words);
  return formatRawDigest(hasher.digest());
}

export function formatRawDigest(value: bigint): string {
  return `${RAW_DIGEST_ALGORITHM}:${value.toString(16).padStart(16, '0')}`;
}

/** The 64-bit value of a digest string, or undefined if it is not an `xxh64seg-32m` digest. */
export function parseRawDigest(digest: string): bigint | undefined {
  const match = new RegExp(`^${RAW_DIGEST_ALGORITHM}:([0-9a-f]{16})$`).exec(digest);
  return match ? BigInt(`0x${match[1]}`) : undefined;
}

/**
 * The raw digest of data that arrives in order: update() with data at increasing positions (what
 * lies between is zeros: a hole), finish() with the final size (trailing holes included).
 */
export class RawDigest {
  private readonly hasher = new BufferHasher();
  private readonly segments: bigint[] = [];
  /** Bytes accounted for so far, from 0. */
  private position = 0;

  /** Whether data at `position` can still be taken (nothing after it was taken yet). */
  accepts(position: number): boolean {
    return position >= this.position;
  }

  update(buf: Uint8Array, position: number): void {
    if (!this.accepts(position)) throw new Error(`raw digest: data at offset ${position} arrived after offset ${this.position}`);
    this.zerosTo(position);
    for (let at = 0; at < buf.length; ) {
      const take = Math.min(buf.length - at, RAW_DIGEST_SEGMENT - (this.position % RAW_DIGEST_SEGMENT));
      this.hasher.update(buf.subarray(at, at + take));
      this.advance(take);
      at += take;
    }
  }

  finish(size: number): string {
    if (size < this.position) throw new Error(`raw digest: size ${size} is below the ${this.position} bytes hashed`);
    this.zerosTo(size);
    if (this.position % RAW_DIGEST_SEGMENT !== 0) this.segments.push(this.hasher.digest());
    return rawDigestFromSegments(this.segments);
  }

  private advance(length: number): void {
    this.position += length;
    if (this.position % RAW_DIGEST_SEGMENT === 0) {
      this.segments.push(this.hasher.digest());
      this.hasher.reset();
    }
  }

  private zerosTo(end: number): void {
    while (this.position < end) {
      if (this.position % RAW_DIGEST_SEGMENT === 0 && end - this.position >= RAW_DIGEST_SEGMENT) {
        this.segments.push(zeroSegmentHash());
        this.position += RAW_DIGEST_SEGMENT;
        continue;
      }
      const take = Math.min(end - this.position, RAW_DIGEST_SEGMENT - (this.position % RAW_DIGEST_SEGMENT));
      this.hasher.updateZeros(take);
      this.advance(take);
    }
  }
}

const READ_SIZE = 4 * 1024 * 1024;

/** The raw digest of an existing file (a published base, to check it again), holes read as zeros. */
export async function computeRawDigest(path: string, signal?: AbortSignal): Promise<string> {
  const digest = new RawDigest();
  const file = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    let position = 0;
    for (;;) {
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
