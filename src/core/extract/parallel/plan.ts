import { readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { SourceError } from '../../errors.js';
import { readEntryIndex } from '../../entry/read.js';
import { BASECOW_SKIPPABLE_MAGIC } from '../../entry/format.js';
import { ZSTD_MAGIC, isSkippableMagic } from '../chunks.js';
import { RAW_DIGEST_SEGMENT } from '../raw-digest.js';

/** A frame whose place in the raw image is known before it is decoded. */
export interface PlannedFrame {
  kind: 'data' | 'hole';
  rawOffset: number;
  rawLength: number;
  compressedOffset: number;
  compressedSize: number;
}

/** Consecutive frames that one worker decodes, covering raw [rawStart, rawEnd). */
export interface DecodeTask {
  rawStart: number;
  rawEnd: number;
  frames: PlannedFrame[];
  /**
   * The data frames' bytes, when they come with the task rather than from the source file: input[0]
   * is the source's byte `inputAt`. It is moved to the decoding thread.
   */
  input?: Uint8Array;
  inputAt?: number;
}

export interface ParallelPlan {
  size: number;
  tasks: DecodeTask[];
  /** Where the frame layout came from. */
  from: 'entry' | 'frame-headers';
  /** The digest the source says its content has (entries), to check what was decoded against. */
  expectedRawDigest?: string;
}

/** A frame header is at most this long: magic, descriptor, window byte, 4-byte dictionary id, 8-byte content size. */
export const FRAME_HEADER_MAX = 18;
/**
 * Frame and block headers are read through a window this small. The walk visits every block
 * header of every frame, and blocks lie tens of KiB apart: a window of MiBs would copy the whole
 * source into memory (and leave tens of MiB of garbage) only to learn that it goes to the
 * sequential decoder. One page per header costs a short read instead (on the bench's 0.4 GiB
 * images, 13,000 headers: 41-53 ms with 4 KiB, 101-133 ms with 256 KiB windows).
 */
const WINDOW = 4096;

class WindowReader {
  private at = 0;
  private length = 0;
  private readonly buf = Buffer.allocUnsafe(WINDOW);
  constructor(private readonly fd: number, readonly size: number) {}

  /** The bytes at [position, position + length) (length at most WINDOW), or undefined past the end. */
  get(position: number, length: number): Buffer | undefined {
    if (position + length > this.size) return undefined;
    if (position < this.at || position + length > this.at + this.length) {
      // Synchronous: thousands of page-sized reads from the page cache, each far cheaper than a
      // round trip through the thread pool.
      this.length = readSync(this.fd, this.buf, 0, WINDOW, position);
      this.at = position;
      if (position + length > this.at + this.length) return undefined;
    }
    return this.buf.subarray(position - this.at, position - this.at + length);
  }
}

export interface SizedFrameHeader {
  headerBytes: number;
  contentSize: number;
  hasChecksum: boolean;
}

/**
 * What the zstd frame header at the start of `bytes` says, when it is one that a plan can use:
 * a content size stated and no dictionary. Undefined for anything else (a skippable frame too).
 */
export function sizedFrameHeader(bytes: Buffer | undefined): SizedFrameHeader | undefined {
  if (!bytes || bytes.length < 6 || bytes.readUInt32LE(0) !== ZSTD_MAGIC) return undefined;
  const fhd = bytes[4];
  const single = (fhd >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fhd >> 6];
  if (fcsBytes === 0 || dictBytes !== 0) return undefined;
  const headerBytes = 5 + (single ? 0 : 1) + fcsBytes;
  if (bytes.length < headerBytes) return undefined;
  const fcsAt = headerBytes - fcsBytes;
  let contentSize = fcsBytes === 8 ? Number(bytes.readBigUInt64LE(fcsAt)) : bytes.readUIntLE(fcsAt, fcsBytes);
  if (fcsBytes === 2) contentSize += 256;
  return { headerBytes, contentSize, hasChecksum: ((fhd >> 2) & 1) === 1 };
}

/**
 * A zstd block header (its first 3 bytes in `bytes`): the block's type (0 raw, 1 RLE, 2 compressed,
 * 3 reserved), how many bytes the block takes with its header, and whether it ends its frame.
 */
export function blockHeader(bytes: Buffer): { type: number; bytes: number; last: boolean } {
  const value = bytes.readUIntLE(0, 3);
  const type = (value >> 1) & 3;
  return { type, bytes: 3 + (type === 1 ? 1 : value >>> 3), last: (value & 1) === 1 };
}

/**
 * Whether a zstd frame that states its content size starts at `position` of the file open as `fd`:
 * a sequential decoder that has just finished a frame asks this to learn early that the file may
 * be one to decode in parallel.
 */
export function sizedFrameStartsAt(fd: number, position: number): boolean {
  const bytes = Buffer.alloc(FRAME_HEADER_MAX);
  const length = readSync(fd, bytes, 0, FRAME_HEADER_MAX, position);
  return sizedFrameHeader(bytes.subarray(0, length)) !== undefined;
}

/**
 * How far a walk over frame and block headers got: through the whole file (with the frames found),
 * past `limit` compressed bytes (with the frames completed before), or to something no plan can
 * take: a frame that does not state its content size (only sequential decoding knows where it
 * goes) or anything that looks wrong (the sequential decoder then reports it in its words).
 */
type Walk = { end: 'file'; frames: PlannedFrame[] } | { end: 'limit'; frames: PlannedFrame[] } | { end: 'unplannable' };

async function walkFrames(path: string, limit = Infinity): Promise<Walk> {
  const unplannable: Walk = { end: 'unplannable' };
  const file = await open(path, 'r');
  try {
    const reader = new WindowReader(file.fd, (await file.stat()).size);
    const frames: PlannedFrame[] = [];
    let position = 0;
    let raw = 0;
    while (position < reader.size) {
      const magicBytes = reader.get(position, 8);
      if (!magicBytes) return unplannable;
      if (isSkippableMagic(magicBytes.readUInt32LE(0))) {
        position += 8 + magicBytes.readUInt32LE(4);
        continue;
      }
      const header = sizedFrameHeader(reader.get(position, Math.min(FRAME_HEADER_MAX, reader.size - position)));
      if (!header) return unplannable;
      const start = position;
      position += header.headerBytes;
      for (;;) {
        if (position > limit) return { end: 'limit', frames };
        const bytes = reader.get(position, 3);
        if (!bytes) return unplannable;
        const block = blockHeader(bytes);
        if (block.type === 3) return unplannable;
        position += block.bytes;
        if (block.last) break;
      }
      position += header.hasChecksum ? 4 : 0;
      if (position > reader.size) return unplannable;
      if (header.contentSize > 0) frames.push({ kind: 'data', rawOffset: raw, rawLength: header.contentSize, compressedOffset: start, compressedSize: position - start });
      raw += header.contentSize;
    }
    return { end: 'file', frames };
  } finally {
    await file.close();
  }
}

function planOf(frames: PlannedFrame[]): ParallelPlan | undefined {
  if (frames.length < 2) return undefined;
  const last = frames[frames.length - 1];
  return { size: last.rawOffset + last.rawLength, tasks: toTasks(frames, RAW_DIGEST_SEGMENT), from: 'frame-headers' };
}

/**
 * Cuts frames, given in raw order, into tasks of about `target` raw bytes that start and end on
 * frame boundaries. Entries' data frames never cross the digest's 32 MiB grid, so there tasks are
 * whole segments: each worker hashes the segments it decodes. A task is handed on as soon as no
 * later frame can join it, so that frames still arriving (an entry being downloaded) are decoded
 * segment by segment.
 */
export class TaskCutter {
  private current?: DecodeTask;

  constructor(private readonly target: number) {}

  /** The task being gathered, not handed on yet. */
  get open(): DecodeTask | undefined {
    return this.current;
  }

  /** Adds the next frame; returns the tasks it completed. */
  add(frame: PlannedFrame): DecodeTask[] {
    const done: DecodeTask[] = [];
    const target = this.target;
    // Holes longer than a segment are split on the grid so that every task is at most one segment of holes.
    for (let at = frame.rawOffset; at < frame.rawOffset + frame.rawLength; ) {
      const piece =
        frame.kind === 'hole'
          ? { ...frame, rawOffset: at, rawLength: Math.min(frame.rawOffset + frame.rawLength, (Math.floor(at / RAW_DIGEST_SEGMENT) + 1) * RAW_DIGEST_SEGMENT) - at }
          : frame;
      at += piece.rawLength;
      const current = this.current;
      if (current && (Math.floor(current.rawStart / target) !== Math.floor(piece.rawOffset / target) || current.rawEnd - current.rawStart >= target)) {
        done.push(current);
        this.current = undefined;
      }
      this.current ??= { rawStart: piece.rawOffset, rawEnd: piece.rawOffset, frames: [] };
      this.current.frames.push(piece);
      this.current.rawEnd = piece.rawOffset + piece.rawLength;
      // A task that reaches the grid takes no more frames: it goes now, not with the next frame.
      if (this.current.rawEnd % target === 0) {
        done.push(this.current);
        this.current = undefined;
      }
    }
    return done;
  }

  /** After the last frame: the task still gathered, if any. */
  finish(): DecodeTask | undefined {
    const last = this.current;
    this.current = undefined;
    return last;
  }
}

function toTasks(frames: PlannedFrame[], target: number): DecodeTask[] {
  const cutter = new TaskCutter(target);
  const tasks = frames.flatMap((frame) => cutter.add(frame));
  const last = cutter.finish();
  return last ? [...tasks, last] : tasks;
}

/**
 * The plan of a basecow entry, from its index at the start of the file (a read or two), or
 * undefined when the file is no entry or an entry with no data frames.
 */
export async function planFromEntry(path: string): Promise<ParallelPlan | undefined> {
  const head = Buffer.alloc(4);
  const file = await open(path, 'r');
  try {
    await file.read(head, 0, 4, 0);
  } finally {
    await file.close();
  }
  if (head.readUInt32LE(0) !== BASECOW_SKIPPABLE_MAGIC) return undefined;
  let index;
  try {
    index = await readEntryIndex(path);
  } catch (error) {
    // A skippable frame of that magic that is not ours is for the sequential decoder to take.
    if (error instanceof SourceError && /not a basecow entry/.test(error.reason)) return undefined;
    throw error;
  }
  if (index.frames.length === 0) return undefined;
  return { size: index.apparentSize, tasks: toTasks(index.frames, RAW_DIGEST_SEGMENT), from: 'entry', expectedRawDigest: index.rawDigest };
}

/**
 * How a zstd source that is no entry can be decoded in parallel, from its frame headers, or
 * undefined when it cannot (one frame, or frames without content sizes): then the sequential,
 * pipelined decoder takes it. This walks every block header of the file.
 */
export async function planFromFrames(path: string): Promise<ParallelPlan | undefined> {
  const walk = await walkFrames(path);
  return walk.end === 'file' ? planOf(walk.frames) : undefined;
}

/**
 * Compressed bytes a probe walks: a frame of the usual multi-frame files (pieces of 32 MiB or less
 * compressed at least 2:1) ends well within them, and on a single-frame image the probe reads the
 * few hundred block headers in them, a few milliseconds.
 */
const PROBE_BYTES = 16 * 1024 * 1024;

/**
 * What the first PROBE_BYTES of a zstd source that is no entry say about its frames:
 * - `plan`: the whole file was walked, and it can be decoded in parallel;
 * - `sequential`: it cannot (one frame, a frame that does not state its size, ...);
 * - `several`: a frame ended and another one followed that states its size: walk the whole file;
 * - `unknown`: the first frame goes on past them (a single-frame image, or a file of large frames).
 */
export type FrameProbe = { kind: 'plan'; plan: ParallelPlan } | { kind: 'sequential' } | { kind: 'several' } | { kind: 'unknown' };

export async function probeFrames(path: string): Promise<FrameProbe> {
  const walk = await walkFrames(path, PROBE_BYTES);
  if (walk.end === 'unplannable') return { kind: 'sequential' };
  if (walk.end === 'limit') return walk.frames.length > 0 ? { kind: 'several' } : { kind: 'unknown' };
  const plan = planOf(walk.frames);
  return plan ? { kind: 'plan', plan } : { kind: 'sequential' };
}
