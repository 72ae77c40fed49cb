// Decompresses one zstd file on a worker thread, so decompression (the slowest step) runs on one
// core while the main thread finds holes and issues writes on the other. Output buffers are
// transferred, not copied. The thread may start before its file is known (prestartDecoder): it
// gets its ZstdWorkerData as the first message. Protocol: see ZstdMessage in zstd-stream.ts.
import { open } from 'node:fs/promises';
import { parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import binding from 'zstd-napi/binding.js';
import type { ZstdMessage, ZstdWorkerData } from './zstd-stream.js';

/**
 * The largest window zstd can write (2 GiB, `zstd --long=31`). The decoder's default stops at
 * 128 MiB to protect against hostile input; a source image is the user's own, and big images are
 * often compressed with --long. A frame's window is allocated only as large as it declares (no
 * larger than its content, where the frame records its size; a frame compressed from a pipe
 * reserves all of it, and its pages are touched as the window fills), so ordinary images use no
 * more memory than before.
 */
const WINDOW_LOG_MAX = 31;

const port = parentPort!;
const post = (message: ZstdMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
let buffersAllocated = 0;
let outputSize = 0;
let recycled: MessagePort;
let outstanding: Int32Array;
let maxAhead = 0;

/**
 * A buffer the consumer gave back, or a new one. Reuse matters: first writes to fresh memory fault
 * in every page, which cost about 15% of the decompression time.
 */
function outputBuffer(): Buffer {
  const returned = receiveMessageOnPort(recycled)?.message as ArrayBuffer | undefined;
  if (returned) return Buffer.from(returned);
  buffersAllocated += 1;
  return Buffer.allocUnsafe(outputSize);
}

function emit(out: Buffer): void {
  post({ kind: 'data', chunk: out }, [out.buffer as ArrayBuffer]);
  // Backpressure: block this thread (never the main one) while the consumer is maxAhead behind.
  let pending = Atomics.add(outstanding, 0, 1) + 1;
  while (pending >= maxAhead) {
    Atomics.wait(outstanding, 0, pending);
    pending = Atomics.load(outstanding, 0);
  }
}

/**
 * Reads run one chunk ahead on a pool thread: copying the next 4 MiB in (or waiting for the disk)
 * overlaps the decoding of the current one, which is the slowest step of the whole extraction.
 */
async function run({ path, inputSize }: ZstdWorkerData): Promise<void> {
  const dctx = new binding.DCtx();
  dctx.setParameter(binding.DParameter.windowLogMax, WINDOW_LOG_MAX);
  const file = await open(path, 'r');
  const inputs = [Buffer.allocUnsafe(inputSize), Buffer.allocUnsafe(inputSize)];
  let turn = 0;
  let readPosition = 0;
  let out = outputBuffer();
  let outFilled = 0;
  let consumed = 0;
  let frameOpen = false;
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
      while (src.length > 0 || outFilled === out.length) {
        if (outFilled === out.length) {
          emit(out);
          out = outputBuffer();
          outFilled = 0;
        }
        let result: [number, number, number];
        try {
          result = dctx.decompressStream(out.subarray(outFilled), src);
        } catch (error) {
          post({ kind: 'corrupt', consumed, message: (error as Error).message, betweenFrames: !frameOpen && consumed > 0 });
          return;
        }
        const [hint, produced, used] = result;
        // A call that moves nothing says nothing about the frame: after a frame ends, the decoder
        // already asks for the next frame's header.
        if (produced === 0 && used === 0) {
          if (src.length > 0) {
            post({ kind: 'corrupt', consumed, message: 'the decoder stopped making progress', betweenFrames: false });
            return;
          }
          break;
        }
        outFilled += produced;
        consumed += used;
        src = src.subarray(used);
        frameOpen = hint !== 0;
      }
    }
    // The decoder may still hold output of the last frame once all input is consumed.
    while (frameOpen) {
      if (outFilled === out.length) {
        emit(out);
        out = outputBuffer();
        outFilled = 0;
      }
      const [hint, produced] = dctx.decompressStream(out.subarray(outFilled), Buffer.alloc(0));
      if (produced === 0) break;
      outFilled += produced;
      frameOpen = hint !== 0;
    }
    if (outFilled > 0 && !frameOpen) emit(out.subarray(0, outFilled));
    post({ kind: 'end', consumed, frameOpen, buffersAllocated });
  } finally {
    await file.close();
  }
}

port.once('message', (data: ZstdWorkerData) => {
  ({ outputSize, recycled, maxAhead } = data);
  outstanding = new Int32Array(data.ahead);
  run(data).catch((error: unknown) => {
    post({ kind: 'failed', message: (error as Error).message });
  });
});
