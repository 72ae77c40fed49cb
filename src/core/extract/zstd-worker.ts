// Decompresses one zstd file on a worker thread, so decompression (the slowest step) runs on one
// core while the main thread checks frames, finds holes and issues writes on the other. It decodes
// into slots of memory it shares with the main thread, so no output is copied or transferred. The
// thread may start before its file is known (prestartDecoder): it gets its ZstdWorkerData as the
// first message. Protocol: see ZstdMessage in zstd-stream.ts.
import { open, type FileHandle } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import binding from 'zstd-napi/binding.js';
import type { FrameEnd, ZstdMessage, ZstdWorkerData } from './zstd-stream.js';

/**
 * The largest window zstd can write (2 GiB, `zstd --long=31`). The decoder's default stops at
 * 128 MiB to protect against hostile input; a source image is the user's own, and big images are
 * often compressed with --long. A frame's window is allocated only as large as it declares (no
 * larger than its content, where the frame records its size; a frame compressed from a pipe
 * reserves all of it, and its pages are touched as the window fills), so ordinary images use no
 * more memory than before.
 */
const WINDOW_LOG_MAX = 31;
/** ZSTD_d_forceIgnoreChecksum (experimental): the main thread checks frames instead (see Xxh64). */
const FORCE_IGNORE_CHECKSUM = 1002;
const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const CHECKSUM_FLAG = 0x04;

const port = parentPort!;
const post = (message: ZstdMessage): void => port.postMessage(message);

/**
 * The checksum a frame ends with (the low 32 bits of XXH64 of its content), or null if it has none
 * (flag unset, or a skippable frame). The frame lies at [start, end) of the file; the decoder has
 * already accepted its header.
 */
async function frameChecksum(file: FileHandle, start: number, end: number): Promise<number | null> {
  const header = Buffer.alloc(5);
  await file.read(header, 0, 5, start);
  const magic = header.readUInt32LE(0);
  if ((magic & SKIPPABLE_MASK) === SKIPPABLE_MAGIC || magic !== ZSTD_MAGIC) return null;
  if ((header[4] & CHECKSUM_FLAG) === 0) return null;
  const checksum = Buffer.alloc(4);
  await file.read(checksum, 0, 4, end - 4);
  return checksum.readUInt32LE(0);
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
    post({ kind: 'data', slot: current, length: outFilled, frameEnds });
    handedOut.push(current);
    if (last) return;
    for (;;) {
      const releasedNow = Atomics.load(releasedSlots, 0);
      for (; seenReleased < releasedNow; seenReleased++) free.push(handedOut.shift()!);
      if (free.length > 0) break;
      Atomics.wait(releasedSlots, 0, releasedNow);
    }
    current = free.pop()!;
    out = slot(current);
    outFilled = 0;
    frameEnds = [];
  };

  const dctx = new binding.DCtx();
  dctx.setParameter(binding.DParameter.windowLogMax, WINDOW_LOG_MAX);
  dctx.setParameter(FORCE_IGNORE_CHECKSUM, 1);
  const file = await open(path, 'r');
  const inputs = [Buffer.allocUnsafe(inputSize), Buffer.allocUnsafe(inputSize)];
  let turn = 0;
  let readPosition = 0;
  let consumed = 0;
  let frameStart = 0;
  let frameOpen = false;

  /** Takes one decoder call's result; false if it moved nothing. */
  const progress = async ([hint, produced, used]: [number, number, number]): Promise<boolean> => {
    if (produced === 0 && used === 0) return false;
    outFilled += produced;
    consumed += used;
    frameOpen = hint !== 0;
    if (!frameOpen) {
      frameEnds.push({ at: outFilled, compressedEnd: consumed, checksum: await frameChecksum(file, frameStart, consumed) });
      frameStart = consumed;
    }
    return true;
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
      while (src.length > 0 || outFilled === slotSize) {
        if (outFilled === slotSize) emit();
        let result: [number, number, number];
        const before = consumed;
        try {
          result = dctx.decompressStream(out.subarray(outFilled), src);
        } catch (error) {
          post({ kind: 'corrupt', consumed, message: (error as Error).message, betweenFrames: !frameOpen && consumed > 0 });
          return;
        }
        // A call that moves nothing says nothing about the frame: after a frame ends, the decoder
        // already asks for the next frame's header.
        if (!(await progress(result))) {
          if (src.length > 0) {
            post({ kind: 'corrupt', consumed, message: 'the decoder stopped making progress', betweenFrames: false });
            return;
          }
          break;
        }
        src = src.subarray(consumed - before);
      }
    }
    // The decoder may still hold output of the last frame once all input is consumed.
    while (frameOpen) {
      if (outFilled === slotSize) emit();
      if (!(await progress(dctx.decompressStream(out.subarray(outFilled), Buffer.alloc(0))))) break;
    }
    if (!frameOpen && (outFilled > 0 || frameEnds.length > 0)) emit(true);
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
