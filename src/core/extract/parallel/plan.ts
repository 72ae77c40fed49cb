import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { SourceError } from '../../errors.js';
import { readEntryIndex } from '../../entry/read.js';
import { BASECOW_SKIPPABLE_MAGIC } from '../../entry/format.js';
import { ZSTD_MAGIC } from '../chunks.js';
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
}

export interface ParallelPlan {
  size: number;
  tasks: DecodeTask[];
  /** Where the frame layout came from. */
  from: 'entry' | 'frame-headers';
  /** The digest the source says its content has (entries), to check what was decoded against. */
  expectedRawDigest?: string;
}

const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_START = 0x184d2a50;
/**
 * Frame and block headers are read through a window this small. The walk visits every block
 * header of every frame, and blocks lie tens of KiB apart: a window of MiBs would copy the whole
 * source into memory (and leave tens of MiB of garbage) only to learn, for the usual single-frame
 * source, that it goes to the sequential decoder. One page per header costs a short read instead.
 */
const WINDOW = 4096;

class WindowReader {
  private at = 0;
  private length = 0;
  private readonly buf = Buffer.allocUnsafe(WINDOW);
  constructor(private readonly file: FileHandle, readonly size: number) {}

  /** The bytes at [position, position + length) (length at most WINDOW), or undefined past the end. */
  get(position: number, length: number): Buffer | undefined {
    if (position + length > this.size) return undefined;
    if (position < this.at || position + length > this.at + this.length) {
      // Synchronous: thousands of page-sized reads from the page cache, each far cheaper than a
      // round trip through the thread pool.
      this.length = readSync(this.file.fd, this.buf, 0, WINDOW, position);
      this.at = position;
      if (position + length > this.at + this.length) return undefined;
    }
    return this.buf.subarray(position - this.at, position - this.at + length);
  }
}

/**
 * The frames of a zstd file with their raw offsets, from frame and block headers, or undefined when
 * some frame does not state its content size (then only sequential decoding knows where it goes) or
 * anything looks wrong (the sequential decoder then reports it in its words).
 */
async function walkFrames(path: string): Promise<PlannedFrame[] | undefined> {
  const file = await open(path, 'r');
  try {
    const reader = new WindowReader(file, (await file.stat()).size);
    const frames: PlannedFrame[] = [];
    let position = 0;
    let raw = 0;
    while (position < reader.size) {
      const magicBytes = reader.get(position, 8);
      if (!magicBytes) return undefined;
      const magic = magicBytes.readUInt32LE(0);
      if ((magic & SKIPPABLE_MASK) === SKIPPABLE_START) {
        position += 8 + magicBytes.readUInt32LE(4);
        continue;
      }
      if (magic !== ZSTD_MAGIC) return undefined;
      const start = position;
      const fhd = magicBytes[4];
      const fcsFlag = fhd >> 6;
      const single = (fhd >> 5) & 1;
      const checksum = (fhd >> 2) & 1;
      const dictBytes = [0, 1, 2, 4][fhd & 3];
      const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag];
      if (fcsBytes === 0 || dictBytes !== 0) return undefined;
      const headerBytes = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
      const header = reader.get(position, headerBytes);
      if (!header) return undefined;
      const fcsAt = headerBytes - fcsBytes;
      let contentSize = fcsBytes === 8 ? Number(header.readBigUInt64LE(fcsAt)) : header.readUIntLE(fcsAt, fcsBytes);
      if (fcsBytes === 2) contentSize += 256;
      position += headerBytes;
      for (;;) {
        const blockHeader = reader.get(position, 3);
        if (!blockHeader) return undefined;
        const value = blockHeader.readUIntLE(0, 3);
        const type = (value >> 1) & 3;
        if (type === 3) return undefined;
        position += 3 + (type === 1 ? 1 : value >>> 3);
        if (value & 1) break;
      }
      position += checksum ? 4 : 0;
      if (position > reader.size) return undefined;
      if (contentSize > 0) frames.push({ kind: 'data', rawOffset: raw, rawLength: contentSize, compressedOffset: start, compressedSize: position - start });
      raw += contentSize;
    }
    return frames;
  } finally {
    await file.close();
  }
}

/**
 * Cuts the frames into tasks of about `target` raw bytes that start and end on frame boundaries.
 * Entries' data frames never cross the digest's 32 MiB grid, so there tasks are whole segments:
 * each worker hashes the segments it decodes.
 */
function toTasks(frames: PlannedFrame[], target: number): DecodeTask[] {
  const tasks: DecodeTask[] = [];
  let current: DecodeTask | undefined;
  for (const frame of frames) {
    // Holes longer than a segment are split on the grid so that every task is at most one segment of holes.
    for (let at = frame.rawOffset; at < frame.rawOffset + frame.rawLength; ) {
      const piece =
        frame.kind === 'hole'
          ? { ...frame, rawOffset: at, rawLength: Math.min(frame.rawOffset + frame.rawLength, (Math.floor(at / RAW_DIGEST_SEGMENT) + 1) * RAW_DIGEST_SEGMENT) - at }
          : frame;
      at += piece.rawLength;
      const crossesGrid = current && Math.floor(current.rawStart / target) !== Math.floor(piece.rawOffset / target);
      if (!current || crossesGrid || current.rawEnd - current.rawStart >= target) {
        current = { rawStart: piece.rawOffset, rawEnd: piece.rawOffset, frames: [] };
        tasks.push(current);
      }
      current.frames.push(piece);
      current.rawEnd = piece.rawOffset + piece.rawLength;
    }
  }
  return tasks;
}

/**
 * How a zstd source can be decoded in parallel, or undefined when it cannot (one frame, or frames
 * without content sizes): then the sequential, pipelined decoder takes it.
 */
export async function planParallel(path: string): Promise<ParallelPlan | undefined> {
  const head = Buffer.alloc(4);
  const file = await open(path, 'r');
  try {
    await file.read(head, 0, 4, 0);
  } finally {
    await file.close();
  }
  if (head.readUInt32LE(0) === BASECOW_SKIPPABLE_MAGIC) {
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
  const frames = await walkFrames(path);
  if (!frames || frames.length < 2) return undefined;
  const last = frames[frames.length - 1];
  return { size: last.rawOffset + last.rawLength, tasks: toTasks(frames, RAW_DIGEST_SEGMENT), from: 'frame-headers' };
}
