import { closeSync, fsync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { availableParallelism, freemem } from 'node:os';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { SourceError } from '../../errors.js';
import type { ProgressSink } from '../chunks.js';
import { BufferHasher, RAW_DIGEST_SEGMENT, rawDigestFromSegments } from '../raw-digest.js';
import { SpareWorkers } from '../spare-workers.js';
import type { DecodeTask, ParallelPlan } from './plan.js';

const fsyncAsync = promisify(fsync);

/**
 * Memory one decode worker needs besides a frame's window: two 32 MiB output windows, 16 MiB of
 * input, the decoder's buffers. Workers are bounded so that all of them fit in half the free memory.
 */
export const WORKER_MEMORY = 2 * RAW_DIGEST_SEGMENT + 20 * 1024 * 1024;

export interface DecodeInit {
  /** The file the tasks' frames are read from; absent when every task carries its input. */
  source?: string;
  dest: string;
  size: number;
  directIo: boolean;
  /** The base may reach the disk after it is published: a worker the disk keeps waiting may copy through the page cache. */
  spill: boolean;
  /** The thread decodes in the background (see thread-priority.ts): it ends with this decoding. */
  background?: boolean;
  /** false: libzstd skips the frames' checksums, because the caller checks the raw digest. */
  frameChecksums?: boolean;
}

export interface DecodeRequest {
  id: number;
  task: DecodeTask;
}

export interface FrameFailure {
  message: string;
  compressedOffset?: number;
}

export type DecodeReply =
  | { kind: 'done'; id: number; segments: { index: number; hash: bigint }[]; partial: { from: number; to: number }[]; written: { direct: number; pageCache: number }; input?: Uint8Array }
  | { kind: 'failed'; id: number; failure: FrameFailure };

export interface ParallelOptions {
  onRead?: ProgressSink;
  signal?: AbortSignal;
  directIo?: boolean;
  /** Return once the file is on the disk (the default); off: page cache only, no fsync (see ExtractOptions). */
  durable?: boolean;
  /** Upper bound on decode workers (default: one per core). */
  maxWorkers?: number;
  /** Decode at background priority, taking only CPU the rest leaves (while a download goes on). */
  background?: boolean;
  /**
   * false: frames are not checked against their checksums while decoded. Only for a caller that
   * compares the returned raw digest with one it trusts before it uses anything written.
   */
  frameChecksums?: boolean;
}

export interface ParallelResult {
  size: number;
  rawDigest: string;
  workers: number;
  written: { direct: number; pageCache: number };
}

/** The most workers this process should decode with: one per core, as many as half the free memory holds. */
export function workerBound(maxWorkers?: number): number {
  const byMemory = Math.max(1, Math.floor(freemem() / 2 / WORKER_MEMORY));
  return Math.max(1, Math.min(maxWorkers ?? availableParallelism(), byMemory));
}

/** How many workers decode a plan: one per core by default, never more than tasks or than memory allows. */
export function workerCount(plan: ParallelPlan, maxWorkers?: number): number {
  return Math.min(workerBound(maxWorkers), plan.tasks.length);
}

/** Workers started before their plan was known, for the next decodeParallel of this process. */
const spares = new SpareWorkers(() => new Worker(new URL('./frames-worker.js', import.meta.url)), 'a decode worker');

/**
 * Starts decode workers ahead of a decoding that is about to come (an entry being downloaded), so
 * that the first frame does not wait for their start-up. dropSpareWorkers() ends the ones no
 * decoding took.
 */
export function prestartWorkers(maxWorkers?: number): void {
  spares.fill(workerBound(maxWorkers));
}

export function dropSpareWorkers(): void {
  spares.drop();
}

/** Workers started ahead and not taken yet. */
export const spareWorkerCount = (): number => spares.count;

/**
 * Where decoding threads get their tasks, in raw order: next() settles with the next task, or
 * undefined once there are none. It is called once at a time. A feed whose tasks carry their input
 * (DecodeTask.input) can produce them while the decoding goes on, from bytes still arriving.
 */
export interface TaskFeed {
  next(): Promise<DecodeTask | undefined>;
  /** Takes back a task's input once it is decoded, to fill again. */
  recycle?(input: Uint8Array): void;
}

/**
 * Decodes a multi-frame zstd source into `dest` (which must not exist) with `workers` threads, each
 * taking the next task and writing its ranges in place. The first failure or an abort stops every
 * worker and removes `dest`. Returns once the file is durable (fsync), unless `durable` is off.
 */
export async function decodeParallel(source: string, dest: string, plan: ParallelPlan, workers: number, options: ParallelOptions = {}): Promise<ParallelResult> {
  let next = 0;
  const feed: TaskFeed = { next: async () => plan.tasks[next++] };
  const result = await decodeFeed({ file: source, name: source }, dest, plan.size, feed, workers, options);
  if (plan.expectedRawDigest && result.rawDigest !== plan.expectedRawDigest) {
    await rm(dest, { force: true });
    throw new SourceError(source, `decoded content does not match the entry's raw digest (${result.rawDigest}, the entry says ${plan.expectedRawDigest}): the entry is damaged`);
  }
  return result;
}

/**
 * Decodes the tasks of `feed` into `dest` (which must not exist, and gets `size` bytes): see
 * decodeParallel. Frames are read from `source.file`, unless every task carries its input;
 * `source.name` names the bytes in errors.
 */
export async function decodeFeed(source: { file?: string; name: string }, dest: string, size: number, feed: TaskFeed, workers: number, options: ParallelOptions = {}): Promise<ParallelResult> {
  const fd = openSync(dest, 'wx', 0o600);
  let closed = false;
  const threads: Worker[] = [];
  try {
    // The length first: workers write anywhere in the file, and a file that already has its length
    // gets its blocks allocated next to each other.
    ftruncateSync(fd, size);
    const durable = options.durable ?? true;
    const init: DecodeInit = { source: source.file, dest, size, directIo: options.directIo ?? true, spill: !durable, background: options.background, frameChecksums: options.frameChecksums };
    const hashes = new Map<number, bigint>();
    const partial: { from: number; to: number }[] = [];
    const writtenBy = new Map<Worker, { direct: number; pageCache: number }>();
    let compressedDone = 0;
    await new Promise<void>((resolve, reject) => {
      const issued = new Map<number, DecodeTask>();
      let nextId = 0;
      let ended = false;
      let failed = false;
      const fail = (error: unknown): void => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      const onAbort = (): void => fail(options.signal!.reason);
      if (options.signal?.aborted) return fail(options.signal.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const finishIfDone = (): void => {
        if (!ended || issued.size > 0 || failed) return;
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      // One pull at a time, so that tasks go out in the feed's order.
      let pulling = Promise.resolve();
      const give = (worker: Worker): void => {
        pulling = pulling.then(async () => {
          if (ended || failed) return;
          const task = await feed.next();
          if (failed) return;
          if (!task) {
            ended = true;
            return finishIfDone();
          }
          const id = nextId++;
          issued.set(id, task);
          // The input moves to the thread: it is not copied, and not kept here.
          worker.postMessage({ id, task } satisfies DecodeRequest, task.input ? [task.input.buffer as ArrayBuffer] : []);
        }).catch(fail);
      };
      for (let i = 0; i < workers; i++) {
        const worker = spares.take();
        threads.push(worker);
        worker.on('message', (reply: DecodeReply) => {
          if (failed) return;
          if (reply.kind === 'failed') {
            const damaged = reply.failure.compressedOffset !== undefined;
            return fail(damaged ? new SourceError(source.name, reply.failure.message) : new Error(reply.failure.message));
          }
          for (const { index, hash } of reply.segments) hashes.set(index, hash);
          partial.push(...reply.partial);
          writtenBy.set(worker, reply.written);
          for (const frame of issued.get(reply.id)!.frames) compressedDone += frame.kind === 'data' ? frame.compressedSize : 0;
          issued.delete(reply.id);
          if (reply.input) feed.recycle?.(reply.input);
          options.onRead?.(compressedDone);
          finishIfDone();
          give(worker);
        });
        worker.on('error', fail);
        worker.on('exit', (code) => fail(new Error(`a decode worker exited with code ${code}`)));
        worker.postMessage(init);
        // Two tasks each: a worker starts on its next one while the last one's writes land.
        give(worker);
        give(worker);
      }
    });
    await stopAll(threads);
    if (durable) await fsyncAsync(fd);
    const rawDigest = await digestOf(dest, size, hashes, partial);
    closeSync(fd);
    closed = true;
    const written = { direct: 0, pageCache: 0 };
    for (const bytes of writtenBy.values()) {
      written.direct += bytes.direct;
      written.pageCache += bytes.pageCache;
    }
    return { size, rawDigest, workers, written };
  } catch (error) {
    await stopAll(threads);
    if (!closed) closeSync(fd);
    try {
      unlinkSync(dest);
    } catch {
      // Nothing to remove.
    }
    throw error;
  }
}

async function stopAll(threads: Worker[]): Promise<void> {
  for (const worker of threads) worker.removeAllListeners('exit');
  await Promise.all(threads.map((worker) => worker.terminate()));
}

/**
 * The raw digest from the segments the workers hashed whole; a segment that tasks shared (frames
 * from zstd itself do not follow the 32 MiB grid) is read back from the file and hashed here.
 */
async function digestOf(dest: string, size: number, hashes: Map<number, bigint>, partial: { from: number; to: number }[]): Promise<string> {
  const count = Math.ceil(size / RAW_DIGEST_SEGMENT);
  const missing = [...new Set(partial.map(({ from }) => Math.floor(from / RAW_DIGEST_SEGMENT)))].filter((index) => !hashes.has(index));
  if (missing.length > 0) {
    const hasher = new BufferHasher(RAW_DIGEST_SEGMENT);
    const file = await open(dest, 'r');
    try {
      for (const index of missing) {
        const length = Math.min(RAW_DIGEST_SEGMENT, size - index * RAW_DIGEST_SEGMENT);
        for (let done = 0; done < length; ) {
          const { bytesRead } = await file.read(hasher.extra, done, length - done, index * RAW_DIGEST_SEGMENT + done);
          if (bytesRead === 0) throw new Error(`${dest} is shorter than ${size} bytes`);
          done += bytesRead;
        }
        hasher.reset();
        hasher.update(hasher.extra.subarray(0, length));
        hashes.set(index, hasher.digest());
      }
    } finally {
      await file.close();
    }
  }
  const segments: bigint[] = [];
  for (let index = 0; index < count; index++) {
    const hash = hashes.get(index);
    if (hash === undefined) throw new Error(`segment ${index} of ${dest} was never decoded`);
    segments.push(hash);
  }
  return rawDigestFromSegments(segments);
}
