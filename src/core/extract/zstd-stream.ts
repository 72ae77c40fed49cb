import { setImmediate as nextTurn } from 'node:timers/promises';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { SourceError } from '../errors.js';
import type { ProgressSink } from './chunks.js';

const INPUT_SIZE = 4 * 1024 * 1024;
/**
 * Output buffers small enough that the ones in flight (MAX_AHEAD of them, 4 MiB) stay in the CPU's
 * last-level cache between the worker writing them and the writer copying them out (into the page
 * cache, or into the direct-write stage): measured against 4 MiB buffers with page cache writes,
 * this cut the writing thread's system time by half and the wall time by a fifth.
 */
const OUTPUT_SIZE = 512 * 1024;
/** Decompressed buffers the worker may run ahead of the consumer. */
const MAX_AHEAD = 8;
/**
 * Chunks reach the consumer in microtasks and message callbacks, and a consumer that writes
 * synchronously would then never let timers run (the lock heartbeat among them). Turning the event
 * loop this often bounds that.
 */
const TURN_EVERY_MS = 20;

export interface ZstdWorkerData {
  path: string;
  /** One Int32: buffers posted and not yet taken by the consumer. */
  ahead: SharedArrayBuffer;
  maxAhead: number;
  inputSize: number;
  outputSize: number;
  /** Buffers the consumer is done with, for the worker to decompress into again. */
  recycled: MessagePort;
}

/**
 * A decoder thread started before it is needed, with what went wrong while it waited. A thread takes
 * about 40 ms to start; started first thing in a process, that overlaps loading the rest of the
 * program on the other core.
 */
interface SpareWorker {
  worker: Worker;
  failure?: Error;
}

let spare: SpareWorker | undefined;

function startWorker(): Worker {
  return new Worker(new URL('./zstd-worker.js', import.meta.url));
}

/**
 * Starts a decoder thread for the next ZstdStream of this process to take. An unused one costs
 * its start-up CPU and does not keep the process alive.
 */
export function prestartDecoder(): void {
  if (spare) return;
  let worker: Worker;
  try {
    worker = startWorker();
  } catch {
    // No thread to be had now (a process limit, say): a stream that needs one tries again and
    // reports it; a command that needs none must not fail here.
    return;
  }
  const started: SpareWorker = { worker };
  worker.unref();
  worker.once('error', (error) => (started.failure ??= error));
  worker.once('exit', (code) => (started.failure ??= new Error(`decompression worker exited with code ${code}`)));
  spare = started;
}

/** The spare thread if it is still healthy, else a new one. */
function takeWorker(): Worker {
  const taken = spare;
  spare = undefined;
  if (!taken || taken.failure) {
    if (taken) void taken.worker.terminate();
    return startWorker();
  }
  taken.worker.removeAllListeners();
  taken.worker.ref();
  return taken.worker;
}

export type ZstdMessage =
  | { kind: 'read'; position: number }
  | { kind: 'data'; chunk: Uint8Array }
  | { kind: 'end'; consumed: number; frameOpen: boolean; buffersAllocated: number }
  /** betweenFrames: the bad bytes are where a new frame should start, after a complete one. */
  | { kind: 'corrupt'; consumed: number; message: string; betweenFrames: boolean }
  | { kind: 'failed'; message: string };

/**
 * Decompresses every zstd frame of a file (skippable frames included) in constant memory. The
 * decoding runs on a worker thread; the main thread's event loop, and with it the lock heartbeat,
 * stays free. A stream is iterated once.
 *
 * A yielded chunk is valid until the consumer asks for the next one: then its buffer goes back to
 * the worker to be decoded into again. Consumers copy what they keep longer. Recycling this way
 * needs nothing from the consumer, so no wrapper around the stream can lose it (fresh buffers cost
 * about 15% of the decoding time in page faults).
 */
export class ZstdStream implements AsyncIterable<Buffer> {
  private readonly channel = new MessageChannel();
  /** How many output buffers the worker allocated: MAX_AHEAD and a few when recycling works. */
  buffersAllocated = 0;

  constructor(readonly path: string, private readonly onRead?: ProgressSink) {
    this.channel.port2.unref();
  }

  private recycle(chunk: Buffer): void {
    if (chunk.byteOffset === 0 && chunk.buffer.byteLength === OUTPUT_SIZE) {
      const buffer = chunk.buffer as ArrayBuffer;
      this.channel.port2.postMessage(buffer, [buffer]);
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    return this.chunks();
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    const { path, onRead } = this;
    const ahead = new SharedArrayBuffer(4);
    const counter = new Int32Array(ahead);
    const recycled = this.channel.port1;
    const data: ZstdWorkerData = { path, ahead, maxAhead: MAX_AHEAD, inputSize: INPUT_SIZE, outputSize: OUTPUT_SIZE, recycled };
    const worker = takeWorker();
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
    worker.postMessage(data, [recycled]);
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
          case 'data': {
            if (performance.now() - lastTurn > TURN_EVERY_MS) {
              await nextTurn();
              lastTurn = performance.now();
            }
            Atomics.sub(counter, 0, 1);
            Atomics.notify(counter, 0);
            const chunk = Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength);
            yield chunk;
            this.recycle(chunk);
            break;
          }
          case 'end':
            this.buffersAllocated = message.buffersAllocated;
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
      this.channel.port2.close();
    }
  }
}
