import { XXH64_WASM } from './xxh64-wasm.js';

const PRIME1 = 0x9e3779b185ebca87n;
const PRIME2 = 0xc2b2ae3d27d4eb4fn;
const PRIME3 = 0x165667b19e3779f9n;
const PRIME4 = 0x85ebca77c2b2ae63n;
const PRIME5 = 0x27d4eb2f165667c5n;
const MASK = (1n << 64n) - 1n;
const STRIPE = 32;
/** Bytes of memory an Xxh64 keeps its state in: four lanes, then a partial stripe. */
export const XXH64_STATE_BYTES = 2 * STRIPE;

const rotl = (x: bigint, bits: bigint): bigint => ((x << bits) | (x >> (64n - bits))) & MASK;
const round = (lane: bigint, input: bigint): bigint => (rotl((lane + input * PRIME2) & MASK, 31n) * PRIME1) & MASK;
const mergeLane = (h: bigint, lane: bigint): bigint => ((((h ^ round(0n, lane)) * PRIME1) & MASK) + PRIME4) & MASK;

let compiled: WebAssembly.Module | undefined;

type Stripes = (at: number, length: number, lanes: number) => void;

/**
 * XXH64 with seed 0 (what a zstd frame's content checksum is the low half of), over bytes that lie
 * in a shared WebAssembly memory: the decoder thread's output is hashed where it was decoded, on
 * the other core, instead of by the decoder itself (about an eighth of its time).
 */
export class Xxh64 {
  private readonly stripes: Stripes;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly carryAt: number;
  private carried = 0;
  private total = 0;

  /** Keeps its state in memory[stateAt, stateAt + XXH64_STATE_BYTES); stateAt must be 8-aligned. */
  constructor(memory: WebAssembly.Memory, private readonly stateAt: number) {
    compiled ??= new WebAssembly.Module(Buffer.from(XXH64_WASM, 'base64'));
    this.stripes = new WebAssembly.Instance(compiled, { env: { memory } }).exports.stripes as Stripes;
    this.bytes = new Uint8Array(memory.buffer);
    this.view = new DataView(memory.buffer);
    this.carryAt = stateAt + STRIPE;
    this.reset();
  }

  /** Starts over, as for a new frame. */
  reset(): void {
    const lanes = [(PRIME1 + PRIME2) & MASK, PRIME2, 0n, (0n - PRIME1) & MASK];
    lanes.forEach((lane, i) => this.view.setBigUint64(this.stateAt + 8 * i, lane, true));
    this.carried = 0;
    this.total = 0;
  }

  /** Hashes memory[at, at + length) after what came before. */
  update(at: number, length: number): void {
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
    const whole = length - (length % STRIPE);
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
  copyStateTo(other: Xxh64): void {
    other.bytes.set(this.bytes.subarray(this.stateAt, this.stateAt + XXH64_STATE_BYTES), other.stateAt);
    other.carried = this.carried;
    other.total = this.total;
  }

  /** The hash of everything since the last reset (the state stays as it is). */
  digest(): bigint {
    let h: bigint;
    if (this.total >= STRIPE) {
      const lanes = [0, 1, 2, 3].map((i) => this.view.getBigUint64(this.stateAt + 8 * i, true));
      h = (rotl(lanes[0], 1n) + rotl(lanes[1], 7n) + rotl(lanes[2], 12n) + rotl(lanes[3], 18n)) & MASK;
      for (const lane of lanes) h = mergeLane(h, lane);
    } else {
      h = PRIME5;
    }
    h = (h + BigInt(this.total)) & MASK;
    let at = this.carryAt;
    const end = this.carryAt + this.carried;
    for (; at + 8 <= end; at += 8) {
      h ^= round(0n, this.view.getBigUint64(at, true));
      h = (rotl(h, 27n) * PRIME1 + PRIME4) & MASK;
    }
    if (at + 4 <= end) {
      h ^= (BigInt(this.view.getUint32(at, true)) * PRIME1) & MASK;
      h = (rotl(h, 23n) * PRIME2 + PRIME3) & MASK;
      at += 4;
    }
    for (; at < end; at++) {
      h ^= (BigInt(this.bytes[at]) * PRIME5) & MASK;
      h = (rotl(h, 11n) * PRIME1) & MASK;
    }
    h ^= h >> 33n;
    h = (h * PRIME2) & MASK;
    h ^= h >> 29n;
    h = (h * PRIME3) & MASK;
    h ^= h >> 32n;
    return h;
  }
}
