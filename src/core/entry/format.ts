// basecow's L2 entry, format version 1: a raw base as a valid multi-frame zstd file in the zstd
// seekable format, so that `zstd -d` (and any zstd decoder) restores it byte for byte, while basecow
// finds every frame's place from the seek table, skips frames that only hold zeros, and can decode
// frames on several cores. All numbers are little-endian.
//
//   header frame   skippable frame, magic 0x184D2A5B, 32 bytes of content:
//                    0  16  "basecow-entry", NUL-padded
//                   16   4  format version (1)
//                   20   4  flags (0; a reader of version 1 refuses others)
//                   24   8  apparent size of the raw base
//   frames         in raw order, together covering [0, apparent size):
//                    data  a zstd frame of at most 32 MiB of raw data that never crosses a 32 MiB
//                          boundary of the raw image (a raw-digest segment), content size and
//                          content checksum set
//                    hole  a zstd frame of zeros made of RLE blocks (4 bytes per 128 KiB, no
//                          checksum), at most 1 GiB, standing for a run of zero blocks
//   plan frame     skippable frame, magic 0x184D2A5B:
//                    0  16  "basecow-plan", NUL-padded
//                   16   8  raw digest (its 64-bit value; the algorithm is xxh64seg-32m)
//                   24   4  number of frames F (data and hole)
//                   28   F  kind of each frame: 0 data, 1 hole
//                 28+F   4  the first 4 bytes of SHA-256 of the bytes before
//   seek table     the zstd seekable format's: skippable frame, magic 0x184D2A5E, one entry
//                  (compressed size u32, decompressed size u32) per frame of the file, the header
//                  and plan frames included with decompressed size 0 (the spec counts every frame
//                  but the table itself, so the sum of compressed sizes locates each frame), then
//                  number of entries u32, descriptor 0 (no checksums: frames carry their own),
//                  magic 0x8F92EAB1.
//
// The plan and the digest come after the frames so that the entry is written in one pass, in
// order, while the base is read once: which blocks are zero is found by reading them.
import { createHash } from 'node:crypto';

export const ENTRY_VERSION = 1;
export const BASECOW_SKIPPABLE_MAGIC = 0x184d2a5b;
export const SEEK_TABLE_MAGIC = 0x184d2a5e;
export const SEEKABLE_MAGIC = 0x8f92eab1;
const SKIPPABLE_HEADER = 8;
const HEADER_ID = 'basecow-entry';
const PLAN_ID = 'basecow-plan';
const ID_BYTES = 16;
export const HEADER_CONTENT = 32;
export const HEADER_FRAME_BYTES = SKIPPABLE_HEADER + HEADER_CONTENT;
export const SEEK_FOOTER_BYTES = 9;
const SEEK_ENTRY_BYTES = 8;
/** Raw bytes per data frame at most, and the grid data frames never cross (the digest's segments). */
export const DATA_FRAME_MAX = 32 * 1024 * 1024;
/**
 * Raw bytes per hole frame at most: the seekable format's reference reader refuses frames that
 * decompress to more than 1 GiB.
 */
export const HOLE_FRAME_MAX = 1024 * 1024 * 1024;
const ZSTD_MAGIC = 0xfd2fb528;
const RLE_BLOCK_MAX = 128 * 1024;

export type FrameKind = 'data' | 'hole';

export interface EntryHeader {
  version: number;
  apparentSize: number;
}

export function encodeHeaderFrame(apparentSize: number): Buffer {
  const frame = Buffer.alloc(HEADER_FRAME_BYTES);
  frame.writeUInt32LE(BASECOW_SKIPPABLE_MAGIC, 0);
  frame.writeUInt32LE(HEADER_CONTENT, 4);
  frame.write(HEADER_ID, SKIPPABLE_HEADER, 'latin1');
  frame.writeUInt32LE(ENTRY_VERSION, SKIPPABLE_HEADER + 16);
  frame.writeUInt32LE(0, SKIPPABLE_HEADER + 20);
  frame.writeBigUInt64LE(BigInt(apparentSize), SKIPPABLE_HEADER + 24);
  return frame;
}

/** Thrown with the reason only; the reader adds the file's name. */
export class EntryFormatError extends Error {}

/** The header, from the file's first HEADER_FRAME_BYTES (fewer if the file is shorter). */
export function decodeHeaderFrame(head: Buffer): EntryHeader {
  const idEnd = SKIPPABLE_HEADER + ID_BYTES;
  const isOurs = head.length >= idEnd && head.readUInt32LE(0) === BASECOW_SKIPPABLE_MAGIC && head.toString('latin1', SKIPPABLE_HEADER, idEnd) === HEADER_ID.padEnd(ID_BYTES, '\0');
  if (!isOurs) throw new EntryFormatError('is not a basecow entry (it does not start with a basecow-entry header)');
  if (head.length < HEADER_FRAME_BYTES) throw new EntryFormatError('truncated basecow entry: it ends inside its header');
  const version = head.readUInt32LE(SKIPPABLE_HEADER + 16);
  if (version !== ENTRY_VERSION) {
    throw new EntryFormatError(`basecow entry format version ${version} is not supported (this basecow reads version ${ENTRY_VERSION}); the entry was written by another basecow version`);
  }
  if (head.readUInt32LE(4) !== HEADER_CONTENT || head.readUInt32LE(SKIPPABLE_HEADER + 20) !== 0) {
    throw new EntryFormatError('damaged basecow entry: its header has an unexpected size or flags');
  }
  return { version, apparentSize: Number(head.readBigUInt64LE(SKIPPABLE_HEADER + 24)) };
}

const check = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest().subarray(0, 4);

export function encodePlanFrame(rawDigest: bigint, kinds: readonly FrameKind[]): Buffer {
  const content = Buffer.alloc(28 + kinds.length + 4);
  content.write(PLAN_ID, 0, 'latin1');
  content.writeBigUInt64LE(rawDigest, 16);
  content.writeUInt32LE(kinds.length, 24);
  kinds.forEach((kind, i) => (content[28 + i] = kind === 'hole' ? 1 : 0));
  check(content.subarray(0, 28 + kinds.length)).copy(content, 28 + kinds.length);
  const header = Buffer.alloc(SKIPPABLE_HEADER);
  header.writeUInt32LE(BASECOW_SKIPPABLE_MAGIC, 0);
  header.writeUInt32LE(content.length, 4);
  return Buffer.concat([header, content]);
}

export function decodePlanFrame(frame: Buffer): { rawDigest: bigint; kinds: FrameKind[] } {
  const content = frame.subarray(SKIPPABLE_HEADER);
  const ok =
    frame.length >= SKIPPABLE_HEADER + 32 &&
    frame.readUInt32LE(0) === BASECOW_SKIPPABLE_MAGIC &&
    frame.readUInt32LE(4) === content.length &&
    content.toString('latin1', 0, ID_BYTES) === PLAN_ID.padEnd(ID_BYTES, '\0');
  if (!ok) throw new EntryFormatError('damaged basecow entry: the frame before its seek table is not a basecow plan');
  const count = content.readUInt32LE(24);
  if (content.length !== 28 + count + 4 || !check(content.subarray(0, 28 + count)).equals(content.subarray(28 + count))) {
    throw new EntryFormatError('damaged basecow entry: its plan does not match its checksum');
  }
  const kinds: FrameKind[] = [];
  for (let i = 0; i < count; i++) {
    const kind = content[28 + i];
    if (kind > 1) throw new EntryFormatError(`damaged basecow entry: frame ${i} has unknown kind ${kind}`);
    kinds.push(kind === 1 ? 'hole' : 'data');
  }
  return { rawDigest: content.readBigUInt64LE(16), kinds };
}

/**
 * A zstd frame that decodes to `length` zero bytes: RLE blocks of 128 KiB, 4 bytes each. The frame
 * declares its content size but a 128 KiB window (not a single segment), so a decoder needs 128 KiB
 * for it however long it is: zstd -d refuses single-segment frames above 128 MiB without --long.
 */
export function holeFrame(length: number): Buffer {
  if (length <= 0 || length > HOLE_FRAME_MAX) throw new RangeError(`hole frame of ${length} bytes`);
  const blocks = Math.ceil(length / RLE_BLOCK_MAX);
  const frame = Buffer.alloc(14 + 4 * blocks);
  frame.writeUInt32LE(ZSTD_MAGIC, 0);
  frame[4] = 0xc0; // Frame_Header_Descriptor: 8-byte content size, no single segment, no checksum, no dictionary
  frame[5] = 0x38; // Window_Descriptor: 2^(10 + 7) = 128 KiB
  frame.writeBigUInt64LE(BigInt(length), 6);
  let at = 14;
  for (let left = length; left > 0; at += 4) {
    const size = Math.min(left, RLE_BLOCK_MAX);
    left -= size;
    // Block_Header (3 bytes): Last_Block, Block_Type 1 (RLE), Block_Size; then the byte to repeat (0).
    frame.writeUIntLE((left === 0 ? 1 : 0) | (1 << 1) | (size << 3), at, 3);
  }
  return frame;
}

export interface SeekEntry {
  compressedSize: number;
  decompressedSize: number;
}

export function encodeSeekTable(entries: readonly SeekEntry[]): Buffer {
  const content = entries.length * SEEK_ENTRY_BYTES + SEEK_FOOTER_BYTES;
  const table = Buffer.alloc(SKIPPABLE_HEADER + content);
  table.writeUInt32LE(SEEK_TABLE_MAGIC, 0);
  table.writeUInt32LE(content, 4);
  entries.forEach((entry, i) => {
    table.writeUInt32LE(entry.compressedSize, SKIPPABLE_HEADER + i * SEEK_ENTRY_BYTES);
    table.writeUInt32LE(entry.decompressedSize, SKIPPABLE_HEADER + i * SEEK_ENTRY_BYTES + 4);
  });
  const footer = SKIPPABLE_HEADER + entries.length * SEEK_ENTRY_BYTES;
  table.writeUInt32LE(entries.length, footer);
  table[footer + 4] = 0;
  table.writeUInt32LE(SEEKABLE_MAGIC, footer + 5);
  return table;
}

/** The number of entries and the table's whole size, from the file's last SEEK_FOOTER_BYTES. */
export function decodeSeekFooter(footer: Buffer): { count: number; tableBytes: number } {
  if (footer.length < SEEK_FOOTER_BYTES || footer.readUInt32LE(5) !== SEEKABLE_MAGIC) {
    throw new EntryFormatError('truncated or damaged basecow entry: it does not end with a zstd seek table');
  }
  if ((footer[4] & 0x7c) !== 0) throw new EntryFormatError('damaged basecow entry: its seek table has reserved bits set');
  const count = footer.readUInt32LE(0);
  const entryBytes = footer[4] & 0x80 ? 12 : SEEK_ENTRY_BYTES;
  return { count, tableBytes: SKIPPABLE_HEADER + count * entryBytes + SEEK_FOOTER_BYTES };
}

export function decodeSeekTable(table: Buffer, count: number): SeekEntry[] {
  if (table.readUInt32LE(0) !== SEEK_TABLE_MAGIC || table.readUInt32LE(4) !== table.length - SKIPPABLE_HEADER) {
    throw new EntryFormatError('truncated or damaged basecow entry: its seek table frame has a bad header');
  }
  const entryBytes = table[table.length - SEEK_FOOTER_BYTES + 4] & 0x80 ? 12 : SEEK_ENTRY_BYTES;
  const entries: SeekEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = SKIPPABLE_HEADER + i * entryBytes;
    entries.push({ compressedSize: table.readUInt32LE(at), decompressedSize: table.readUInt32LE(at + 4) });
  }
  return entries;
}
