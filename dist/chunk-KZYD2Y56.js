import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  SourceError
} from "./chunk-BHNCOJM6.js";
import {
  ZSTD_MAGIC,
  isSkippableMagic
} from "./chunk-SPWXLHYK.js";
import {
  RAW_DIGEST_SEGMENT,
  formatRawDigest
} from "./chunk-WB6ZLOID.js";

// src/core/extract/tar.ts
var BLOCK = 512;
var ZERO_BLOCK = Buffer.alloc(BLOCK);
var EMPTY = Buffer.alloc(0);
var MAX_METADATA = 64 * 1024 * 1024;
var MAX_LISTED_MEMBERS = 10;
var MAX_DECIMAL_DIGITS = 16;
var NAME = [0, 100];
var SIZE = [124, 12];
var CHECKSUM = [148, 8];
var TYPEFLAG = 156;
var LINKNAME = [157, 100];
var MAGIC = [257, 6];
var PREFIX = [345, 155];
var GNU_REALSIZE = [483, 12];
var SPARSE_IN_HEADER = { start: 386, count: 4, isExtended: 482 };
var SPARSE_IN_EXTENSION = { start: 0, count: 21, isExtended: 504 };
var REGULAR_TYPES = /* @__PURE__ */ new Set(["0", "7", "S"]);
var TYPE_NAMES = {
  "1": "a hard link",
  "2": "a symbolic link",
  "3": "a character device",
  "4": "a block device",
  "5": "a directory",
  "6": "a FIFO",
  D: "a directory",
  M: "the continuation of a multi-volume member",
  V: "a volume label"
};
async function extractTarMember(chunks, member, writer, source, signal) {
  const archive = new ArchiveReader(chunks, source, signal);
  try {
    const wanted = requestedKey(member, archive);
    const seen = new SeenMembers();
    let found;
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
async function* tarMemberData(chunks, member, source) {
  const archive = new ArchiveReader(chunks, source);
  let finished = false;
  try {
    const wanted = requestedKey(member, archive);
    const seen = new SeenMembers();
    let foundAt;
    for (let entry = await nextEntry(archive); entry; entry = await nextEntry(archive)) {
      const data = new EntryData(archive, entry.name, entry.dataSize);
      if (!isWanted(entry, wanted, archive)) {
        seen.add(entry.name);
        await data.finish();
        continue;
      }
      if (foundAt !== void 0) throw archive.error(`member '${member}' appears more than once in the archive (at bytes ${foundAt} and ${entry.at})`);
      rejectNonRegular(entry, archive);
      if (entry.sparse) throw archive.error(`member '${entry.name}' is stored sparse, which this reader does not take`);
      foundAt = entry.at;
      for (let piece = await data.next(); piece.length > 0; piece = await data.next()) yield piece;
      await data.finish();
    }
    await archive.drain();
    if (foundAt === void 0) throw archive.error(`member '${member}' not found in the archive (${seen.describe()})`);
    finished = true;
  } finally {
    if (!finished) await archive.abandon();
  }
}
var ArchiveReader = class {
  /** `signal` is checked for every chunk: members before and after the wanted one are read without a single write. */
  constructor(chunks, source, signal) {
    this.source = source;
    this.signal = signal;
    this.iterator = chunks[Symbol.asyncIterator]();
  }
  source;
  signal;
  /** Archive offset of the next unread byte. */
  position = 0;
  chunk = EMPTY;
  ended = false;
  iterator;
  error(reason) {
    return new SourceError(this.source, reason);
  }
  /** Up to `max` bytes without copying; empty only at the end of the stream. */
  async take(max) {
    if (this.chunk.length === 0 && !await this.advance()) return EMPTY;
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
  async read(length) {
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
  async drain() {
    do {
      this.position += this.chunk.length;
      this.chunk = EMPTY;
    } while (await this.advance());
  }
  /** Lets the producer release its file when we stop early. Its own failure would hide the error that stopped us. */
  async abandon() {
    if (this.ended) return;
    this.ended = true;
    try {
      await this.iterator.return?.();
    } catch {
    }
  }
  async advance() {
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
};
var EntryData = class {
  constructor(archive, name, size) {
    this.archive = archive;
    this.name = name;
    this.size = size;
  }
  archive;
  name;
  size;
  consumed = 0;
  get remaining() {
    return this.size - this.consumed;
  }
  /** Hands the next `length` bytes to `sink` as slices of the chunks, each with its offset within those bytes. */
  async pipe(length, sink) {
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
  async next() {
    if (this.remaining === 0) return EMPTY;
    const piece = await this.archive.take(this.remaining);
    if (piece.length === 0) throw this.truncated();
    this.consumed += piece.length;
    return piece;
  }
  async read(length) {
    const bytes = await this.archive.read(length);
    this.consumed += bytes.length;
    if (bytes.length < length) throw this.truncated();
    return bytes;
  }
  /** Skips the rest of the data and the padding, leaving the archive at the next header. */
  async finish() {
    await this.pipe(this.remaining);
    const padding = (BLOCK - this.size % BLOCK) % BLOCK;
    if ((await this.archive.read(padding)).length < padding) {
      throw this.archive.error(`broken tar: archive ends inside the padding after member '${this.name}'`);
    }
  }
  truncated() {
    return this.archive.error(`broken tar: archive ends inside member '${this.name}' (got ${this.consumed} of ${this.size} bytes)`);
  }
};
var SeenMembers = class {
  names = [];
  count = 0;
  add(name) {
    this.count++;
    if (this.names.length < MAX_LISTED_MEMBERS) this.names.push(name);
  }
  describe() {
    if (this.count === 0) return "the archive has no members";
    const more = this.count - this.names.length;
    return `members seen: ${this.names.join(", ")}${more > 0 ? `, and ${more} more` : ""}`;
  }
};
async function nextEntry(archive) {
  const metadata = { pax: [] };
  let metadataAt;
  for (; ; ) {
    const at = archive.position;
    const block = await archive.read(BLOCK);
    if (block.length === 0 || block.length === BLOCK && block.equals(ZERO_BLOCK)) {
      if (metadataAt === void 0) return void 0;
      throw archive.error(`broken tar: the archive ends after the extended header at byte ${metadataAt}, without the member it describes`);
    }
    if (block.length < BLOCK) {
      throw archive.error(at === 0 ? `not a tar archive (only ${block.length} bytes long)` : `broken tar: archive ends inside a header at byte ${at}`);
    }
    const header = parseHeader(block, at, archive);
    switch (header.type) {
      case "L":
        metadata.longName = cString(await readMetadata(archive, header));
        break;
      case "K":
        metadata.longLink = cString(await readMetadata(archive, header));
        break;
      case "x":
        metadata.pax = metadata.pax.concat(parsePaxRecords(await readMetadata(archive, header), header, archive));
        break;
      case "g":
        await new EntryData(archive, header.name, header.size).finish();
        continue;
      default:
        return buildEntry(archive, header, metadata);
    }
    metadataAt ??= at;
  }
}
function parseHeader(block, at, archive) {
  verifyChecksum(block, at, archive);
  const name = cString(field(block, NAME));
  const prefix = field(block, MAGIC).toString("latin1") === "ustar\0" ? cString(field(block, PREFIX)) : "";
  return {
    name: prefix ? `${prefix}/${name}` : name,
    linkName: cString(field(block, LINKNAME)),
    type: block[TYPEFLAG] === 0 ? "0" : String.fromCharCode(block[TYPEFLAG]),
    size: readNumber(block, SIZE, "size", at, archive),
    at,
    block
  };
}
function verifyChecksum(block, at, archive) {
  const [start, length] = CHECKSUM;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= start && i < start + length ? 32 : block[i];
    unsigned += byte;
    signed += byte < 128 ? byte : byte - 256;
  }
  const recorded = /^ *([0-7]+)(?:[ \0]|$)/.exec(field(block, CHECKSUM).toString("latin1"));
  const sum = recorded ? Number.parseInt(recorded[1], 8) : NaN;
  if (sum === unsigned || sum === signed) return;
  const reason = `header checksum mismatch at byte ${at}`;
  throw archive.error(at === 0 ? `not a tar archive (${reason})` : `broken tar: ${reason}`);
}
function readNumber(block, where, what, at, archive) {
  const bytes = field(block, where);
  const invalid = (problem) => archive.error(`broken tar: ${problem} ${what} field in the header at byte ${at}`);
  if (bytes[0] & 128) {
    if (bytes[0] & 64) throw invalid("negative");
    let value = bytes[0] & 63;
    for (let i = 1; i < bytes.length; i++) value = value * 256 + bytes[i];
    if (!Number.isSafeInteger(value)) throw invalid("too large a");
    return value;
  }
  const digits = /^ *([0-7]*)(?:[ \0]|$)/.exec(bytes.toString("latin1"));
  if (!digits) throw invalid("invalid");
  return digits[1] ? Number.parseInt(digits[1], 8) : 0;
}
function field(block, [start, length]) {
  return block.subarray(start, start + length);
}
function cString(bytes) {
  const end = bytes.indexOf(0);
  return bytes.toString("utf8", 0, end < 0 ? bytes.length : end);
}
async function readMetadata(archive, header) {
  if (header.size > MAX_METADATA) {
    throw archive.error(`broken tar: the extended header at byte ${header.at} claims an implausible ${header.size} bytes`);
  }
  const data = new EntryData(archive, header.name, header.size);
  const bytes = await data.read(header.size);
  await data.finish();
  return bytes;
}
function parsePaxRecords(data, header, archive) {
  const records = [];
  for (let at = 0; at < data.length; ) {
    const space = data.indexOf(32, at);
    const length = space > at ? decimal(data.toString("latin1", at, space)) : void 0;
    const end = at + (length ?? 0);
    const equals = data.indexOf(61, space + 1);
    const wellFormed = length !== void 0 && end <= data.length && data[end - 1] === 10 && equals > space && equals < end;
    if (!wellFormed) {
      throw archive.error(`broken tar: malformed PAX record at byte ${at} of the extended header at byte ${header.at}`);
    }
    records.push([data.toString("utf8", space + 1, equals), data.toString("utf8", equals + 1, end - 1)]);
    at = end;
  }
  return records;
}
async function buildEntry(archive, header, metadata) {
  const pax = interpretPax(metadata.pax, header, archive);
  const entry = {
    name: pax.sparseName ?? pax.path ?? metadata.longName ?? header.name,
    linkName: pax.linkPath ?? metadata.longLink ?? header.linkName,
    type: header.type,
    // GNU tar reads no data after hard links and directories, whatever their size field says.
    dataSize: header.type === "1" || header.type === "5" ? 0 : pax.size ?? header.size,
    at: header.at
  };
  if (header.type === "S") entry.sparse = await readOldGnuSparseMap(archive, header);
  else if (pax.sparse && REGULAR_TYPES.has(header.type)) entry.sparse = pax.sparse;
  return entry;
}
function interpretPax(records, header, archive) {
  const fields = {};
  const parse = (key, value) => {
    const parsed = decimal(value);
    if (parsed === void 0) throw archive.error(`broken tar: invalid PAX record ${key}=${value} for the member at byte ${header.at}`);
    return parsed;
  };
  const offsets = [];
  const sizes = [];
  let map;
  let realSize;
  let major;
  for (const [key, value] of records) {
    if (value === "") continue;
    switch (key) {
      case "path":
        fields.path = value;
        break;
      case "linkpath":
        fields.linkPath = value;
        break;
      case "size":
        fields.size = parse(key, value);
        break;
      case "GNU.sparse.name":
        fields.sparseName = value;
        break;
      case "GNU.sparse.size":
      case "GNU.sparse.realsize":
        realSize = parse(key, value);
        break;
      case "GNU.sparse.major":
        major = value;
        break;
      case "GNU.sparse.offset":
        offsets.push(parse(key, value));
        break;
      case "GNU.sparse.numbytes":
        sizes.push(parse(key, value));
        break;
      case "GNU.sparse.map":
        map = value.split(",").map((item) => parse(key, item));
        break;
    }
  }
  if (major === void 0 && map === void 0 && offsets.length === 0 && realSize === void 0) return fields;
  const broken = (problem) => archive.error(`broken tar: ${problem} in the PAX sparse header of the member at byte ${header.at}`);
  if (major !== void 0 && major !== "0" && major !== "1") throw broken(`unsupported sparse format ${major}`);
  if (realSize === void 0) throw broken("no real size");
  if (major === "1") return { ...fields, sparse: { realSize } };
  if (map === void 0 && offsets.length !== sizes.length) throw broken("unpaired GNU.sparse.offset/numbytes records");
  const pairs = map ?? offsets.flatMap((offset, i) => [offset, sizes[i]]);
  if (pairs.length % 2 !== 0) throw broken("an odd number of values in GNU.sparse.map");
  const regions = [];
  for (let i = 0; i < pairs.length; i += 2) regions.push({ offset: pairs[i], size: pairs[i + 1] });
  return { ...fields, sparse: { realSize, regions } };
}
function decimal(text) {
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(value) ? value : void 0;
}
async function readOldGnuSparseMap(archive, header) {
  const realSize = readNumber(header.block, GNU_REALSIZE, "realsize", header.at, archive);
  const regions = [];
  let block = header.block;
  let at = header.at;
  let slots = SPARSE_IN_HEADER;
  let mapEnded = false;
  for (; ; ) {
    mapEnded ||= collectSparseSlots(block, slots, at, regions, archive);
    if (block[slots.isExtended] === 0) return { realSize, regions };
    at = archive.position;
    block = await archive.read(BLOCK);
    if (block.length < BLOCK) throw archive.error(`broken tar: archive ends inside the sparse map of member '${header.name}'`);
    slots = SPARSE_IN_EXTENSION;
  }
}
function collectSparseSlots(block, slots, at, regions, archive) {
  for (let i = 0; i < slots.count; i++) {
    const offsetField = slots.start + i * 24;
    if (block[offsetField + 12] === 0) return true;
    regions.push({
      offset: readNumber(block, [offsetField, 12], "sparse offset", at, archive),
      size: readNumber(block, [offsetField + 12, 12], "sparse numbytes", at, archive)
    });
  }
  return false;
}
async function readSparseMapFromData(data, entry, archive) {
  const broken = (problem) => archive.error(`broken tar: ${problem} in the sparse map of member '${entry.name}'`);
  const numbers = [];
  let wanted = 1;
  let partial = "";
  while (numbers.length < wanted) {
    if (data.remaining < BLOCK) throw broken("the map runs past the member data");
    const lines = (partial + (await data.read(BLOCK)).toString("latin1")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (numbers.length === wanted) break;
      const value = decimal(line);
      if (value === void 0) throw broken(`'${line.slice(0, 40)}' is not a number`);
      numbers.push(value);
      if (numbers.length === 1) wanted = 1 + 2 * value;
    }
    if (numbers.length < wanted && partial.length > MAX_DECIMAL_DIGITS) throw broken("a line is too long");
  }
  const regions = [];
  for (let i = 1; i < numbers.length; i += 2) regions.push({ offset: numbers[i], size: numbers[i + 1] });
  return regions;
}
function checkSparseMap(regions, realSize, storedSize, entry, archive) {
  const broken = (problem) => archive.error(`broken tar: the sparse map of member '${entry.name}' ${problem}`);
  let end = 0;
  let stored = 0;
  for (const region of regions) {
    if (region.offset < end) throw broken(`has regions out of order or overlapping (offset ${region.offset} after data up to ${end})`);
    end = region.offset + region.size;
    stored += region.size;
    if (end > realSize) throw broken(`reaches byte ${end}, beyond the member's size of ${realSize} bytes`);
  }
  if (stored > storedSize) throw broken(`covers ${stored} bytes but the archive stores only ${storedSize}`);
}
function memberKey(name) {
  const segments = name.split("/");
  const lastParent = segments.lastIndexOf("..");
  return {
    key: segments.slice(lastParent + 1).filter((segment) => segment !== "" && segment !== ".").join("/"),
    unsafe: name.startsWith("/") || lastParent >= 0
  };
}
function requestedKey(member, archive) {
  const { key, unsafe } = memberKey(member);
  if (unsafe) throw archive.error(`member '${member}' has an unsafe path (absolute or containing '..')`);
  if (key === "") throw archive.error(`member name '${member}' names no file`);
  return key;
}
function isWanted(entry, wanted, archive) {
  const { key, unsafe } = memberKey(entry.name);
  if (key !== wanted) return false;
  if (unsafe) throw archive.error(`member '${entry.name}' has an unsafe path (absolute or containing '..')`);
  return true;
}
async function extractEntry(archive, entry, writer) {
  rejectNonRegular(entry, archive);
  const data = new EntryData(archive, entry.name, entry.dataSize);
  const toWriter = (base) => (piece, offset) => writer.write(piece, base + offset);
  if (!entry.sparse) {
    writer.setLength(entry.dataSize);
    await data.pipe(entry.dataSize, toWriter(0));
    await data.finish();
    return { size: entry.dataSize };
  }
  const regions = entry.sparse.regions ?? await readSparseMapFromData(data, entry, archive);
  checkSparseMap(regions, entry.sparse.realSize, data.remaining, entry, archive);
  const last = regions.at(-1);
  const size = last ? last.offset + last.size : 0;
  writer.setLength(size);
  for (const region of regions) await data.pipe(region.size, toWriter(region.offset));
  await data.finish();
  return { size };
}
function rejectNonRegular(entry, archive) {
  if (REGULAR_TYPES.has(entry.type)) return;
  const kind = TYPE_NAMES[entry.type] ?? `an entry of unknown type '${entry.type}'`;
  const target = entry.type === "1" || entry.type === "2" ? ` to '${entry.linkName}'` : "";
  throw archive.error(`member '${entry.name}' is ${kind}${target}, expected a regular file`);
}

// src/core/entry/format.ts
import { createHash } from "node:crypto";
var ENTRY_VERSION = 1;
var BASECOW_SKIPPABLE_MAGIC = 407710299;
var SEEK_TABLE_MAGIC = 407710302;
var SEEKABLE_MAGIC = 2408770225;
var SKIPPABLE_HEADER = 8;
var HEADER_ID = "basecow-entry";
var PLAN_ID = "basecow-plan";
var ID_BYTES = 16;
var HEADER_CONTENT = 32;
var HEADER_FRAME_BYTES = SKIPPABLE_HEADER + HEADER_CONTENT;
var SEEK_FOOTER_BYTES = 9;
var SEEK_ENTRY_BYTES = 8;
var DATA_FRAME_MAX = 32 * 1024 * 1024;
var HOLE_FRAME_MAX = 1024 * 1024 * 1024;
var ZSTD_MAGIC2 = 4247762216;
var RLE_BLOCK_MAX = 128 * 1024;
function encodeHeaderFrame(apparentSize) {
  const frame = Buffer.alloc(HEADER_FRAME_BYTES);
  frame.writeUInt32LE(BASECOW_SKIPPABLE_MAGIC, 0);
  frame.writeUInt32LE(HEADER_CONTENT, 4);
  frame.write(HEADER_ID, SKIPPABLE_HEADER, "latin1");
  frame.writeUInt32LE(ENTRY_VERSION, SKIPPABLE_HEADER + 16);
  frame.writeUInt32LE(0, SKIPPABLE_HEADER + 20);
  frame.writeBigUInt64LE(BigInt(apparentSize), SKIPPABLE_HEADER + 24);
  return frame;
}
var EntryFormatError = class extends Error {
};
function decodeHeaderFrame(head) {
  const idEnd = SKIPPABLE_HEADER + ID_BYTES;
  const isOurs = head.length >= idEnd && head.readUInt32LE(0) === BASECOW_SKIPPABLE_MAGIC && head.toString("latin1", SKIPPABLE_HEADER, idEnd) === HEADER_ID.padEnd(ID_BYTES, "\0");
  if (!isOurs) throw new EntryFormatError("is not a basecow entry (it does not start with a basecow-entry header)");
  if (head.length < HEADER_FRAME_BYTES) throw new EntryFormatError("truncated basecow entry: it ends inside its header");
  const version = head.readUInt32LE(SKIPPABLE_HEADER + 16);
  if (version !== ENTRY_VERSION) {
    throw new EntryFormatError(`basecow entry format version ${version} is not supported (this basecow reads version ${ENTRY_VERSION}); the entry was written by another basecow version`);
  }
  if (head.readUInt32LE(4) !== HEADER_CONTENT || head.readUInt32LE(SKIPPABLE_HEADER + 20) !== 0) {
    throw new EntryFormatError("damaged basecow entry: its header has an unexpected size or flags");
  }
  return { version, apparentSize: Number(head.readBigUInt64LE(SKIPPABLE_HEADER + 24)) };
}
var check = (bytes) => createHash("sha256").update(bytes).digest().subarray(0, 4);
function encodePlanFrame(rawDigest, kinds) {
  const content = Buffer.alloc(28 + kinds.length + 4);
  content.write(PLAN_ID, 0, "latin1");
  content.writeBigUInt64LE(rawDigest, 16);
  content.writeUInt32LE(kinds.length, 24);
  kinds.forEach((kind, i) => content[28 + i] = kind === "hole" ? 1 : 0);
  check(content.subarray(0, 28 + kinds.length)).copy(content, 28 + kinds.length);
  const header = Buffer.alloc(SKIPPABLE_HEADER);
  header.writeUInt32LE(BASECOW_SKIPPABLE_MAGIC, 0);
  header.writeUInt32LE(content.length, 4);
  return Buffer.concat([header, content]);
}
function decodePlanFrame(frame) {
  const content = frame.subarray(SKIPPABLE_HEADER);
  const ok = frame.length >= SKIPPABLE_HEADER + 32 && frame.readUInt32LE(0) === BASECOW_SKIPPABLE_MAGIC && frame.readUInt32LE(4) === content.length && content.toString("latin1", 0, ID_BYTES) === PLAN_ID.padEnd(ID_BYTES, "\0");
  if (!ok) throw new EntryFormatError("damaged basecow entry: the frame before its seek table is not a basecow plan");
  const count = content.readUInt32LE(24);
  if (content.length !== 28 + count + 4 || !check(content.subarray(0, 28 + count)).equals(content.subarray(28 + count))) {
    throw new EntryFormatError("damaged basecow entry: its plan does not match its checksum");
  }
  const kinds = [];
  for (let i = 0; i < count; i++) {
    const kind = content[28 + i];
    if (kind > 1) throw new EntryFormatError(`damaged basecow entry: frame ${i} has unknown kind ${kind}`);
    kinds.push(kind === 1 ? "hole" : "data");
  }
  return { rawDigest: content.readBigUInt64LE(16), kinds };
}
function holeFrame(length) {
  if (length <= 0 || length > HOLE_FRAME_MAX) throw new RangeError(`hole frame of ${length} bytes`);
  const blocks = Math.ceil(length / RLE_BLOCK_MAX);
  const frame = Buffer.alloc(14 + 4 * blocks);
  frame.writeUInt32LE(ZSTD_MAGIC2, 0);
  frame[4] = 192;
  frame[5] = 56;
  frame.writeBigUInt64LE(BigInt(length), 6);
  let at = 14;
  for (let left = length; left > 0; at += 4) {
    const size = Math.min(left, RLE_BLOCK_MAX);
    left -= size;
    frame.writeUIntLE((left === 0 ? 1 : 0) | 1 << 1 | size << 3, at, 3);
  }
  return frame;
}
function encodeSeekTable(entries) {
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
function decodeSeekFooter(footer) {
  if (footer.length < SEEK_FOOTER_BYTES || footer.readUInt32LE(5) !== SEEKABLE_MAGIC) {
    throw new EntryFormatError("truncated or damaged basecow entry: it does not end with a zstd seek table");
  }
  if ((footer[4] & 124) !== 0) throw new EntryFormatError("damaged basecow entry: its seek table has reserved bits set");
  const count = footer.readUInt32LE(0);
  const entryBytes = footer[4] & 128 ? 12 : SEEK_ENTRY_BYTES;
  return { count, tableBytes: SKIPPABLE_HEADER + count * entryBytes + SEEK_FOOTER_BYTES };
}
function decodeSeekTable(table, count) {
  if (table.readUInt32LE(0) !== SEEK_TABLE_MAGIC || table.readUInt32LE(4) !== table.length - SKIPPABLE_HEADER) {
    throw new EntryFormatError("truncated or damaged basecow entry: its seek table frame has a bad header");
  }
  const entryBytes = table[table.length - SEEK_FOOTER_BYTES + 4] & 128 ? 12 : SEEK_ENTRY_BYTES;
  const entries = [];
  for (let i = 0; i < count; i++) {
    const at = SKIPPABLE_HEADER + i * entryBytes;
    entries.push({ compressedSize: table.readUInt32LE(at), decompressedSize: table.readUInt32LE(at + 4) });
  }
  return entries;
}

// src/core/entry/read.ts
import { open } from "node:fs/promises";
async function readAt(file, position, length) {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await file.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}
async function readEntryIndex(path) {
  let file;
  try {
    file = await open(path, "r");
  } catch (error) {
    throw new SourceError(path, `cannot read the basecow entry: ${error.message}`, { cause: error });
  }
  try {
    return await readIndex(path, file);
  } catch (error) {
    if (error instanceof EntryFormatError) throw new SourceError(path, error.message);
    if (error instanceof SourceError) throw error;
    throw new SourceError(path, `cannot read the basecow entry: ${error.message}`, { cause: error });
  } finally {
    await file.close();
  }
}
async function readIndex(path, file) {
  return indexFrom(path, (await file.stat()).size, (position, length) => readAt(file, position, length));
}
async function indexFrom(path, bytes, readAt2) {
  const header = decodeHeaderFrame(await readAt2(0, HEADER_FRAME_BYTES));
  const { count, tableBytes } = decodeSeekFooter(await readAt2(Math.max(0, bytes - SEEK_FOOTER_BYTES), SEEK_FOOTER_BYTES));
  if (count < 2 || tableBytes > bytes - HEADER_FRAME_BYTES) throw new EntryFormatError("truncated or damaged basecow entry: its seek table does not fit the file");
  const seek = decodeSeekTable(await readAt2(bytes - tableBytes, tableBytes), count);
  const compressedTotal = seek.reduce((sum, entry) => sum + entry.compressedSize, 0);
  if (compressedTotal + tableBytes !== bytes) {
    throw new EntryFormatError(`truncated or damaged basecow entry: its seek table accounts for ${compressedTotal + tableBytes} bytes, the file has ${bytes}`);
  }
  if (seek[0].compressedSize !== HEADER_FRAME_BYTES || seek[0].decompressedSize !== 0) {
    throw new EntryFormatError("damaged basecow entry: the seek table does not start with the header frame");
  }
  const planEntry = seek[count - 1];
  const plan = decodePlanFrame(await readAt2(bytes - tableBytes - planEntry.compressedSize, planEntry.compressedSize));
  if (plan.kinds.length !== count - 2) {
    throw new EntryFormatError(`damaged basecow entry: its plan lists ${plan.kinds.length} frames, its seek table ${count - 2}`);
  }
  const frames = framesOf(seek, plan.kinds, header.apparentSize);
  return { path, version: header.version, apparentSize: header.apparentSize, rawDigest: formatRawDigest(plan.rawDigest), frames, bytes };
}
function framesOf(seek, kinds, apparentSize) {
  const frames = [];
  let rawOffset = 0;
  let compressedOffset = HEADER_FRAME_BYTES;
  for (let i = 1; i < seek.length - 1; i++) {
    const { compressedSize, decompressedSize } = seek[i];
    const kind = kinds[i - 1];
    const max = kind === "hole" ? HOLE_FRAME_MAX : DATA_FRAME_MAX;
    const crossesSegment = kind === "data" && Math.floor(rawOffset / DATA_FRAME_MAX) !== Math.floor((rawOffset + decompressedSize - 1) / DATA_FRAME_MAX);
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
function sameFrames(a, b) {
  return a.length === b.length && a.every((frame, i) => frame.kind === b[i].kind && frame.rawOffset === b[i].rawOffset && frame.rawLength === b[i].rawLength && frame.compressedOffset === b[i].compressedOffset && frame.compressedSize === b[i].compressedSize);
}

// src/core/extract/parallel/plan.ts
import { readSync } from "node:fs";
import { open as open2 } from "node:fs/promises";
var FRAME_HEADER_MAX = 18;
var WINDOW = 4096;
var WindowReader = class {
  constructor(fd, size) {
    this.fd = fd;
    this.size = size;
  }
  fd;
  size;
  at = 0;
  length = 0;
  buf = Buffer.allocUnsafe(WINDOW);
  /** The bytes at [position, position + length) (length at most WINDOW), or undefined past the end. */
  get(position, length) {
    if (position + length > this.size) return void 0;
    if (position < this.at || position + length > this.at + this.length) {
      this.length = readSync(this.fd, this.buf, 0, WINDOW, position);
      this.at = position;
      if (position + length > this.at + this.length) return void 0;
    }
    return this.buf.subarray(position - this.at, position - this.at + length);
  }
};
function sizedFrameHeader(bytes) {
  if (!bytes || bytes.length < 6 || bytes.readUInt32LE(0) !== ZSTD_MAGIC) return void 0;
  const fhd = bytes[4];
  const single = fhd >> 5 & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fhd >> 6];
  if (fcsBytes === 0 || dictBytes !== 0) return void 0;
  const headerBytes = 5 + (single ? 0 : 1) + fcsBytes;
  if (bytes.length < headerBytes) return void 0;
  const fcsAt = headerBytes - fcsBytes;
  let contentSize = fcsBytes === 8 ? Number(bytes.readBigUInt64LE(fcsAt)) : bytes.readUIntLE(fcsAt, fcsBytes);
  if (fcsBytes === 2) contentSize += 256;
  return { headerBytes, contentSize, hasChecksum: (fhd >> 2 & 1) === 1 };
}
function blockHeader(bytes) {
  const value = bytes.readUIntLE(0, 3);
  const type = value >> 1 & 3;
  return { type, bytes: 3 + (type === 1 ? 1 : value >>> 3), last: (value & 1) === 1 };
}
function sizedFrameStartsAt(fd, position) {
  const bytes = Buffer.alloc(FRAME_HEADER_MAX);
  const length = readSync(fd, bytes, 0, FRAME_HEADER_MAX, position);
  return sizedFrameHeader(bytes.subarray(0, length)) !== void 0;
}
async function walkFrames(path, limit = Infinity) {
  const unplannable = { end: "unplannable" };
  const file = await open2(path, "r");
  try {
    const reader = new WindowReader(file.fd, (await file.stat()).size);
    const frames = [];
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
      for (; ; ) {
        if (position > limit) return { end: "limit", frames };
        const bytes = reader.get(position, 3);
        if (!bytes) return unplannable;
        const block = blockHeader(bytes);
        if (block.type === 3) return unplannable;
        position += block.bytes;
        if (block.last) break;
      }
      position += header.hasChecksum ? 4 : 0;
      if (position > reader.size) return unplannable;
      if (header.contentSize > 0) frames.push({ kind: "data", rawOffset: raw, rawLength: header.contentSize, compressedOffset: start, compressedSize: position - start });
      raw += header.contentSize;
    }
    return { end: "file", frames };
  } finally {
    await file.close();
  }
}
function planOf(frames) {
  if (frames.length < 2) return void 0;
  const last = frames[frames.length - 1];
  return { size: last.rawOffset + last.rawLength, tasks: toTasks(frames, RAW_DIGEST_SEGMENT), from: "frame-headers" };
}
var TaskCutter = class {
  constructor(target) {
    this.target = target;
  }
  target;
  current;
  /** The task being gathered, not handed on yet. */
  get open() {
    return this.current;
  }
  /** Adds the next frame; returns the tasks it completed. */
  add(frame) {
    const done = [];
    const target = this.target;
    for (let at = frame.rawOffset; at < frame.rawOffset + frame.rawLength; ) {
      const piece = frame.kind === "hole" ? { ...frame, rawOffset: at, rawLength: Math.min(frame.rawOffset + frame.rawLength, (Math.floor(at / RAW_DIGEST_SEGMENT) + 1) * RAW_DIGEST_SEGMENT) - at } : frame;
      at += piece.rawLength;
      const current = this.current;
      if (current && (Math.floor(current.rawStart / target) !== Math.floor(piece.rawOffset / target) || current.rawEnd - current.rawStart >= target)) {
        done.push(current);
        this.current = void 0;
      }
      this.current ??= { rawStart: piece.rawOffset, rawEnd: piece.rawOffset, frames: [] };
      this.current.frames.push(piece);
      this.current.rawEnd = piece.rawOffset + piece.rawLength;
      if (this.current.rawEnd % target === 0) {
        done.push(this.current);
        this.current = void 0;
      }
    }
    return done;
  }
  /** After the last frame: the task still gathered, if any. */
  finish() {
    const last = this.current;
    this.current = void 0;
    return last;
  }
};
function toTasks(frames, target) {
  const cutter = new TaskCutter(target);
  const tasks = frames.flatMap((frame) => cutter.add(frame));
  const last = cutter.finish();
  return last ? [...tasks, last] : tasks;
}
async function planFromEntry(path) {
  const head = Buffer.alloc(4);
  const file = await open2(path, "r");
  try {
    await file.read(head, 0, 4, 0);
  } finally {
    await file.close();
  }
  if (head.readUInt32LE(0) !== BASECOW_SKIPPABLE_MAGIC) return void 0;
  let index;
  try {
    index = await readEntryIndex(path);
  } catch (error) {
    if (error instanceof SourceError && /not a basecow entry/.test(error.reason)) return void 0;
    throw error;
  }
  if (index.frames.length === 0) return void 0;
  return { size: index.apparentSize, tasks: toTasks(index.frames, RAW_DIGEST_SEGMENT), from: "entry", expectedRawDigest: index.rawDigest };
}
async function planFromFrames(path) {
  const walk = await walkFrames(path);
  return walk.end === "file" ? planOf(walk.frames) : void 0;
}
var PROBE_BYTES = 16 * 1024 * 1024;
async function probeFrames(path) {
  const walk = await walkFrames(path, PROBE_BYTES);
  if (walk.end === "unplannable") return { kind: "sequential" };
  if (walk.end === "limit") return walk.frames.length > 0 ? { kind: "several" } : { kind: "unknown" };
  const plan = planOf(walk.frames);
  return plan ? { kind: "plan", plan } : { kind: "sequential" };
}

export {
  BASECOW_SKIPPABLE_MAGIC,
  HEADER_FRAME_BYTES,
  HOLE_FRAME_MAX,
  encodeHeaderFrame,
  EntryFormatError,
  decodeHeaderFrame,
  encodePlanFrame,
  holeFrame,
  encodeSeekTable,
  readEntryIndex,
  indexFrom,
  sameFrames,
  FRAME_HEADER_MAX,
  sizedFrameHeader,
  blockHeader,
  sizedFrameStartsAt,
  TaskCutter,
  planFromEntry,
  planFromFrames,
  probeFrames,
  extractTarMember,
  tarMemberData
};
