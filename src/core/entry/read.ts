import { open, type FileHandle } from 'node:fs/promises';
import { SourceError } from '../errors.js';
import { formatRawDigest } from '../extract/raw-digest.js';
import {
  DATA_FRAME_MAX,
  EntryFormatError,
  HEADER_FRAME_BYTES,
  HOLE_FRAME_MAX,
  SEEK_FOOTER_BYTES,
  decodeHeaderFrame,
  decodePlanFrame,
  decodeSeekFooter,
  decodeSeekTable,
  type FrameKind,
  type SeekEntry,
} from './format.js';

export interface EntryFrame {
  kind: FrameKind;
  /** Where the frame's content lies in the raw base. */
  rawOffset: number;
  rawLength: number;
  /** Where the frame lies in the entry file. */
  compressedOffset: number;
  compressedSize: number;
}

export interface EntryIndex {
  path: string;
  version: number;
  apparentSize: number;
  /** The raw digest of the base the entry holds (see raw-digest.ts). */
  rawDigest: string;
  /** The data and hole frames, in raw order, covering [0, apparentSize). */
  frames: EntryFrame[];
  /** The entry file's size. */
  bytes: number;
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await file.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/**
 * Reads an entry's header, plan and seek table (a few reads at both ends, not the frames) and checks
 * that they agree with each other and with the file's size. Errors name the file and the cause: not
 * an entry, an unsupported version, truncated, or damaged.
 */
export async function readEntryIndex(path: string): Promise<EntryIndex> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw new SourceError(path, `cannot read the basecow entry: ${(error as Error).message}`, { cause: error });
  }
  try {
    return await readIndex(path, file);
  } catch (error) {
    if (error instanceof EntryFormatError) throw new SourceError(path, error.message);
    if (error instanceof SourceError) throw error;
    throw new SourceError(path, `cannot read the basecow entry: ${(error as Error).message}`, { cause: error });
  } finally {
    await file.close();
  }
}

async function readIndex(path: string, file: FileHandle): Promise<EntryIndex> {
  return indexFrom(path, (await file.stat()).size, (position, length) => readAt(file, position, length));
}

/**
 * An entry's index from reads at both of its ends: `readAt` gives the bytes at [position,
 * position + length) of an entry of `bytes` bytes (fewer only where the entry ends). Throws
 * EntryFormatError with the reason.
 */
export async function indexFrom(path: string, bytes: number, readAt: (position: number, length: number) => Promise<Buffer>): Promise<EntryIndex> {
  const header = decodeHeaderFrame(await readAt(0, HEADER_FRAME_BYTES));
  const { count, tableBytes } = decodeSeekFooter(await readAt(Math.max(0, bytes - SEEK_FOOTER_BYTES), SEEK_FOOTER_BYTES));
  if (count < 2 || tableBytes > bytes - HEADER_FRAME_BYTES) throw new EntryFormatError('truncated or damaged basecow entry: its seek table does not fit the file');
  const seek = decodeSeekTable(await readAt(bytes - tableBytes, tableBytes), count);
  const compressedTotal = seek.reduce((sum, entry) => sum + entry.compressedSize, 0);
  if (compressedTotal + tableBytes !== bytes) {
    throw new EntryFormatError(`truncated or damaged basecow entry: its seek table accounts for ${compressedTotal + tableBytes} bytes, the file has ${bytes}`);
  }
  if (seek[0].compressedSize !== HEADER_FRAME_BYTES || seek[0].decompressedSize !== 0) {
    throw new EntryFormatError('damaged basecow entry: the seek table does not start with the header frame');
  }
  const planEntry = seek[count - 1];
  const plan = decodePlanFrame(await readAt(bytes - tableBytes - planEntry.compressedSize, planEntry.compressedSize));
  if (plan.kinds.length !== count - 2) {
    throw new EntryFormatError(`damaged basecow entry: its plan lists ${plan.kinds.length} frames, its seek table ${count - 2}`);
  }
  const frames = framesOf(seek, plan.kinds, header.apparentSize);
  return { path, version: header.version, apparentSize: header.apparentSize, rawDigest: formatRawDigest(plan.rawDigest), frames, bytes };
}

/**
 * The data and hole frames that a seek table and a plan describe (the table's first entry is the
 * header frame, its last the plan), checked against the format's rules and the header's apparent size.
 */
export function framesOf(seek: readonly SeekEntry[], kinds: readonly FrameKind[], apparentSize: number): EntryFrame[] {
  const frames: EntryFrame[] = [];
  let rawOffset = 0;
  let compressedOffset = HEADER_FRAME_BYTES;
  for (let i = 1; i < seek.length - 1; i++) {
    const { compressedSize, decompressedSize } = seek[i];
    const kind = kinds[i - 1];
    const max = kind === 'hole' ? HOLE_FRAME_MAX : DATA_FRAME_MAX;
    const crossesSegment = kind === 'data' && Math.floor(rawOffset / DATA_FRAME_MAX) !== Math.floor((rawOffset + decompressedSize - 1) / DATA_FRAME_MAX);
    if (decompressedSize === 0 || decompressedSize > max || crossesSegment) {
      throw new EntryFormatError(`damaged basecow entry: frame ${i} (${kind}, ${decompressedSize} bytes at raw offset ${rawOffset}) breaks the format's rules`);
    }
    frames.push({ kind, rawOffset, rawLength: decompressedSize, compressedOffset, compressedSize });
    rawOffset += decompressedSize;
    compressedOffset += compressedSize;
  }
  if (rawOffset !== apparentSize) {
    throw new EntryFormatError(`damaged basecow entry: its frames hold ${rawOffset} bytes, its header says ${apparentSize}`);
  }
  return frames;
}

/** Whether two lists describe the same frames, in the same places of the entry and of the raw base. */
export function sameFrames(a: readonly EntryFrame[], b: readonly EntryFrame[]): boolean {
  return (
    a.length === b.length &&
    a.every((frame, i) => frame.kind === b[i].kind && frame.rawOffset === b[i].rawOffset && frame.rawLength === b[i].rawLength && frame.compressedOffset === b[i].compressedOffset && frame.compressedSize === b[i].compressedSize)
  );
}
