// Decompresses one zstd file on a worker thread, so decompression (the slowest step) runs on one
// core while the main thread checks frames, finds holes and issues writes on the other. It decodes
// into slots of memory it shares with the main thread, so no output is copied or transferred. The
// thread may start before its file is known (prestartDecoder): it gets its ZstdWorkerData as the
// first message. Protocol: see ZstdMessage in zstd-stream.ts.
import { open, type FileHandle } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { ZSTD_MAGIC } from '../chunks.js';
import { newDecoder } from './decoder.js';
import type { DecodedSlot, FrameEnd, ZstdMessage, ZstdWorkerData } from './stream.js';

const CHECKSUM_FLAG = 0x04;
/**
 * zstd's error for bytes that do not start with a frame's magic number. Any other error where a
 * frame should start comes from inside a frame whose magic was fine (a damaged header or block of
 * a small frame that the decoder met in one call), and is reported as corruption there.
 */
const NOT_A_FRAME = /unknown frame descriptor/i;

/**
 * Decoded slots announced per message. A message costs this thread 10-15 us: 30-55 ms over the
 * bench's 1.6 GiB image with a message per slot, 16-21 ms with slots in fours (other messages and
 * waits send the ones pending earlier). The consumer learns of a slot at most three slots' decoding
 * (about a millisecond) late.
 */
const SLOTS_PER_MESSAGE = 4;

const port = parentPort!;
/** Decoded slots not yet announced: they go out before any other message, so order is kept. */
let unannounced: DecodedSlot[] = [];

function announce(): void {
  if (unannounced.length === 0) return;
  port.postMessage({ kind: 'data', slots: unannounced } satisfies ZstdMessage);
  unannounced = [];
}

function post(message: ZstdMessage): void {
  announce();
  port.postMessage(message);
}

/** Input bytes the decoder is working through: file[at, at + bytes.length). */
interface InputWindow {
  at: number;
  bytes: Buffer;
}

/** file[position, position + length), from the input in memory where it lies there, else read. */
async function bytesAt(file: FileHandle, input: InputWindow, position: number, length: number): Promise<Buffer> {
  const offset = position - input.at;
  if (offset >= 0 && offset + length <= input.bytes.length) return input.bytes.subarray(offset, offset + length);
  const bytes = Buffer.alloc(length);
  await file.read(bytes, 0, length, position);
  return bytes;
}

/**
 * The checksum a frame ends with (the low 32 bits of XXH64 of its content), or null if it has none
 * (flag unset, or a skippable frame). The frame lies at [start, end) of the file; the decoder has
 * already accepted its header. Both are usually still in the input being decoded; a file of many
 * tiny frames would otherwise cost two reads per frame.
 */
async function frameChecksum(file: FileHandle, input: InputWindow, start: number, end: number): Promise<number | null> {
  const header = await bytesAt(file, input, start, 5);
  if (header.readUInt32LE(0) !== ZSTD_MAGIC || (header[4] & CHECKSUM_FLAG) === 0) return null;
  return (await bytesAt(file, input, end - 4, 4)).readUInt32LE(0);
}

/**
 * Reads run one chunk ahead on a pool thread: copying the next 4 MiB in (or waiting for the disk)
 * overlaps the decoding of the current one, which is the slowest step of the whole extraction.
 */
async function run({ path, inputSize, memory, slotsAt, slotSize, slotCount, released }: ZstdWorkerData): Promise<void> {
  const releasedSlots = new Int32Array(released);
  /** Slots handed to the consumer, oldest first: it gives them back in this order. */
  const handedOut: number[] = [];
  /** Free slots, the one freed last on top: it is the likeliest to still be in the CPU's caches. */
  const free = Array.from({ length: slotCount }, (_, i) => slotCount - 1 - i);
  let seenReleased = 0;
  let current = free.pop()!;
  const slot = (n: number): Buffer => Buffer.from(memory, slotsAt + n * slotSize, slotSize);
  let out = slot(current);
  let outFilled = 0;
  let frameEnds: FrameEnd[] = [];

  /**
   * Hands the current slot to the consumer and, unless it was the last, takes a free one, waiting
   * (this thread, never the main one) while there is none.
   */
  const emit = (last = false): void => {
    unannounced.push({ slot: current, length: outFilled, frameEnds });
    if (unannounced.length === SLOTS_PER_MESSAGE) announce();
    handedOut.push(current);
    if (last) return;
    for (;;) {
      const releasedNow = Atomics.load(releasedSlots, 0);
      for (; seenReleased < releasedNow; seenReleased++) free.push(handedOut.shift()!);
      if (free.length > 0) break;
      // The consumer may be waiting for exactly the slots not yet announced.
      announce();
      Atomics.wait(releasedSlots, 0, releasedNow);
    }
    current = free.pop()!;
    out = slot(current);
    outFilled = 0;
    frameEnds = [];
  };

  // The main thread checks every frame's checksum as it hashes the output (see Xxh64).
  const dctx = newDecoder(true);
  const file = await open(path, 'r');
  const inputs = [Buffer.allocUnsafe(inputSize), Buffer.allocUnsafe(inputSize)];
  let turn = 0;
  let readPosition = 0;
  let consumed = 0;
  let frameStart = 0;
  let frameOpen = false;
  let input: InputWindow = { at: 0, bytes: Buffer.alloc(0) };

  /**
   * Hands over what the current slot holds, last of all. Also before an error: frames completed
   * before the damage are checked first, so a bad checksum is reported as such (as zstd -d does)
   * even when more damage follows it.
   */
  const emitRest = (): void => {
    if (outFilled > 0 || frameEnds.length > 0) emit(true);
  };

  /** One decoder call; undefined, once 'corrupt' is posted, if the decoder refused the data. */
  const decode = (src: Buffer): [number, number, number] | undefined => {
    try {
      return dctx.decompressStream(out.subarray(outFilled), src);
    } catch (error) {
      const message = (error as Error).message;
      emitRest();
      post({ kind: 'corrupt', consumed, message, betweenFrames: !frameOpen && consumed > 0 && NOT_A_FRAME.test(message) });
      return undefined;
    }
  };

  /**
   * Takes a decoder call's result; false if it moved nothing. A call that moves nothing says
   * nothing about the frame: after a frame ends, the decoder already asks for the next one's header.
   */
  const advance = ([hint, produced, used]: [number, number, number]): boolean => {
    if (produced === 0 && used === 0) return false;
    outFilled += produced;
    consumed += used;
    frameOpen = hint !== 0;
    return true;
  };

  /** Notes the frame that the last call completed, for the consumer to check. */
  const frameEnded = async (): Promise<void> => {
    frameEnds.push({ at: outFilled, compressedEnd: consumed, checksum: await frameChecksum(file, input, frameStart, consumed) });
    frameStart = consumed;
  };

  try {
    let pending = file.read(inputs[turn], 0, inputSize, 0);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      readPosition += bytesRead;
      turn ^= 1;
      pending = file.read(inputs[turn], 0, inputSize, readPosition);
      post({ kind: 'read', position: readPosition });
      let src = buffer.subarray(0, bytesRead);
      input = { at: readPosition - bytesRead, bytes: src };
      while (src.length > 0 || outFilled === slotSize) {
        if (outFilled === slotSize) emit();
        const before = consumed;
        const result = decode(src);
        if (!result) return;
        if (!advance(result)) {
          if (src.length > 0) {
            emitRest();
            post({ kind: 'corrupt', consumed, message: 'the decoder stopped making progress', betweenFrames: false });
            return;
          }
          break;
        }
        if (!frameOpen) await frameEnded();
        src = src.subarray(consumed - before);
      }
    }
    // The decoder may still hold output of the last frame once all input is consumed.
    while (frameOpen) {
      if (outFilled === slotSize) emit();
      const result = decode(Buffer.alloc(0));
      if (!result) return;
      if (!advance(result)) break;
      if (!frameOpen) await frameEnded();
    }
    emitRest();
    post({ kind: 'end', consumed, frameOpen });
  } finally {
    await file.close();
  }
}

port.once('message', (data: ZstdWorkerData) => {
  run(data).catch((error: unknown) => {
    post({ kind: 'failed', message: (error as Error).message });
  });
});
