import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { SourceError } from '../../errors.js';
import type { ProgressSink } from '../chunks.js';
import { SpareWorkers } from '../spare-workers.js';
import { WASM_PAGE, offerInPlaceHashing, wasmMemory } from '../wasm-memory.js';
import { XXH64_STATE_BYTES, Xxh64 } from './xxh64.js';

const INPUT_SIZE = 4 * 1024 * 1024;
/**
 * Output slots are small enough that the few in use while the writer keeps up stay in the CPU's
 * caches between the worker decoding into one and the writer copying it out (into the page cache,
 * or into the direct-write stage): measured against 4 MiB buffers with page cache writes, this cut
 * the writing thread's system time by half and the wall time by a fifth. The worker reuses the
 * slot freed last, so an idle slot costs address space, not cache.
 */
const SLOT_SIZE = 512 * 1024;
/**
 * 32 MiB of slack between the decoder and the disk. Direct writes go at the disk's pace, which on a
 * virtual disk comes in bursts: with 4 MiB the decoder stood waiting 0.1-0.3 s per 1.6 GiB image,
 * with 32 MiB about a third of that (the rest is where the disk is slower than the decoder overall).
 */
const SLOT_COUNT = 64;
/** The first WebAssembly page holds the checksum state; slots follow, page-aligned. */
const SLOTS_AT = WASM_PAGE;
/**
 * Chunks reach the consumer in microtasks and message callbacks, and a consumer that writes
 * synchronously would then never let timers run (the lock heartbeat among them). Turning the event
 * loop this often bounds that.
 */
const TURN_EVERY_MS = 20;

/**
 * A chunk is a view of a slot, valid until the consumer asks for the next one; a consumer that keeps
 * it longer reads whatever the worker decodes there next, which goes unnoticed whenever that happens
 * to be the same bytes or the race is lost. With BASECOW_POISON_RELEASED_SLOTS=1 (the test suite
 * sets it) every released slot is overwritten with SLOT_POISON before the worker may reuse it, so a
 * retained view reads poison every time and byte-equality tests catch the misuse deterministically.
 */
const POISON_RELEASED_SLOTS = process.env.BASECOW_POISON_RELEASED_SLOTS === '1';
export const SLOT_POISON = 0xdb;

/** Where a frame ended within a slot's output, with the checksum the frame carries. */
export interface FrameEnd {
  /** Offset in the slot just past the frame's last byte of output. */
  at: number;
  /** File offset just past the frame (its checksum is the 4 bytes before). */
  compressedEnd: number;
  /** The low 32 bits of XXH64 of the frame's content, or null if the frame carries none. */
  checksum: number | null;
}

/** Told the file offset just past each frame once its content has passed its checksum. */
export type FrameEndSink = (compressedEnd: number) => void;

/** A slot the worker has decoded into, in the order of the output. */
export interface DecodedSlot {
  slot: number;
  length: number;
  /** Frames that end within this slot's output, in order. */
  frameEnds: FrameEnd[];
}

export interface ZstdWorkerData {
  path: string;
  inputSize: number;
  /** The shared WebAssembly memory's buffer: slot i is [slotsAt + i * slotSize, + slotSize). */
  memory: SharedArrayBuffer;
  slotsAt: number;
  slotSize: number;
  slotCount: number;
  /** One Int32: how many slots the consumer has finished with, ever. */
  released: SharedArrayBuffer;
}

/**
 * A decoder thread started before it is needed. A thread takes about 40 ms to start; started first
 * thing in a process, that overlaps loading the rest of the program on the other core.
 */
const spareDecoder = new SpareWorkers(() => new Worker(new URL('./decode-worker.js', import.meta.url)), 'decompression worker');

/** Starts a decoder thread for the next ZstdStream of this process to take. */
export function prestartDecoder(): void {
  spareDecoder.fill(1);
}

export type ZstdMessage =
  | { kind: 'read'; position: number }
  | { kind: 'data'; slots: DecodedSlot[] }
  | { kind: 'end'; consumed: number; frameOpen: boolean }
  /** betweenFrames: the bad bytes are where a new frame should start, after a complete one. */
  | { kind: 'corrupt'; consumed: number; message: string; betweenFrames: boolean }
  | { kind: 'failed'; message: string };

/**
 * Hashes a slot's output, memory[at, at + length), and checks every frame that ends in it against
 * the checksum the frame carries; the hash of a frame that goes on carries over to the next slot.
 */
function checkFrames(path: string, checksum: Xxh64, at: number, length: number, frameEnds: FrameEnd[], onFrameEnd?: FrameEndSink): void {
  let hashed = 0;
  for (const end of frameEnds) {
    checksum.update(at + hashed, end.at - hashed);
    hashed = end.at;
    if (end.checksum !== null && Number(checksum.digest() & 0xffffffffn) !== end.checksum) {
      throw new SourceError(path, `corrupt zstd data: the frame that ends at compressed byte ${end.compressedEnd} decodes to content that does not match its checksum`);
    }
    checksum.reset();
    onFrameEnd?.(end.compressedEnd);
  }
  checksum.update(at + hashed, length - hashed);
}

/**
 * Decompresses every zstd frame of a file (skippable frames included) in constant memory, and
 * checks each frame's content checksum. The decoding runs on a worker thread; the main thread's
 * event loop, and with it the lock heartbeat, stays free. A stream is iterated once.
 *
 * A yielded chunk is a view of a slot the worker decodes into: it is valid until the consumer asks
 * for the next one, and then the slot goes back to the worker. Consumers copy what they keep
 * longer (see POISON_RELEASED_SLOTS for how tests hold them to it). A frame whose content does not match its checksum fails before the chunk holding the
 * frame's end is yielded, so a consumer never finishes on damaged data.
 */
export class ZstdStream implements AsyncIterable<Buffer> {
  constructor(
    readonly path: string,
    private readonly onRead?: ProgressSink,
    private readonly onFrameEnd?: FrameEndSink,
  ) {}

  [Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    return this.chunks();
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    const { path, onRead, onFrameEnd } = this;
    const memory = wasmMemory(SLOTS_AT + SLOT_COUNT * SLOT_SIZE, true);
    const shared = memory.buffer as unknown as SharedArrayBuffer;
    const checksum = new Xxh64(memory, 0);
    // The frame checksum's state is at 0; the raw digest may keep its own after it.
    offerInPlaceHashing(memory, XXH64_STATE_BYTES);
    const released = new SharedArrayBuffer(4);
    const releasedSlots = new Int32Array(released);
    const data: ZstdWorkerData = { path, inputSize: INPUT_SIZE, memory: shared, slotsAt: SLOTS_AT, slotSize: SLOT_SIZE, slotCount: SLOT_COUNT, released };
    const worker = spareDecoder.take();
    const queue: (ZstdMessage | { kind: 'crash'; error: Error })[] = [];
    let wake: (() => void) | undefined;
    const push = (m: (typeof queue)[number]): void => {
      queue.push(m);
      wake?.();
    };
    worker.on('message', push);
    worker.on('error', (error) => push({ kind: 'crash', error }));
    // Only reached as a message when the worker died without saying 'end' (killed, out of memory).
    worker.on('exit', (code) => push({ kind: 'crash', error: new Error(`decompression worker exited with code ${code}`) }));
    worker.postMessage(data);
    let sawInput = false;
    let lastTurn = performance.now();
    try {
      for (;;) {
        // A wake-up from a message is no turn of the event loop: Node delivers port messages in a
        // loop for as long as they keep coming, so only setImmediate below lets timers run.
        while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const message = queue.shift()!;
        switch (message.kind) {
          case 'read':
            sawInput = true;
            onRead?.(message.position);
            break;
          case 'data':
            for (const { slot, length, frameEnds } of message.slots) {
              if (performance.now() - lastTurn > TURN_EVERY_MS) {
                await nextTurn();
                lastTurn = performance.now();
              }
              const at = SLOTS_AT + slot * SLOT_SIZE;
              checkFrames(path, checksum, at, length, frameEnds, onFrameEnd);
              if (length > 0) yield Buffer.from(shared, at, length);
              if (POISON_RELEASED_SLOTS) new Uint8Array(shared, at, SLOT_SIZE).fill(SLOT_POISON);
              Atomics.add(releasedSlots, 0, 1);
              Atomics.notify(releasedSlots, 0);
            }
            break;
          case 'end':
            if (!sawInput) throw new SourceError(path, 'file is empty, expected zstd-compressed data');
            if (message.frameOpen) {
              throw new SourceError(path, `truncated zstd data: the input ends inside a frame after ${message.consumed} compressed bytes`);
            }
            return;
          case 'corrupt':
            // zstd reports a window it cannot allocate as a decoding error; the data is not at fault.
            if (/allocation error/i.test(message.message)) {
              throw new SourceError(path, `cannot decode the zstd frame near compressed byte ${message.consumed}: ${message.message} (its window needs more memory than this process could get)`);
            }
            if (message.betweenFrames) {
              throw new SourceError(path, `the data from compressed byte ${message.consumed} on, after a complete zstd frame, is not another frame (${message.message}): trailing garbage, or a damaged frame header`);
            }
            throw new SourceError(path, `corrupt zstd data near compressed byte ${message.consumed}: ${message.message}`);
          case 'failed':
            throw new SourceError(path, `cannot read the source image: ${message.message}`);
          case 'crash':
            throw new SourceError(path, `zstd decompression stopped: ${message.error.message}`, { cause: message.error });
        }
      }
    } finally {
      await worker.terminate();
    }
  }
}
