// Reads a basecow entry while its bytes are still arriving, in order (an entry being downloaded),
// and cuts it into decode tasks as soon as each one is whole: the tasks planFromEntry makes from a
// complete file, one 32 MiB segment of the raw base each, with the frames' bytes attached. Frames
// are found from their own headers (every frame states its content size, and its blocks' headers
// say where it ends); holes are the frames made only of zero RLE blocks. Nothing here trusts the
// bytes: once the stream ends, the plan and seek table at its end must describe exactly the frames
// seen, and the caller checks the raw digest of what was decoded against the plan's.
import { SourceError } from '../errors.js';
import { RAW_DIGEST_SEGMENT } from '../extract/raw-digest.js';
import { isSkippableMagic } from '../extract/chunks.js';
import { FRAME_HEADER_MAX, TaskCutter, blockHeader, sizedFrameHeader, type DecodeTask, type PlannedFrame, type SizedFrameHeader } from '../extract/parallel/plan.js';
import type { TaskFeed } from '../extract/parallel/index.js';
import { BASECOW_SKIPPABLE_MAGIC, EntryFormatError, HEADER_FRAME_BYTES, HOLE_FRAME_MAX, decodeHeaderFrame, type EntryHeader } from './format.js';
import { indexFrom, sameFrames, type EntryIndex } from './read.js';

/** Bytes kept at first: a task's frames (at most a segment, compressed) and a chunk or two beside them. */
const INITIAL_STAGE = 48 * 1024 * 1024;
/** A task's input buffer at least: most tasks (32 MiB of raw data) compress into it. */
const INPUT_BUFFER = 16 * 1024 * 1024;

interface FrameWalk {
  start: number;
  header: SizedFrameHeader;
  /** The entry offset of the next block header. */
  blockAt: number;
  /** Every block so far is an RLE block of zeros: a hole frame, if it also has no checksum. */
  zeroRle: boolean;
  /** Where the frame ends, once its last block header has been read. */
  end?: number;
}

export class EntryTaskStream implements TaskFeed {
  private readonly chunks: AsyncIterator<Buffer>;
  /** Entry bytes [stageAt, stageAt + staged) are held in stage. */
  private stage = Buffer.allocUnsafe(INITIAL_STAGE);
  private stageAt = 0;
  private staged = 0;
  private ended = false;
  private header?: EntryHeader;
  private headerBytes = Buffer.alloc(0);
  /** The entry offset of the next frame not yet walked, and its raw offset. */
  private position = HEADER_FRAME_BYTES;
  private raw = 0;
  private walk?: FrameWalk;
  /** Where the plan frame starts: past it, only the plan and the seek table are left. */
  private tailAt?: number;
  private readonly seen: PlannedFrame[] = [];
  private readonly cutter = new TaskCutter(RAW_DIGEST_SEGMENT);
  private readonly ready: DecodeTask[] = [];
  private index?: EntryIndex;
  private readonly spareInputs: ArrayBuffer[] = [];

  /** `chunks` may reuse a chunk's buffer once the next one is asked for; `source` names the entry in errors. */
  constructor(
    chunks: AsyncIterable<Buffer>,
    private readonly source: string,
  ) {
    this.chunks = chunks[Symbol.asyncIterator]();
  }

  /** The entry's header, read from its first bytes. */
  async start(): Promise<EntryHeader> {
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

  async next(): Promise<DecodeTask | undefined> {
    await this.start();
    for (;;) {
      const task = this.ready.shift();
      if (task) return task;
      if (this.index) return undefined;
      this.guard(() => this.walkFrames());
      if (this.ready.length > 0) continue;
      if (this.ended) this.index = await this.finish();
      else await this.pull();
    }
  }

  /** The entry's index, once next() has returned undefined: it agrees with every frame decoded. */
  result(): EntryIndex {
    if (!this.index) throw new Error('the entry stream has not ended');
    return this.index;
  }

  /** Ends the bytes' producer early (after a failure elsewhere). */
  async close(): Promise<void> {
    await this.chunks.return?.();
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof EntryFormatError) throw new SourceError(this.source, error.message);
      throw error;
    }
  }

  /** Adds the next chunk to the stage; false at the end of the bytes. */
  private async pull(): Promise<boolean> {
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.append(next.value);
    return true;
  }

  private append(chunk: Buffer): void {
    // What must stay: the frames of the task being gathered, the frame being walked, or the tail.
    const keepFrom = this.tailAt ?? this.cutter.open?.frames.find((frame) => frame.kind === 'data')?.compressedOffset ?? this.walk?.start ?? this.position;
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
  private bytes(at: number, length: number): Buffer | undefined {
    const from = at - this.stageAt;
    if (from < 0) throw new Error(`entry bytes at ${at} are no longer staged`);
    if (from + length > this.staged) return undefined;
    return this.stage.subarray(from, from + length);
  }

  private get stagedEnd(): number {
    return this.stageAt + this.staged;
  }

  /** Walks frame and block headers as far as the staged bytes go, handing on each frame that is whole. */
  private walkFrames(): void {
    while (this.tailAt === undefined) {
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
      while (walk.end === undefined) {
        const bytes = this.bytes(walk.blockAt, 4);
        if (!bytes) return;
        const block = blockHeader(bytes);
        if (block.type === 3) throw new EntryFormatError(`damaged basecow entry: a reserved block type at byte ${walk.blockAt}`);
        walk.zeroRle &&= block.type === 1 && bytes[3] === 0;
        walk.blockAt += block.bytes;
        if (block.last) walk.end = walk.blockAt + (walk.header.hasChecksum ? 4 : 0);
      }
      if (walk.end > this.stagedEnd) return;
      const kind = walk.zeroRle && !walk.header.hasChecksum ? 'hole' : 'data';
      const frame: PlannedFrame = { kind, rawOffset: this.raw, rawLength: walk.header.contentSize, compressedOffset: walk.start, compressedSize: walk.end - walk.start };
      this.walk = undefined;
      this.position = walk.end;
      this.raw += frame.rawLength;
      this.addFrame(frame);
    }
  }

  /** Checks a frame against the format's rules and hands on the tasks it completes. */
  private addFrame(frame: PlannedFrame): void {
    const max = frame.kind === 'hole' ? HOLE_FRAME_MAX : RAW_DIGEST_SEGMENT;
    const segmentOf = (raw: number): number => Math.floor(raw / RAW_DIGEST_SEGMENT);
    if (frame.rawLength === 0 || frame.rawLength > max || frame.rawOffset + frame.rawLength > this.header!.apparentSize || (frame.kind === 'data' && segmentOf(frame.rawOffset) !== segmentOf(frame.rawOffset + frame.rawLength - 1))) {
      throw new EntryFormatError(`damaged basecow entry: frame ${this.seen.length + 1} (${frame.kind}, ${frame.rawLength} bytes at raw offset ${frame.rawOffset}) breaks the format's rules`);
    }
    this.seen.push(frame);
    for (const task of this.cutter.add(frame)) this.handOn(task);
  }

  /** Hands on a whole task, with a copy of its data frames' bytes. */
  private handOn(task: DecodeTask): void {
    const data = task.frames.filter((frame) => frame.kind === 'data');
    if (data.length > 0) {
      const from = data[0].compressedOffset;
      const last = data[data.length - 1];
      const bytes = this.bytes(from, last.compressedOffset + last.compressedSize - from)!;
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
  private inputBuffer(length: number): Buffer {
    const index = this.spareInputs.findIndex((spare) => spare.byteLength >= length);
    const spare = index >= 0 ? this.spareInputs.splice(index, 1)[0] : undefined;
    // Its own ArrayBuffer, never a slice of Node's pool: the whole of it moves to a thread.
    const buffer = spare ? Buffer.from(spare) : Buffer.from(new ArrayBuffer(Math.max(length, INPUT_BUFFER)));
    return buffer.subarray(0, length);
  }

  recycle(input: Uint8Array): void {
    this.spareInputs.push(input.buffer as ArrayBuffer);
  }

  /** At the end of the bytes: the index from the plan and the seek table, which must match the frames seen. */
  private async finish(): Promise<EntryIndex> {
    if (this.tailAt === undefined) {
      throw new SourceError(this.source, this.walk || this.stagedEnd > this.position ? 'truncated basecow entry: it ends inside a frame' : 'truncated basecow entry: it ends before its plan');
    }
    const total = this.stagedEnd;
    const tailAt = this.tailAt;
    const index = await indexFrom(this.source, total, async (position, length) => {
      if (position === 0) return this.headerBytes.subarray(0, length);
      if (position < tailAt) throw new EntryFormatError('damaged basecow entry: its seek table does not account for the frames it holds');
      return this.bytes(position, Math.min(length, total - position))!;
    }).catch((error: unknown) => {
      if (error instanceof EntryFormatError) throw new SourceError(this.source, error.message);
      throw error;
    });
    if (!sameFrames(index.frames, this.seen)) throw new SourceError(this.source, 'damaged basecow entry: its plan and seek table describe other frames than the ones it holds');
    return index;
  }
}
