import { availableParallelism } from 'node:os';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { SourceError } from '../errors.js';
import { RAW_DIGEST_SEGMENT, rawDigestFromSegments, parseRawDigest } from '../extract/raw-digest.js';
import { replaceAtomically } from '../shared/atomic-write.js';
import {
  HOLE_FRAME_MAX,
  encodeHeaderFrame,
  encodePlanFrame,
  encodeSeekTable,
  holeFrame,
  type FrameKind,
  type SeekEntry,
} from './format.js';

/**
 * zstd level of data frames. Level 3 (zstd's default) keeps the entry within a few percent of a
 * single-frame `zstd -3` of the image (smaller, in fact, since holes are not encoded) at a
 * compression speed that several workers turn into a short post step.
 */
const LEVEL = 3;
/**
 * Zero runs at least this long become hole frames; shorter ones are compressed with the data (zstd
 * makes a few bytes of them) and still come out as holes on restore, where the writer leaves every
 * all-zero block unwritten. The bound keeps the plan small on a disk whose free space is scattered.
 */
const MIN_HOLE = 1024 * 1024;
/**
 * Compression workers by default: one per core, at most this many. Each holds one segment of
 * input (32 MiB) and one of output (~32 MiB) plus zstd's level 3 state (~2 MiB).
 */
const MAX_DEFAULT_WORKERS = 8;

export interface WriteEntryOptions {
  signal?: AbortSignal;
  /** Raw bytes of the base handled so far, and its size. */
  onProgress?: (done: number, total: number) => void;
  /** Compression workers (default: one per core, at most 8). */
  workers?: number;
}

export interface WriteEntryResult {
  /** Size of the entry file. */
  bytes: number;
  /** Data and hole frames in the entry. */
  frames: number;
  seconds: number;
  rawDigest: string;
  workers: number;
}

export interface CompressInit {
  path: string;
  segmentSize: number;
  level: number;
  minHole: number;
}

export interface CompressRequest {
  index: number;
  start: number;
  length: number;
}

export interface SegmentRun {
  kind: FrameKind;
  /** Raw offset in the base. */
  offset: number;
  length: number;
  /** Bytes of its frame in `frames` (data runs; 0 for holes). */
  compressedSize: number;
}

export type CompressReply =
  | { kind: 'done'; index: number; hash: bigint; runs: SegmentRun[]; frames: Uint8Array }
  | { kind: 'failed'; index: number; message: string };

type Done = Extract<CompressReply, { kind: 'done' }>;

/**
 * Writes `basePath` (a raw base) as a basecow entry at `entryPath` (see format.ts), atomically:
 * under a temp name first, synced, then renamed; on failure or abort nothing is left. The base is
 * read once, in 32 MiB segments that workers read, hash and compress in parallel.
 */
export async function writeEntry(basePath: string, entryPath: string, options: WriteEntryOptions = {}): Promise<WriteEntryResult> {
  const started = performance.now();
  let size: number;
  try {
    size = (await stat(basePath)).size;
  } catch (error) {
    throw new SourceError(basePath, `cannot read the base to make an entry of it: ${(error as Error).message}`, { cause: error });
  }
  const segments = Math.ceil(size / RAW_DIGEST_SEGMENT);
  const workers = Math.max(1, Math.min(options.workers ?? Math.min(availableParallelism(), MAX_DEFAULT_WORKERS), Math.max(1, segments)));
  try {
    const { bytes, frames, rawDigest } = await replaceAtomically(entryPath, async (temp) => {
      const out = await open(temp, 'wx', 0o644);
      try {
        const written = await writeFrames(basePath, size, segments, workers, out, options);
        await out.sync();
        return written;
      } finally {
        await out.close();
      }
    });
    return { bytes, frames, rawDigest, workers, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof SourceError) throw error;
    throw new SourceError(basePath, `cannot write the entry ${entryPath}: ${(error as Error).message}`, { cause: error });
  }
}

/** Appends to a file in order, remembering each frame for the seek table. */
class FrameSink {
  position = 0;
  readonly seek: SeekEntry[] = [];
  readonly kinds: FrameKind[] = [];

  constructor(private readonly out: FileHandle) {}

  async frame(bytes: Uint8Array, decompressedSize: number, kind?: FrameKind): Promise<void> {
    await this.append(bytes);
    this.seek.push({ compressedSize: bytes.length, decompressedSize });
    if (kind) this.kinds.push(kind);
  }

  async append(bytes: Uint8Array): Promise<void> {
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await this.out.write(bytes, done, bytes.length - done, this.position);
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }
}

async function writeFrames(basePath: string, size: number, segments: number, workerCount: number, out: FileHandle, options: WriteEntryOptions) {
  const sink = new FrameSink(out);
  await sink.frame(encodeHeaderFrame(size), 0);
  const hashes: bigint[] = [];
  let pendingHole = 0;
  const flushHole = async (): Promise<void> => {
    for (; pendingHole > 0; pendingHole -= Math.min(pendingHole, HOLE_FRAME_MAX)) {
      const length = Math.min(pendingHole, HOLE_FRAME_MAX);
      await sink.frame(holeFrame(length), length, 'hole');
    }
  };
  await forEachSegmentInOrder(basePath, size, segments, workerCount, options.signal, async (done) => {
    hashes.push(done.hash);
    let at = 0;
    for (const run of done.runs) {
      if (run.kind === 'hole') {
        pendingHole += run.length;
        continue;
      }
      await flushHole();
      await sink.frame(done.frames.subarray(at, at + run.compressedSize), run.length, 'data');
      at += run.compressedSize;
    }
    options.onProgress?.(Math.min(size, (done.index + 1) * RAW_DIGEST_SEGMENT), size);
  });
  await flushHole();
  const rawDigest = rawDigestFromSegments(hashes);
  const frames = sink.kinds.length;
  await sink.frame(encodePlanFrame(parseRawDigest(rawDigest)!, sink.kinds), 0);
  await sink.append(encodeSeekTable(sink.seek));
  return { bytes: sink.position, frames, rawDigest };
}

/**
 * Runs the segments through `workerCount` compression workers and hands the results to `take` in
 * segment order. At most twice as many segments as workers are in flight or waiting for `take`, so
 * memory stays bounded however unevenly the workers progress.
 */
async function forEachSegmentInOrder(
  basePath: string,
  size: number,
  segments: number,
  workerCount: number,
  signal: AbortSignal | undefined,
  take: (done: Done) => Promise<void>,
): Promise<void> {
  signal?.throwIfAborted();
  const init: CompressInit = { path: basePath, segmentSize: RAW_DIGEST_SEGMENT, level: LEVEL, minHole: MIN_HOLE };
  const workers = Array.from({ length: workerCount }, () => new Worker(new URL('./entry-compress-worker.js', import.meta.url)));
  const finished = new Map<number, Done>();
  let nextToSend = 0;
  let nextToTake = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const fail = (error: unknown): void => {
    failure ??= error;
    wake?.();
  };
  const onAbort = (): void => fail(signal!.reason);
  signal?.addEventListener('abort', onAbort);
  const send = (worker: Worker): void => {
    if (nextToSend >= segments || nextToSend >= nextToTake + 2 * workerCount) {
      idle.push(worker);
      return;
    }
    const start = nextToSend * RAW_DIGEST_SEGMENT;
    worker.postMessage({ index: nextToSend, start, length: Math.min(RAW_DIGEST_SEGMENT, size - start) } satisfies CompressRequest);
    nextToSend++;
  };
  const idle: Worker[] = [];
  try {
    for (const worker of workers) {
      worker.on('message', (reply: CompressReply) => {
        if (reply.kind === 'failed') return fail(new Error(reply.message));
        finished.set(reply.index, reply);
        wake?.();
        send(worker);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`an entry compression worker exited with code ${code}`)));
      worker.postMessage(init);
      send(worker);
    }
    while (nextToTake < segments) {
      while (failure === undefined && !finished.has(nextToTake)) await new Promise<void>((resolve) => (wake = resolve));
      if (failure !== undefined) throw failure;
      const done = finished.get(nextToTake)!;
      finished.delete(nextToTake);
      nextToTake++;
      await take(done);
      // Taking a segment makes room for more in flight.
      for (let worker = idle.pop(); worker; worker = idle.pop()) {
        const before = nextToSend;
        send(worker);
        if (nextToSend === before) break;
      }
    }
    if (failure !== undefined) throw failure;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const worker of workers) worker.removeAllListeners('exit');
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

