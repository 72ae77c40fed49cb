import { SourceError } from '../errors.js';
import type { SparseWriter } from './write/sparse-writer.js';

/**
 * Streams one member out of a tar archive (ustar, GNU, PAX, including GNU's sparse formats) into a
 * SparseWriter, checking the archive as strictly as GNU tar does.
 */

export interface TarMemberResult {
  /** Apparent size of the extracted member (its real size for sparse members). */
  size: number;
}

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const EMPTY = Buffer.alloc(0);
/** Long names and PAX headers are held in memory: this is far above any real one and far below a corrupt size field. */
const MAX_METADATA = 64 * 1024 * 1024;
const MAX_LISTED_MEMBERS = 10;
/** Digits of Number.MAX_SAFE_INTEGER: a longer line in a sparse map cannot be a valid number. */
const MAX_DECIMAL_DIGITS = 16;

/** Header fields: [offset, length]. */
const NAME = [0, 100] as const;
const SIZE = [124, 12] as const;
const CHECKSUM = [148, 8] as const;
const TYPEFLAG = 156;
const LINKNAME = [157, 100] as const;
const MAGIC = [257, 6] as const;
const PREFIX = [345, 155] as const;
const GNU_REALSIZE = [483, 12] as const;

/** Where old GNU sparse headers keep their map entries (12-byte offset + 12-byte numbytes each). */
interface SparseSlots {
  start: number;
  count: number;
  isExtended: number;
}
const SPARSE_IN_HEADER: SparseSlots = { start: 386, count: 4, isExtended: 482 };
const SPARSE_IN_EXTENSION: SparseSlots = { start: 0, count: 21, isExtended: 504 };

const REGULAR_TYPES = new Set(['0', '7', 'S']);
const TYPE_NAMES: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '5': 'a directory',
  '6': 'a FIFO',
  D: 'a directory',
  M: 'the continuation of a multi-volume member',
  V: 'a volume label',
};

interface Region {
  offset: number;
  size: number;
}

interface SparseInfo {
  realSize: number;
  /** Absent for PAX sparse 1.0, whose map opens the member data. */
  regions?: Region[];
}

/** One header block, decoded. */
interface Header {
  name: string;
  linkName: string;
  /** The typeflag, with the old NUL flag of regular files read as '0'. */
  type: string;
  size: number;
  /** Archive offset of the block, for messages. */
  at: number;
  block: Buffer;
}

/** A member as its headers describe it, with GNU long names and PAX records applied. */
interface Entry {
  name: string;
  linkName: string;
  type: string;
  /** Bytes stored after the header(s), padding excluded. */
  dataSize: number;
  at: number;
  sparse?: SparseInfo;
}

/** What GNU long-name and PAX headers say about the entry that follows them. */
interface Metadata {
  longName?: string;
  longLink?: string;
  pax: [string, string][];
}

interface PaxFields {
  path?: string;
  linkPath?: string;
  size?: number;
  sparseName?: string;
  sparse?: SparseInfo;
}

type Sink = (piece: Buffer, offset: number) => Promise<void>;

/** Chunks of the archive; a producer may reuse a chunk's buffer once the next chunk is requested. */
export type TarChunks = AsyncIterable<Buffer>;

export async function extractTarMember(
  chunks: TarChunks,
  member: string,
  writer: SparseWriter,
  source: string,
  signal?: AbortSignal,
): Promise<TarMemberResult> {
  const archive = new ArchiveReader(chunks, source, signal);
  try {
    const wanted = requestedKey(member, archive);
    const seen = new SeenMembers();
    let found: { result: TarMemberResult; at: number } | undefined;
    for (let entry = await nextEntry(archive); entry; entry = await nextEntry(archive)) {
      if (!isWanted(entry, wanted, archive)) {
        seen.add(entry.name);
        await new EntryData(archive, entry.name, entry.dataSize).finish();
        continue;
      }
      if (found) {
        throw archive.error(`member '${member}' appears more than once in the archive (at bytes ${found.at} and ${entry.at})`);
      }
      found = { result: await extractEntry(archive, entry, writer), at: entry.at };
    }
    await archive.drain();
    if (!found) throw archive.error(`member '${member}' not found in the archive (${seen.describe()})`);
    return found.result;
  } catch (error) {
    await archive.abandon();
    throw error;
  }
}

/**
 * The data of one regular, not sparse, member as it is read: slices of the chunks, each valid until
 * the next one is asked for. After the member the archive is read to its end, so that its producer
 * still checks (e.g. decompresses and verifies) everything after it; a member missing, repeated,
 * or of another kind is an error, as in extractTarMember.
 */
export async function* tarMemberData(chunks: TarChunks, member: string, source: string): AsyncGenerator<Buffer> {
  const archive = new ArchiveReader(chunks, source);
  let finished = false;
  try {
    const wanted = requestedKey(member, archive);
    const seen = new SeenMembers();
    let foundAt: number | undefined;
    for (let entry = await nextEntry(archive); entry; entry = await nextEntry(archive)) {
      const data = new EntryData(archive, entry.name, entry.dataSize);
      if (!isWanted(entry, wanted, archive)) {
        seen.add(entry.name);
        await data.finish();
        continue;
      }
      if (foundAt !== undefined) throw archive.error(`member '${member}' appears more than once in the archive (at bytes ${foundAt} and ${entry.at})`);
      rejectNonRegular(entry, archive);
      if (entry.sparse) throw archive.error(`member '${entry.name}' is stored sparse, which this reader does not take`);
      foundAt = entry.at;
      for (let piece = await data.next(); piece.length > 0; piece = await data.next()) yield piece;
      await data.finish();
    }
    await archive.drain();
    if (foundAt === undefined) throw archive.error(`member '${member}' not found in the archive (${seen.describe()})`);
    finished = true;
  } finally {
    if (!finished) await archive.abandon();
  }
}

/**
 * Pulls exact byte counts out of chunks of any size. Data is handed out as slices of the chunks;
 * only reads that straddle two chunks (small ones: headers, maps) are copied together.
 */
class ArchiveReader {
  /** Archive offset of the next unread byte. */
  position = 0;
  private chunk: Buffer = EMPTY;
  private ended = false;
  private readonly iterator: AsyncIterator<Buffer>;

  /** `signal` is checked for every chunk: members before and after the wanted one are read without a single write. */
  constructor(
    chunks: TarChunks,
    readonly source: string,
    private readonly signal?: AbortSignal,
  ) {
    this.iterator = chunks[Symbol.asyncIterator]();
  }

  error(reason: string): SourceError {
    return new SourceError(this.source, reason);
  }

  /** Up to `max` bytes without copying; empty only at the end of the stream. */
  async take(max: number): Promise<Buffer> {
    if (this.chunk.length === 0 && !(await this.advance())) return EMPTY;
    const piece = this.chunk.subarray(0, max);
    this.chunk = this.chunk.subarray(piece.length);
    this.position += piece.length;
    return piece;
  }

  /**
   * Exactly `length` bytes, or fewer at the end of the stream. Always a copy: the producer may reuse
   * a chunk's buffer once the next chunk is requested, and what read() returns (headers, maps) is
   * kept longer than that.
   * Only pipe() hands out slices, and its sink is done with each one before the next is taken.
   */
  async read(length: number): Promise<Buffer> {
    // Each piece is copied before the next take(): taking may hand the chunk the piece lives in
    // back to its producer, which detaches it.
    const out = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const piece = await this.take(length - got);
      if (piece.length === 0) break;
      got += piece.copy(out, got);
    }
    return out.subarray(0, got);
  }

  /** Reads to the end, so that the producer still checks (e.g. decompresses) everything after the archive. */
  async drain(): Promise<void> {
    do {
      this.position += this.chunk.length;
      this.chunk = EMPTY;
    } while (await this.advance());
  }

  /** Lets the producer release its file when we stop early. Its own failure would hide the error that stopped us. */
  async abandon(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await this.iterator.return?.();
    } catch {
      // The error being thrown by the caller is the one worth reporting.
    }
  }

  private async advance(): Promise<boolean> {
    this.signal?.throwIfAborted();
    while (!this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
      } else if (next.value.length > 0) {
        this.chunk = next.value;
        return true;
      }
    }
    return false;
  }
}

/** The data of one entry and its padding, so that an archive ending early is reported against the entry. */
class EntryData {
  private consumed = 0;

  constructor(private readonly archive: ArchiveReader, private readonly name: string, private readonly size: number) {}

  get remaining(): number {
    return this.size - this.consumed;
  }

  /** Hands the next `length` bytes to `sink` as slices of the chunks, each with its offset within those bytes. */
  async pipe(length: number, sink?: Sink): Promise<void> {
    let done = 0;
    while (done < length) {
      const piece = await this.archive.take(length - done);
      if (piece.length === 0) throw this.truncated();
      if (sink) await sink(piece, done);
      done += piece.length;
      this.consumed += piece.length;
    }
  }

  /** The next slice of the data (valid until the archive is read again), empty once it is all read. */
  async next(): Promise<Buffer> {
    if (this.remaining === 0) return EMPTY;
    const piece = await this.archive.take(this.remaining);
    if (piece.length === 0) throw this.truncated();
    this.consumed += piece.length;
    return piece;
  }

  async read(length: number): Promise<Buffer> {
    const bytes = await this.archive.read(length);
    this.consumed += bytes.length;
    if (bytes.length < length) throw this.truncated();
    return bytes;
  }

  /** Skips the rest of the data and the padding, leaving the archive at the next header. */
  async finish(): Promise<void> {
    await this.pipe(this.remaining);
    const padding = (BLOCK - (this.size % BLOCK)) % BLOCK;
    if ((await this.archive.read(padding)).length < padding) {
      throw this.archive.error(`broken tar: archive ends inside the padding after member '${this.name}'`);
    }
  }

  private truncated(): SourceError {
    return this.archive.error(`broken tar: archive ends inside member '${this.name}' (got ${this.consumed} of ${this.size} bytes)`);
  }
}

/** Up to ten member names for the "not found" message, and how many there were. */
class SeenMembers {
  private readonly names: string[] = [];
  private count = 0;

  add(name: string): void {
    this.count++;
    if (this.names.length < MAX_LISTED_MEMBERS) this.names.push(name);
  }

  describe(): string {
    if (this.count === 0) return 'the archive has no members';
    const more = this.count - this.names.length;
    return `members seen: ${this.names.join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
  }
}

// ---- Headers ----

/** Reads headers up to the next member, folding long names and PAX records into it; undefined at the end of the archive. */
async function nextEntry(archive: ArchiveReader): Promise<Entry | undefined> {
  const metadata: Metadata = { pax: [] };
  let metadataAt: number | undefined;
  for (;;) {
    const at = archive.position;
    const block = await archive.read(BLOCK);
    // Like GNU tar, end at the first zero block of the two-block end marker, and accept an archive
    // that simply stops after a complete member.
    if (block.length === 0 || (block.length === BLOCK && block.equals(ZERO_BLOCK))) {
      if (metadataAt === undefined) return undefined;
      throw archive.error(`broken tar: the archive ends after the extended header at byte ${metadataAt}, without the member it describes`);
    }
    if (block.length < BLOCK) {
      throw archive.error(at === 0 ? `not a tar archive (only ${block.length} bytes long)` : `broken tar: archive ends inside a header at byte ${at}`);
    }
    const header = parseHeader(block, at, archive);
    switch (header.type) {
      case 'L':
        metadata.longName = cString(await readMetadata(archive, header));
        break;
      case 'K':
        metadata.longLink = cString(await readMetadata(archive, header));
        break;
      case 'x':
        // concat, not push(...): a sparse 0.0 header can hold more records than a call has arguments.
        metadata.pax = metadata.pax.concat(parsePaxRecords(await readMetadata(archive, header), header, archive));
        break;
      case 'g':
        // Global PAX records carry defaults such as times and owners, nothing that changes the data.
        await new EntryData(archive, header.name, header.size).finish();
        continue;
      default:
        return buildEntry(archive, header, metadata);
    }
    metadataAt ??= at;
  }
}

function parseHeader(block: Buffer, at: number, archive: ArchiveReader): Header {
  verifyChecksum(block, at, archive);
  const name = cString(field(block, NAME));
  // Only POSIX ustar has the prefix field; in GNU headers the same bytes hold times and sparse data.
  const prefix = field(block, MAGIC).toString('latin1') === 'ustar\0' ? cString(field(block, PREFIX)) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    linkName: cString(field(block, LINKNAME)),
    type: block[TYPEFLAG] === 0 ? '0' : String.fromCharCode(block[TYPEFLAG]),
    size: readNumber(block, SIZE, 'size', at, archive),
    at,
    block,
  };
}

/** The checksum is the byte sum with its own field counted as spaces; GNU tar also accepts a signed-char sum from old tars. */
function verifyChecksum(block: Buffer, at: number, archive: ArchiveReader): void {
  const [start, length] = CHECKSUM;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= start && i < start + length ? 0x20 : block[i];
    unsigned += byte;
    signed += byte < 0x80 ? byte : byte - 0x100;
  }
  const recorded = /^ *([0-7]+)(?:[ \0]|$)/.exec(field(block, CHECKSUM).toString('latin1'));
  const sum = recorded ? Number.parseInt(recorded[1], 8) : NaN;
  if (sum === unsigned || sum === signed) return;
  const reason = `header checksum mismatch at byte ${at}`;
  throw archive.error(at === 0 ? `not a tar archive (${reason})` : `broken tar: ${reason}`);
}

/** Numeric fields are octal text, or GNU base-256 (high bit set) for values octal cannot hold, such as sizes over 8 GiB. */
function readNumber(block: Buffer, where: readonly [number, number], what: string, at: number, archive: ArchiveReader): number {
  const bytes = field(block, where);
  const invalid = (problem: string): SourceError =>
    archive.error(`broken tar: ${problem} ${what} field in the header at byte ${at}`);
  if (bytes[0] & 0x80) {
    if (bytes[0] & 0x40) throw invalid('negative');
    let value = bytes[0] & 0x3f;
    for (let i = 1; i < bytes.length; i++) value = value * 256 + bytes[i];
    if (!Number.isSafeInteger(value)) throw invalid('too large a');
    return value;
  }
  const digits = /^ *([0-7]*)(?:[ \0]|$)/.exec(bytes.toString('latin1'));
  if (!digits) throw invalid('invalid');
  return digits[1] ? Number.parseInt(digits[1], 8) : 0;
}

function field(block: Buffer, [start, length]: readonly [number, number]): Buffer {
  return block.subarray(start, start + length);
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.toString('utf8', 0, end < 0 ? bytes.length : end);
}

async function readMetadata(archive: ArchiveReader, header: Header): Promise<Buffer> {
  if (header.size > MAX_METADATA) {
    throw archive.error(`broken tar: the extended header at byte ${header.at} claims an implausible ${header.size} bytes`);
  }
  const data = new EntryData(archive, header.name, header.size);
  const bytes = await data.read(header.size);
  await data.finish();
  return bytes;
}

/** PAX records are "<length> <key>=<value>\n", the length counting the whole record. */
function parsePaxRecords(data: Buffer, header: Header, archive: ArchiveReader): [string, string][] {
  const records: [string, string][] = [];
  for (let at = 0; at < data.length; ) {
    const space = data.indexOf(0x20, at);
    const length = space > at ? decimal(data.toString('latin1', at, space)) : undefined;
    const end = at + (length ?? 0);
    const equals = data.indexOf(0x3d, space + 1);
    const wellFormed = length !== undefined && end <= data.length && data[end - 1] === 0x0a && equals > space && equals < end;
    if (!wellFormed) {
      throw archive.error(`broken tar: malformed PAX record at byte ${at} of the extended header at byte ${header.at}`);
    }
    records.push([data.toString('utf8', space + 1, equals), data.toString('utf8', equals + 1, end - 1)]);
    at = end;
  }
  return records;
}

async function buildEntry(archive: ArchiveReader, header: Header, metadata: Metadata): Promise<Entry> {
  const pax = interpretPax(metadata.pax, header, archive);
  const entry: Entry = {
    name: pax.sparseName ?? pax.path ?? metadata.longName ?? header.name,
    linkName: pax.linkPath ?? metadata.longLink ?? header.linkName,
    type: header.type,
    // GNU tar reads no data after hard links and directories, whatever their size field says.
    dataSize: header.type === '1' || header.type === '5' ? 0 : pax.size ?? header.size,
    at: header.at,
  };
  if (header.type === 'S') entry.sparse = await readOldGnuSparseMap(archive, header);
  else if (pax.sparse && REGULAR_TYPES.has(header.type)) entry.sparse = pax.sparse;
  return entry;
}

function interpretPax(records: [string, string][], header: Header, archive: ArchiveReader): PaxFields {
  const fields: PaxFields = {};
  const parse = (key: string, value: string): number => {
    const parsed = decimal(value);
    if (parsed === undefined) throw archive.error(`broken tar: invalid PAX record ${key}=${value} for the member at byte ${header.at}`);
    return parsed;
  };
  const offsets: number[] = [];
  const sizes: number[] = [];
  let map: number[] | undefined;
  let realSize: number | undefined;
  let major: string | undefined;
  for (const [key, value] of records) {
    // An empty value cancels the keyword (POSIX), leaving the header's own field in force.
    if (value === '') continue;
    switch (key) {
      case 'path': fields.path = value; break;
      case 'linkpath': fields.linkPath = value; break;
      case 'size': fields.size = parse(key, value); break;
      case 'GNU.sparse.name': fields.sparseName = value; break;
      case 'GNU.sparse.size':
      case 'GNU.sparse.realsize': realSize = parse(key, value); break;
      case 'GNU.sparse.major': major = value; break;
      case 'GNU.sparse.offset': offsets.push(parse(key, value)); break;
      case 'GNU.sparse.numbytes': sizes.push(parse(key, value)); break;
      case 'GNU.sparse.map': map = value.split(',').map((item) => parse(key, item)); break;
    }
  }
  if (major === undefined && map === undefined && offsets.length === 0 && realSize === undefined) return fields;
  const broken = (problem: string): SourceError =>
    archive.error(`broken tar: ${problem} in the PAX sparse header of the member at byte ${header.at}`);
  if (major !== undefined && major !== '0' && major !== '1') throw broken(`unsupported sparse format ${major}`);
  if (realSize === undefined) throw broken('no real size');
  if (major === '1') return { ...fields, sparse: { realSize } };
  // Format 0.1 has one comma-separated map; 0.0 repeats offset/numbytes records.
  if (map === undefined && offsets.length !== sizes.length) throw broken('unpaired GNU.sparse.offset/numbytes records');
  const pairs = map ?? offsets.flatMap((offset, i) => [offset, sizes[i]]);
  if (pairs.length % 2 !== 0) throw broken('an odd number of values in GNU.sparse.map');
  const regions: Region[] = [];
  for (let i = 0; i < pairs.length; i += 2) regions.push({ offset: pairs[i], size: pairs[i + 1] });
  return { ...fields, sparse: { realSize, regions } };
}

function decimal(text: string): number | undefined {
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(value) ? value : undefined;
}

// ---- Sparse maps ----

/** Old GNU sparse members keep four map entries in the header and chain 512-byte extension blocks for more. */
async function readOldGnuSparseMap(archive: ArchiveReader, header: Header): Promise<SparseInfo> {
  const realSize = readNumber(header.block, GNU_REALSIZE, 'realsize', header.at, archive);
  const regions: Region[] = [];
  let block = header.block;
  let at = header.at;
  let slots = SPARSE_IN_HEADER;
  let mapEnded = false;
  for (;;) {
    // Like GNU tar, ignore entries after an empty one, but still step over every extension block.
    mapEnded ||= collectSparseSlots(block, slots, at, regions, archive);
    if (block[slots.isExtended] === 0) return { realSize, regions };
    at = archive.position;
    block = await archive.read(BLOCK);
    if (block.length < BLOCK) throw archive.error(`broken tar: archive ends inside the sparse map of member '${header.name}'`);
    slots = SPARSE_IN_EXTENSION;
  }
}

/** Appends the block's map entries to `regions`; true when an empty entry ended the map. */
function collectSparseSlots(block: Buffer, slots: SparseSlots, at: number, regions: Region[], archive: ArchiveReader): boolean {
  for (let i = 0; i < slots.count; i++) {
    const offsetField = slots.start + i * 24;
    if (block[offsetField + 12] === 0) return true;
    regions.push({
      offset: readNumber(block, [offsetField, 12], 'sparse offset', at, archive),
      size: readNumber(block, [offsetField + 12, 12], 'sparse numbytes', at, archive),
    });
  }
  return false;
}

/** PAX sparse 1.0 opens the data with the map in decimal lines (count, then offset/size pairs), padded to a block. */
async function readSparseMapFromData(data: EntryData, entry: Entry, archive: ArchiveReader): Promise<Region[]> {
  const broken = (problem: string): SourceError =>
    archive.error(`broken tar: ${problem} in the sparse map of member '${entry.name}'`);
  const numbers: number[] = [];
  let wanted = 1;
  let partial = '';
  while (numbers.length < wanted) {
    if (data.remaining < BLOCK) throw broken('the map runs past the member data');
    const lines = (partial + (await data.read(BLOCK)).toString('latin1')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (numbers.length === wanted) break;
      const value = decimal(line);
      if (value === undefined) throw broken(`'${line.slice(0, 40)}' is not a number`);
      numbers.push(value);
      if (numbers.length === 1) wanted = 1 + 2 * value;
    }
    if (numbers.length < wanted && partial.length > MAX_DECIMAL_DIGITS) throw broken('a line is too long');
  }
  const regions: Region[] = [];
  for (let i = 1; i < numbers.length; i += 2) regions.push({ offset: numbers[i], size: numbers[i + 1] });
  return regions;
}

function checkSparseMap(regions: Region[], realSize: number, storedSize: number, entry: Entry, archive: ArchiveReader): void {
  const broken = (problem: string): SourceError =>
    archive.error(`broken tar: the sparse map of member '${entry.name}' ${problem}`);
  let end = 0;
  let stored = 0;
  for (const region of regions) {
    if (region.offset < end) throw broken(`has regions out of order or overlapping (offset ${region.offset} after data up to ${end})`);
    end = region.offset + region.size;
    stored += region.size;
    if (end > realSize) throw broken(`reaches byte ${end}, beyond the member's size of ${realSize} bytes`);
  }
  // GNU tar writes the regions the map lists and skips whatever the member stores beyond them (a
  // map that lists less than is stored extracts); a map that lists more than is stored would read
  // the archive's next headers as data, so that is refused.
  if (stored > storedSize) throw broken(`covers ${stored} bytes but the archive stores only ${storedSize}`);
}

// ---- Members ----

/** Drops what GNU tar drops before extracting: leading '/', '.' segments and everything up to the last '..'. */
function memberKey(name: string): { key: string; unsafe: boolean } {
  const segments = name.split('/');
  const lastParent = segments.lastIndexOf('..');
  return {
    key: segments.slice(lastParent + 1).filter((segment) => segment !== '' && segment !== '.').join('/'),
    unsafe: name.startsWith('/') || lastParent >= 0,
  };
}

function requestedKey(member: string, archive: ArchiveReader): string {
  const { key, unsafe } = memberKey(member);
  if (unsafe) throw archive.error(`member '${member}' has an unsafe path (absolute or containing '..')`);
  if (key === '') throw archive.error(`member name '${member}' names no file`);
  return key;
}

/** A matching entry whose stored name escapes the extraction directory is refused rather than silently renamed. */
function isWanted(entry: Entry, wanted: string, archive: ArchiveReader): boolean {
  const { key, unsafe } = memberKey(entry.name);
  if (key !== wanted) return false;
  if (unsafe) throw archive.error(`member '${entry.name}' has an unsafe path (absolute or containing '..')`);
  return true;
}

async function extractEntry(archive: ArchiveReader, entry: Entry, writer: SparseWriter): Promise<TarMemberResult> {
  rejectNonRegular(entry, archive);
  const data = new EntryData(archive, entry.name, entry.dataSize);
  const toWriter = (base: number): Sink => (piece, offset) => writer.write(piece, base + offset);
  if (!entry.sparse) {
    writer.setLength(entry.dataSize);
    await data.pipe(entry.dataSize, toWriter(0));
    await data.finish();
    return { size: entry.dataSize };
  }
  const regions = entry.sparse.regions ?? (await readSparseMapFromData(data, entry, archive));
  checkSparseMap(regions, entry.sparse.realSize, data.remaining, entry, archive);
  // GNU tar makes the file as long as its map reaches (a map ends with an empty region where the
  // file ends in a hole) and never reads the real size for that; tar writes maps that reach it.
  const last = regions.at(-1);
  const size = last ? last.offset + last.size : 0;
  writer.setLength(size);
  for (const region of regions) await data.pipe(region.size, toWriter(region.offset));
  // finish() skips stored bytes past the map's last region, as GNU tar does.
  await data.finish();
  return { size };
}

function rejectNonRegular(entry: Entry, archive: ArchiveReader): void {
  if (REGULAR_TYPES.has(entry.type)) return;
  const kind = TYPE_NAMES[entry.type] ?? `an entry of unknown type '${entry.type}'`;
  const target = entry.type === '1' || entry.type === '2' ? ` to '${entry.linkName}'` : '';
  throw archive.error(`member '${entry.name}' is ${kind}${target}, expected a regular file`);
}
