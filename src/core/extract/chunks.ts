import { open } from 'node:fs/promises';
import binding from 'zstd-napi/binding.js';
import { SourceError } from '../errors.js';

const READ_SIZE = 4 * 1024 * 1024;
const ZSTD_OUT_SIZE = 4 * 1024 * 1024;
const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_SKIPPABLE_MASK = 0xfffffff0;
const ZSTD_SKIPPABLE_START = 0x184d2a50;

/** Called with the number of source bytes consumed so far, for progress reporting. */
export type ProgressSink = (sourceBytesRead: number) => void;

/**
 * Yields a file's bytes as fresh buffers, reading the next one while the consumer handles the
 * current one. Each yielded buffer belongs to the consumer.
 */
export async function* readChunks(path: string, onRead?: ProgressSink): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    let position = 0;
    const readAt = async (at: number): Promise<Buffer> => {
      const buf = Buffer.allocUnsafe(READ_SIZE);
      const { bytesRead } = await file.read(buf, 0, READ_SIZE, at);
      return buf.subarray(0, bytesRead);
    };
    let pending = readAt(position);
    for (;;) {
      const chunk = await pending;
      if (chunk.length === 0) return;
      position += chunk.length;
      pending = readAt(position);
      onRead?.(position);
      yield chunk;
    }
  } finally {
    await file.close();
  }
}

export function startsWithZstdFrame(head: Buffer): boolean {
  if (head.length < 4) return false;
  const magic = head.readUInt32LE(0);
  return magic === ZSTD_MAGIC || (magic & ZSTD_SKIPPABLE_MASK) === ZSTD_SKIPPABLE_START;
}

/**
 * Decompresses every zstd frame of `path` in a stream, in constant memory. Each step of the native
 * decoder handles at most one input read or one output buffer, so the event loop (and with it the
 * lock heartbeat) is never held for more than a few milliseconds.
 */
export async function* zstdChunks(path: string, onRead?: ProgressSink): AsyncGenerator<Buffer> {
  const dctx = new binding.DCtx();
  let out = Buffer.allocUnsafe(ZSTD_OUT_SIZE);
  let outFilled = 0;
  let sawInput = false;
  let frameOpen = false;
  let consumedTotal = 0;
  for await (const input of readChunks(path, onRead)) {
    sawInput = true;
    let src = input;
    while (src.length > 0 || outFilled === out.length) {
      if (outFilled === out.length) {
        yield out;
        out = Buffer.allocUnsafe(ZSTD_OUT_SIZE);
        outFilled = 0;
      }
      let result: [number, number, number];
      try {
        result = dctx.decompressStream(out.subarray(outFilled), src);
      } catch (error) {
        throw new SourceError(path, `corrupt zstd data near compressed byte ${consumedTotal}: ${(error as Error).message}`, { cause: error });
      }
      const [hint, produced, consumed] = result;
      // A call that moves nothing says nothing about the frame: after a frame ends, the decoder
      // already asks for the next frame's header.
      if (produced === 0 && consumed === 0) break;
      outFilled += produced;
      consumedTotal += consumed;
      src = src.subarray(consumed);
      frameOpen = hint !== 0;
    }
  }
  // The decoder may still hold output for the last frame once all input is consumed.
  while (frameOpen) {
    if (outFilled === out.length) {
      yield out;
      out = Buffer.allocUnsafe(ZSTD_OUT_SIZE);
      outFilled = 0;
    }
    const [hint, produced] = dctx.decompressStream(out.subarray(outFilled), Buffer.alloc(0));
    if (produced === 0) break;
    outFilled += produced;
    frameOpen = hint !== 0;
  }
  if (!sawInput) throw new SourceError(path, 'file is empty, expected zstd-compressed data');
  if (frameOpen) throw new SourceError(path, `truncated zstd data: the input ends inside a frame after ${consumedTotal} compressed bytes`);
  if (outFilled > 0) yield out.subarray(0, outFilled);
}
