import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  BASECOW_SKIPPABLE_MAGIC,
  EntryFormatError,
  FRAME_HEADER_MAX,
  HEADER_FRAME_BYTES,
  HOLE_FRAME_MAX,
  TaskCutter,
  blockHeader,
  decodeHeaderFrame,
  indexFrom,
  sameFrames,
  sizedFrameHeader
} from "./chunk-KZYD2Y56.js";
import {
  SourceError
} from "./chunk-BHNCOJM6.js";
import {
  isSkippableMagic
} from "./chunk-SPWXLHYK.js";
import {
  RAW_DIGEST_SEGMENT
} from "./chunk-WB6ZLOID.js";

// src/core/entry/stream.ts
var INITIAL_STAGE = 48 * 1024 * 1024;
var INPUT_BUFFER = 16 * 1024 * 1024;
var EntryTaskStream = class {
  /** `chunks` may reuse a chunk's buffer once the next one is asked for; `source` names the entry in errors. */
  constructor(chunks, source) {
    this.source = source;
    this.chunks = chunks[Symbol.asyncIterator]();
  }
  source;
  chunks;
  /** Entry bytes [stageAt, stageAt + staged) are held in stage. */
  stage = Buffer.allocUnsafe(INITIAL_STAGE);
  stageAt = 0;
  staged = 0;
  ended = false;
  header;
  headerBytes = Buffer.alloc(0);
  /** The entry offset of the next frame not yet walked, and its raw offset. */
  position = HEADER_FRAME_BYTES;
  raw = 0;
  walk;
  /** Where the plan frame starts: past it, only the plan and the seek table are left. */
  tailAt;
  seen = [];
  cutter = new TaskCutter(RAW_DIGEST_SEGMENT);
  ready = [];
  index;
  spareInputs = [];
  /** The entry's header, read from its first bytes. */
  async start() {
    while (!this.header) {
      if (this.staged < HEADER_FRAME_BYTES && !this.ended) {
        await this.pull();
        continue;
      }
      const headerBytes = Buffer.from(this.stage.subarray(0, Math.min(this.staged, HEADER_FRAME_BYTES)));
      this.header = this.guard(() => decodeHeaderFrame(headerBytes));
      this.headerBytes = headerBytes;
    }
    return this.header;
  }
  async next() {
    await this.start();
    for (; ; ) {
      const task = this.ready.shift();
      if (task) return task;
      if (this.index) return void 0;
      this.guard(() => this.walkFrames());
      if (this.ready.length > 0) continue;
      if (this.ended) this.index = await this.finish();
      else await this.pull();
    }
  }
  /** The entry's index, once next() has returned undefined: it agrees with every frame decoded. */
  result() {
    if (!this.index) throw new Error("the entry stream has not ended");
    return this.index;
  }
  /** Ends the bytes' producer early (after a failure elsewhere). */
  async close() {
    await this.chunks.return?.();
  }
  guard(fn) {
    try {
      return fn();
    } catch (error) {
      if (error instanceof EntryFormatError) throw new SourceError(this.source, error.message);
      throw error;
    }
  }
  /** Adds the next chunk to the stage; false at the end of the bytes. */
  async pull() {
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.append(next.value);
    return true;
  }
  append(chunk) {
    const keepFrom = this.tailAt ?? this.cutter.open?.frames.find((frame) => frame.kind === "data")?.compressedOffset ?? this.walk?.start ?? this.position;
    const keep = this.header ? Math.max(0, keepFrom - this.stageAt) : 0;
    if (this.staged + chunk.length > this.stage.length) {
      const needed = this.staged - keep + chunk.length;
      const target = needed > this.stage.length ? Buffer.allocUnsafe(Math.max(needed, 2 * this.stage.length)) : this.stage;
      this.stage.copy(target, 0, keep, this.staged);
      this.stage = target;
      this.stageAt += keep;
      this.staged -= keep;
    }
    chunk.copy(this.stage, this.staged);
    this.staged += chunk.length;
  }
  /** The staged bytes at entry offset [at, at + length), or undefined if they have not all arrived. */
  bytes(at, length) {
    const from = at - this.stageAt;
    if (from < 0) throw new Error(`entry bytes at ${at} are no longer staged`);
    if (from + length > this.staged) return void 0;
    return this.stage.subarray(from, from + length);
  }
  get stagedEnd() {
    return this.stageAt + this.staged;
  }
  /** Walks frame and block headers as far as the staged bytes go, handing on each frame that is whole. */
  walkFrames() {
    while (this.tailAt === void 0) {
      if (!this.walk) {
        const magic = this.bytes(this.position, 4);
        if (!magic) return;
        if (isSkippableMagic(magic.readUInt32LE(0))) {
          if (magic.readUInt32LE(0) !== BASECOW_SKIPPABLE_MAGIC) throw new EntryFormatError(`damaged basecow entry: an unexpected skippable frame at byte ${this.position}`);
          this.tailAt = this.position;
          const last = this.cutter.finish();
          if (last) this.handOn(last);
          return;
        }
        const head = this.bytes(this.position, Math.min(FRAME_HEADER_MAX, this.stagedEnd - this.position));
        const header = sizedFrameHeader(head);
        if (!header) {
          if (!this.ended && this.stagedEnd - this.position < FRAME_HEADER_MAX) return;
          throw new EntryFormatError(`damaged basecow entry: the frame at byte ${this.position} is not a zstd frame that states its size`);
        }
        this.walk = { start: this.position, header, blockAt: this.position + header.headerBytes, zeroRle: true };
      }
      const walk = this.walk;
      while (walk.end === void 0) {
        const bytes = this.bytes(walk.blockAt, 4);
        if (!bytes) return;
        const block = blockHeader(bytes);
        if (block.type === 3) throw new EntryFormatError(`damaged basecow entry: a reserved block type at byte ${walk.blockAt}`);
        walk.zeroRle &&= block.type === 1 && bytes[3] === 0;
        walk.blockAt += block.bytes;
        if (block.last) walk.end = walk.blockAt + (walk.header.hasChecksum ? 4 : 0);
      }
      if (walk.end > this.stagedEnd) return;
      const kind = walk.zeroRle && !walk.header.hasChecksum ? "hole" : "data";
      const frame = { kind, rawOffset: this.raw, rawLength: walk.header.contentSize, compressedOffset: walk.start, compressedSize: walk.end - walk.start };
      this.walk = void 0;
      this.position = walk.end;
      this.raw += frame.rawLength;
      this.addFrame(frame);
    }
  }
  /** Checks a frame against the format's rules and hands on the tasks it completes. */
  addFrame(frame) {
    const max = frame.kind === "hole" ? HOLE_FRAME_MAX : RAW_DIGEST_SEGMENT;
    const segmentOf = (raw) => Math.floor(raw / RAW_DIGEST_SEGMENT);
    if (frame.rawLength === 0 || frame.rawLength > max || frame.rawOffset + frame.rawLength > this.header.apparentSize || frame.kind === "data" && segmentOf(frame.rawOffset) !== segmentOf(frame.rawOffset + frame.rawLength - 1)) {
      throw new EntryFormatError(`damaged basecow entry: frame ${this.seen.length + 1} (${frame.kind}, ${frame.rawLength} bytes at raw offset ${frame.rawOffset}) breaks the format's rules`);
    }
    this.seen.push(frame);
    for (const task of this.cutter.add(frame)) this.handOn(task);
  }
  /** Hands on a whole task, with a copy of its data frames' bytes. */
  handOn(task) {
    const data = task.frames.filter((frame) => frame.kind === "data");
    if (data.length > 0) {
      const from = data[0].compressedOffset;
      const last = data[data.length - 1];
      const bytes = this.bytes(from, last.compressedOffset + last.compressedSize - from);
      const input = this.inputBuffer(bytes.length);
      bytes.copy(input);
      task.input = input;
      task.inputAt = from;
    }
    this.ready.push(task);
  }
  /**
   * Memory for a task's input: one the decoding threads gave back if it is large enough. Inputs move
   * to the threads and back, so a few buffers serve the whole entry, and their pages are touched
   * once (fresh pages cost far more than copies on some VMs).
   */
  inputBuffer(length) {
    const index = this.spareInputs.findIndex((spare2) => spare2.byteLength >= length);
    const spare = index >= 0 ? this.spareInputs.splice(index, 1)[0] : void 0;
    const buffer = spare ? Buffer.from(spare) : Buffer.from(new ArrayBuffer(Math.max(length, INPUT_BUFFER)));
    return buffer.subarray(0, length);
  }
  recycle(input) {
    this.spareInputs.push(input.buffer);
  }
  /** At the end of the bytes: the index from the plan and the seek table, which must match the frames seen. */
  async finish() {
    if (this.tailAt === void 0) {
      throw new SourceError(this.source, this.walk || this.stagedEnd > this.position ? "truncated basecow entry: it ends inside a frame" : "truncated basecow entry: it ends before its plan");
    }
    const total = this.stagedEnd;
    const tailAt = this.tailAt;
    const index = await indexFrom(this.source, total, async (position, length) => {
      if (position === 0) return this.headerBytes.subarray(0, length);
      if (position < tailAt) throw new EntryFormatError("damaged basecow entry: its seek table does not account for the frames it holds");
      return this.bytes(position, Math.min(length, total - position));
    }).catch((error) => {
      if (error instanceof EntryFormatError) throw new SourceError(this.source, error.message);
      throw error;
    });
    if (!sameFrames(index.frames, this.seen)) throw new SourceError(this.source, "damaged basecow entry: its plan and seek table describe other frames than the ones it holds");
    return index;
  }
};

export {
  EntryTaskStream
};
