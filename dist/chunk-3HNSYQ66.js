import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  extractTarMember,
  planFromEntry,
  planFromFrames,
  probeFrames,
  sizedFrameStartsAt
} from "./chunk-KZYD2Y56.js";
import {
  SpareWorkers,
  ZstdStream
} from "./chunk-KFPWZJBU.js";
import {
  SourceError,
  errnoCode
} from "./chunk-BHNCOJM6.js";
import {
  readChunks,
  startsWithZstdFrame
} from "./chunk-SPWXLHYK.js";
import {
  PageCacheWrites,
  SpillPolicy,
  settlesWithin
} from "./chunk-PIREU76B.js";
import {
  BufferHasher,
  RAW_DIGEST_SEGMENT,
  RawDigest,
  computeRawDigest,
  isZero,
  rawDigestFromSegments
} from "./chunk-WB6ZLOID.js";
import {
  WASM_PAGE,
  wasmMemory
} from "./chunk-XJ5TQIRZ.js";

// src/core/extract/parallel/index.ts
import { closeSync, fsync, ftruncateSync, openSync, unlinkSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { availableParallelism, freemem } from "node:os";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
var fsyncAsync = promisify(fsync);
var WORKER_MEMORY = 2 * RAW_DIGEST_SEGMENT + 20 * 1024 * 1024;
function workerBound(maxWorkers) {
  const byMemory = Math.max(1, Math.floor(freemem() / 2 / WORKER_MEMORY));
  return Math.max(1, Math.min(maxWorkers ?? availableParallelism(), byMemory));
}
function workerCount(plan, maxWorkers) {
  return Math.min(workerBound(maxWorkers), plan.tasks.length);
}
var spares = new SpareWorkers(() => new Worker(new URL("./frames-worker.js", import.meta.url)), "a decode worker");
function prestartWorkers(maxWorkers) {
  spares.fill(workerBound(maxWorkers));
}
function dropSpareWorkers() {
  spares.drop();
}
async function decodeParallel(source, dest, plan, workers, options = {}) {
  let next = 0;
  const feed = { next: async () => plan.tasks[next++] };
  const result = await decodeFeed({ file: source, name: source }, dest, plan.size, feed, workers, options);
  if (plan.expectedRawDigest && result.rawDigest !== plan.expectedRawDigest) {
    await rm(dest, { force: true });
    throw new SourceError(source, `decoded content does not match the entry's raw digest (${result.rawDigest}, the entry says ${plan.expectedRawDigest}): the entry is damaged`);
  }
  return result;
}
async function decodeFeed(source, dest, size, feed, workers, options = {}) {
  const fd = openSync(dest, "wx", 384);
  let closed = false;
  const threads = [];
  try {
    ftruncateSync(fd, size);
    const durable = options.durable ?? true;
    const init = { source: source.file, dest, size, directIo: options.directIo ?? true, spill: !durable, background: options.background, frameChecksums: options.frameChecksums };
    const hashes = /* @__PURE__ */ new Map();
    const partial = [];
    const writtenBy = /* @__PURE__ */ new Map();
    let compressedDone = 0;
    await new Promise((resolve, reject) => {
      const issued = /* @__PURE__ */ new Map();
      let nextId = 0;
      let ended = false;
      let failed = false;
      const fail = (error) => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      const onAbort = () => fail(options.signal.reason);
      if (options.signal?.aborted) return fail(options.signal.reason);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const finishIfDone = () => {
        if (!ended || issued.size > 0 || failed) return;
        options.signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      let pulling = Promise.resolve();
      const give = (worker) => {
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
          worker.postMessage({ id, task }, task.input ? [task.input.buffer] : []);
        }).catch(fail);
      };
      for (let i = 0; i < workers; i++) {
        const worker = spares.take();
        threads.push(worker);
        worker.on("message", (reply) => {
          if (failed) return;
          if (reply.kind === "failed") {
            const damaged = reply.failure.compressedOffset !== void 0;
            return fail(damaged ? new SourceError(source.name, reply.failure.message) : new Error(reply.failure.message));
          }
          for (const { index, hash } of reply.segments) hashes.set(index, hash);
          partial.push(...reply.partial);
          writtenBy.set(worker, reply.written);
          for (const frame of issued.get(reply.id).frames) compressedDone += frame.kind === "data" ? frame.compressedSize : 0;
          issued.delete(reply.id);
          if (reply.input) feed.recycle?.(reply.input);
          options.onRead?.(compressedDone);
          finishIfDone();
          give(worker);
        });
        worker.on("error", fail);
        worker.on("exit", (code) => fail(new Error(`a decode worker exited with code ${code}`)));
        worker.postMessage(init);
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
    }
    throw error;
  }
}
async function stopAll(threads) {
  for (const worker of threads) worker.removeAllListeners("exit");
  await Promise.all(threads.map((worker) => worker.terminate()));
}
async function digestOf(dest, size, hashes, partial) {
  const count = Math.ceil(size / RAW_DIGEST_SEGMENT);
  const missing = [...new Set(partial.map(({ from }) => Math.floor(from / RAW_DIGEST_SEGMENT)))].filter((index) => !hashes.has(index));
  if (missing.length > 0) {
    const hasher = new BufferHasher(RAW_DIGEST_SEGMENT);
    const file = await open(dest, "r");
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
  const segments = [];
  for (let index = 0; index < count; index++) {
    const hash = hashes.get(index);
    if (hash === void 0) throw new Error(`segment ${index} of ${dest} was never decoded`);
    segments.push(hash);
  }
  return rawDigestFromSegments(segments);
}

// src/core/extract/index.ts
import { closeSync as closeSync4, constants as constants2, openSync as openSync4 } from "node:fs";
import { copyFile, open as open2, rm as rm2 } from "node:fs/promises";
import { basename } from "node:path";

// src/core/extract/write/sparse-writer.ts
import { closeSync as closeSync3, fsync as fsync2, ftruncateSync as ftruncateSync2, openSync as openSync3, unlinkSync as unlinkSync2 } from "node:fs";
import { promisify as promisify3 } from "node:util";

// src/core/extract/write/direct-writes.ts
import { closeSync as closeSync2, constants, openSync as openSync2, read, write } from "node:fs";
import { promisify as promisify2 } from "node:util";
var DIRECT_ALIGN = 4096;
var STAGE_SIZE = 1024 * 1024;
var writeAsync = promisify2(write);
var readAsync = promisify2(read);
function pageAlignedBuffer(size) {
  try {
    return Buffer.from(wasmMemory(size).buffer);
  } catch {
    return void 0;
  }
}
var STAGE_COUNT = 2;
var MEMORY_SIZE = STAGE_COUNT * STAGE_SIZE + WASM_PAGE;
var DirectWrites = class _DirectWrites {
  constructor(directFd, memory, fallback, spills) {
    this.directFd = directFd;
    this.fallback = fallback;
    this.spills = spills;
    this.stages = Array.from({ length: STAGE_COUNT }, (_, i) => ({ buf: memory.subarray(i * STAGE_SIZE, (i + 1) * STAGE_SIZE) }));
    this.block = memory.subarray(STAGE_COUNT * STAGE_SIZE, STAGE_COUNT * STAGE_SIZE + DIRECT_ALIGN);
  }
  directFd;
  fallback;
  spills;
  /** Data bytes written with O_DIRECT (not counting the filling around runs). */
  bytes = 0;
  stages;
  /** One aligned block, for reading back what the file holds around a run. */
  block;
  current = 0;
  refused = false;
  failure;
  /** End of the furthest data sent to the file so far: beyond it, the file holds only zeros. */
  dataEnd = 0;
  /** File offset of the first staged byte. */
  stagedAt = 0;
  /** Where in the current stage the first staged byte sits: stagedAt modulo DIRECT_ALIGN. */
  stageOffset = 0;
  stagedBytes = 0;
  /**
   * A second descriptor with O_DIRECT on the file that `fallback` writes, or undefined where the
   * filesystem or the process cannot do direct I/O (then the page cache does it all).
   */
  static open(path, fallback, options = {}) {
    const memory = pageAlignedBuffer(MEMORY_SIZE);
    if (!memory) return void 0;
    let fd;
    try {
      fd = openSync2(path, constants.O_RDWR | constants.O_DIRECT);
    } catch {
      return void 0;
    }
    return new _DirectWrites(fd, memory, fallback, options.spill ? new SpillPolicy() : void 0);
  }
  /** Takes buf[start, end) for file offset `position`; buf may be reused once this resolves. */
  async write(buf, start, end, position) {
    this.throwIfFailed();
    if (this.refused) {
      await this.writeThroughPageCache(buf, start, end, position);
      return;
    }
    if (this.spills?.prefersCopy()) {
      if (this.stagedBytes > 0) {
        const runAt = this.stagedAt;
        const staged = this.stagedBytes;
        this.stagedBytes = 0;
        await this.settleOverlapping(runAt, runAt + staged);
        this.copy(this.stages[this.current].buf, this.stageOffset, this.stageOffset + staged, runAt);
      }
      await this.settleOverlapping(position, position + (end - start));
      this.copy(buf, start, end, position);
      return;
    }
    while (start < end) {
      const stageFull = this.stageOffset + this.stagedBytes === STAGE_SIZE;
      if (this.stagedBytes > 0 && (stageFull || position !== this.stagedAt + this.stagedBytes)) await this.flush();
      if (this.stagedBytes === 0) {
        this.stagedAt = position;
        this.stageOffset = position % DIRECT_ALIGN;
      }
      const take = Math.min(end - start, STAGE_SIZE - this.stageOffset - this.stagedBytes);
      buf.copy(this.stages[this.current].buf, this.stageOffset + this.stagedBytes, start, start + take);
      this.stagedBytes += take;
      start += take;
      position += take;
    }
  }
  /** Writes everything staged and waits for it; call before the final fsync. */
  async finish() {
    if (this.stagedBytes > 0) await this.flush();
    await this.settle();
    this.throwIfFailed();
  }
  /** Waits for the writes in flight, whatever their outcome. */
  async settle() {
    await Promise.all(this.stages.map((stage) => stage.writing));
  }
  /** Closes the descriptor, once; settle() first, so that no write in flight outlives it. */
  close() {
    closeSync2(this.directFd);
  }
  throwIfFailed() {
    if (this.failure !== void 0) throw this.failure;
  }
  /**
   * Sends the staged run on its way as one write of whole blocks: a partial block at either end
   * (a full stage ends aligned, so only a run's true ends are partial) is filled out with what the
   * file holds around the run. Then waits until the next stage's previous write is done, so that
   * it is free to fill.
   */
  async flush() {
    const stage = this.stages[this.current];
    const from = this.stageOffset;
    const to = from + this.stagedBytes;
    const blocksEnd = Math.ceil(to / DIRECT_ALIGN) * DIRECT_ALIGN;
    const runAt = this.stagedAt;
    const runEnd = runAt + this.stagedBytes;
    if (await this.copyInstead(runAt, runEnd)) {
      this.stagedBytes = 0;
      this.copy(stage.buf, from, to, runAt);
      return;
    }
    if (from > 0 && !this.refused) await this.fillAround(stage.buf, 0, from, runAt - from);
    if (blocksEnd > to && !this.refused) await this.fillAround(stage.buf, to, blocksEnd, runEnd);
    this.stagedBytes = 0;
    if (this.refused) {
      await this.writeThroughPageCache(stage.buf, from, to, runAt);
      return;
    }
    this.dataEnd = Math.max(this.dataEnd, runEnd);
    stage.blocks = [runAt - from, runAt - from + blocksEnd];
    stage.writing = this.writeDirect(stage.buf, from, to, blocksEnd, runAt - from).then(
      (direct) => {
        this.bytes += direct;
      },
      (error) => {
        this.failure ??= error;
      }
    );
    this.current = (this.current + 1) % STAGE_COUNT;
    await this.stages[this.current].writing;
    this.throwIfFailed();
  }
  /**
   * Whether the staged run [runAt, runEnd) goes through the page cache: because a copy is due to
   * measure its cost again, or because the disk is behind (the other stage's write is still on its
   * way after as long as the copy would take). Never while that write covers one of the run's blocks.
   */
  async copyInstead(runAt, runEnd) {
    if (!this.spills || this.refused) return false;
    const other = this.stages[(this.current + 1) % STAGE_COUNT];
    if (other.blocks && runAt < other.blocks[1] && runEnd > other.blocks[0]) return false;
    if (this.spills.sampleDue()) return true;
    if (!other.writing) return false;
    return !await settlesWithin(other.writing, this.spills.patienceMs(runEnd - runAt));
  }
  /** Waits for the direct writes in flight that cover a block of [from, to): their filling could land over a copy. */
  async settleOverlapping(from, to) {
    for (const stage of this.stages) {
      if (stage.blocks && from < stage.blocks[1] && to > stage.blocks[0]) await stage.writing;
    }
    this.throwIfFailed();
  }
  /** Copies buf[start, end) to file offset `position` through the page cache, timing the copy for the policy. */
  copy(buf, start, end, position) {
    this.spills.timeCopy(end - start, () => this.fallback.write(buf, start, end, position));
    this.dataEnd = Math.max(this.dataEnd, position + (end - start));
  }
  /**
   * Puts into buf[start, end) what the file holds at `position` and on (all within one block):
   * zeros when no data was written that far yet, else the block read back directly, once every
   * write in flight has landed.
   */
  async fillAround(buf, start, end, position) {
    if (position >= this.dataEnd) {
      buf.fill(0, start, end);
      return;
    }
    await this.settle();
    this.throwIfFailed();
    const blockAt = position - position % DIRECT_ALIGN;
    let bytesRead;
    try {
      ({ bytesRead } = await readAsync(this.directFd, this.block, 0, DIRECT_ALIGN, blockAt));
    } catch (error) {
      if (errnoCode(error) !== "EINVAL") throw error;
      this.refused = true;
      return;
    }
    this.block.fill(0, bytesRead);
    this.block.copy(buf, start, position - blockAt, position - blockAt + (end - start));
  }
  /**
   * Past a refusal, data goes through the page cache as it comes, without filling; but only once
   * the direct writes in flight have landed, or one of them could put its filling over it.
   */
  async writeThroughPageCache(buf, start, end, position) {
    await this.settle();
    this.throwIfFailed();
    this.fallback.write(buf, start, end, position);
  }
  /**
   * Writes the whole blocks buf[0, blocksEnd) at file offset `at`, of which buf[from, to) is data
   * and the rest filling. Returns how many data bytes went out directly. What a refused or short
   * write leaves goes through the page cache, data only: the filling is what the file holds there
   * already, and writing it again could cover data that a later write has put there meanwhile.
   */
  async writeDirect(buf, from, to, blocksEnd, at) {
    let done = 0;
    while (done < blocksEnd && !this.refused) {
      let written;
      try {
        ({ bytesWritten: written } = await writeAsync(this.directFd, buf, done, blocksEnd - done, at + done));
      } catch (error) {
        if (errnoCode(error) !== "EINVAL") throw error;
        this.refused = true;
        break;
      }
      if (written === 0) throw new Error(`direct write at offset ${at + done} made no progress`);
      done += written;
      if (written % DIRECT_ALIGN !== 0) break;
    }
    const rest = Math.max(done, from);
    if (rest < to) this.fallback.write(buf, rest, to, at + rest);
    return Math.max(0, Math.min(done, to) - from);
  }
};

// src/core/extract/write/sparse-writer.ts
var HOLE_BLOCK = 4096;
var fsyncAsync2 = promisify3(fsync2);
var DIRECT_MIN_LENGTH = 1024 * 1024;
var SparseWriter = class _SparseWriter {
  constructor(path, fd, signal, directIo, durable) {
    this.path = path;
    this.fd = fd;
    this.signal = signal;
    this.durable = durable;
    this.pageCache = new PageCacheWrites(fd, { flushAsWritten: durable });
    this.direct = directIo ? DirectWrites.open(path, this.pageCache, { spill: !durable }) : void 0;
  }
  path;
  fd;
  signal;
  durable;
  closed = false;
  pageCache;
  direct;
  wroteData = false;
  /** Hashes the data as it passes; dropped if writes come out of order (then the file is hashed). */
  digest = new RawDigest();
  /** The raw digest of the finished file (see raw-digest.ts); set by finish(). */
  rawDigest = "";
  /**
   * Creates `path` exclusively (it must not exist), mode 0600 until the caller publishes it. Every
   * format's data passes through write(), so that is where a fired `signal` stops the extraction.
   */
  static async create(path, options = {}) {
    return new _SparseWriter(path, openSync3(path, "wx", 384), options.signal, options.directIo ?? true, options.durable ?? true);
  }
  /** Data bytes written, by way: past the page cache, and through it. */
  get writtenBytes() {
    return { direct: this.direct?.bytes ?? 0, pageCache: this.pageCache.bytes };
  }
  async write(buf, position) {
    this.signal?.throwIfAborted();
    this.wroteData = true;
    if (this.digest?.accepts(position)) this.digest.update(buf, position);
    else this.digest = void 0;
    let runStart = -1;
    let at = 0;
    while (at < buf.length) {
      const next = Math.min(buf.length, at + HOLE_BLOCK - (position + at) % HOLE_BLOCK);
      if (isZero(buf, at, next)) {
        if (runStart >= 0) await this.writeRun(buf, runStart, at, position + runStart);
        runStart = -1;
      } else if (runStart < 0) {
        runStart = at;
      }
      at = next;
    }
    if (runStart >= 0) await this.writeRun(buf, runStart, buf.length, position + runStart);
  }
  /**
   * Sets the file's length before its data arrives, for callers that know it. ext4 places the
   * blocks of a file shorter than 16 blocks from a per-CPU pool rather than next to the blocks it
   * already has, so direct writes that reach a still-short file from pool threads on different CPUs
   * can leave it in more extents than GNU tar's (and an extent block more on disk); a file that is
   * already long gets its blocks next to each other. A file that will stay short goes through the
   * page cache, whose writeback allocates it in one piece, as it does for GNU tar.
   */
  setLength(size) {
    try {
      ftruncateSync2(this.fd, size);
    } catch {
    }
    if (size < DIRECT_MIN_LENGTH && this.direct && !this.wroteData) {
      this.direct.close();
      this.direct = void 0;
    }
  }
  /** Sets the final length (trailing holes included) and, unless told otherwise, makes the file durable. */
  async finish(size) {
    await this.direct?.finish();
    await this.pageCache.settle();
    ftruncateSync2(this.fd, size);
    if (this.durable) await fsyncAsync2(this.fd);
    this.close();
    this.rawDigest = this.digest ? this.digest.finish(size) : await computeRawDigest(this.path, this.signal);
  }
  /** Closes and removes the partial file; never throws, because it runs on error paths. */
  async discard() {
    await this.direct?.settle();
    await this.pageCache.settle().catch(() => void 0);
    try {
      this.close();
    } catch {
    }
    try {
      unlinkSync2(this.path);
    } catch {
    }
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    try {
      this.direct?.close();
    } finally {
      closeSync3(this.fd);
    }
  }
  async writeRun(buf, start, end, position) {
    if (this.direct) await this.direct.write(buf, start, end, position);
    else this.pageCache.write(buf, start, end, position);
  }
};

// src/core/extract/index.ts
var DEFAULT_MEMBER = "disk.img";
var QCOW2_MAGIC = Buffer.from("QFI\xFB", "latin1");
async function readHead(path, length) {
  const file = await open2(path, "r");
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
function looksLikeTar(head) {
  return head.length >= 263 && head.toString("latin1", 257, 262) === "ustar";
}
function formatInName(path) {
  const name = basename(path).toLowerCase();
  if (/\.(tar\.zst|tzst)$/.test(name)) return "tar+zstd";
  if (name.endsWith(".zst")) return "zstd";
  if (name.endsWith(".tar")) return "tar";
  return void 0;
}
async function detectFormat(path) {
  let head;
  try {
    head = await readHead(path, 512);
  } catch (error) {
    throw new SourceError(path, `cannot read the source image: ${error.message}`, { cause: error });
  }
  const zstd = startsWithZstdFrame(head);
  if (head.subarray(0, 4).equals(QCOW2_MAGIC)) {
    throw new SourceError(path, "is a qcow2 image; basecow bases are raw: convert it first with `qemu-img convert -O raw`");
  }
  switch (formatInName(path)) {
    case "tar+zstd":
      if (!zstd) throw new SourceError(path, "the name says .tar.zst but the file does not start with a zstd frame");
      return "tar+zstd";
    case "zstd":
      if (!zstd) throw new SourceError(path, "the name says .zst but the file does not start with a zstd frame");
      return "zstd";
    case "tar":
      if (!looksLikeTar(head)) throw new SourceError(path, "the name says .tar but the file has no tar header");
      return "tar";
  }
  if (zstd) return "zstd";
  if (looksLikeTar(head)) return "tar";
  return "raw";
}
async function extractToRaw(source, dest, options = {}) {
  const format = await detectFormat(source);
  if (format === "raw") {
    const size = await tryReflink(source, dest);
    if (size !== void 0) {
      try {
        return { format, size, written: { direct: 0, pageCache: 0 }, rawDigest: await computeRawDigest(dest, options.signal), workers: 0 };
      } catch (error) {
        await rm2(dest, { force: true });
        throw error;
      }
    }
  }
  if (format === "zstd") return extractZstd(source, dest, options);
  return extractSequentially(format, source, dest, options);
}
async function extractEntryStream(stream, source, dest, options = {}) {
  try {
    const header = await stream.start();
    if (options.fits && !await options.fits(header.apparentSize)) throw new Error(`too little free space to decode the ${header.apparentSize}-byte base before the entry is whole`);
    const decoded = await decodeFeed({ name: source }, dest, header.apparentSize, stream, workerBound(options.maxWorkers), { ...options, background: true, frameChecksums: false });
    const index = stream.result();
    try {
      if (decoded.rawDigest !== index.rawDigest) {
        throw new SourceError(source, `decoded content does not match the entry's raw digest (${decoded.rawDigest}, the entry says ${index.rawDigest}): the entry is damaged`);
      }
      await refuseQcow2(source, dest);
    } catch (error) {
      await rm2(dest, { force: true });
      throw error;
    }
    stream.close().catch(() => void 0);
    return { result: { format: "zstd", size: decoded.size, written: decoded.written, rawDigest: decoded.rawDigest, workers: decoded.workers }, index };
  } catch (error) {
    stream.close().catch(() => void 0);
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}
async function extractSequentially(format, source, dest, options) {
  const writer = await SparseWriter.create(dest, { signal: options.signal, directIo: options.directIo, durable: options.durable });
  try {
    const size = await writeFormat(format, source, writer, options);
    await writer.finish(size);
    await refuseQcow2(source, dest);
    return { format, size, written: writer.writtenBytes, rawDigest: writer.rawDigest, workers: format === "zstd" || format === "tar+zstd" ? 1 : 0 };
  } catch (error) {
    await writer.discard();
    if (options.signal?.aborted) throw options.signal.reason;
    throw explainWriteError(source, dest, error, format);
  }
}
var settle = (promise) => promise.then(
  (value) => ({ ok: true, value }),
  (error) => ({ ok: false, error })
);
function openSource(source) {
  try {
    return openSync4(source, "r");
  } catch (error) {
    throw new SourceError(source, `cannot read the source image: ${error.message}`, { cause: error });
  }
}
async function extractZstd(source, dest, options) {
  let probe;
  try {
    const entry = await planFromEntry(source);
    probe = entry ? { kind: "plan", plan: entry } : await probeFrames(source);
  } catch (error) {
    throw explainWriteError(source, dest, error, "zstd");
  }
  switch (probe.kind) {
    case "plan":
      return extractPlanned(source, dest, probe.plan, options);
    case "sequential":
      return extractSequentially("zstd", source, dest, options);
    case "several":
      return extractWalked(source, dest, options);
    case "unknown":
      return extractWithHeadStart(source, dest, options);
  }
}
async function extractWalked(source, dest, options) {
  let plan;
  try {
    plan = await planFromFrames(source);
  } catch (error) {
    throw explainWriteError(source, dest, error, "zstd");
  }
  return plan ? extractPlanned(source, dest, plan, options) : extractSequentially("zstd", source, dest, options);
}
async function extractWithHeadStart(source, dest, options) {
  const secondFrame = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, secondFrame.signal]) : secondFrame.signal;
  const fd = openSource(source);
  let outcome;
  try {
    const onFrameEnd = (compressedEnd) => {
      if (!secondFrame.signal.aborted && sizedFrameStartsAt(fd, compressedEnd)) secondFrame.abort();
    };
    outcome = await settle(extractSequentially("zstd", source, dest, { ...options, signal, onFrameEnd }));
  } finally {
    closeSync4(fd);
  }
  if (!secondFrame.signal.aborted) {
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }
  if (outcome.ok) await rm2(dest, { force: true });
  options.signal?.throwIfAborted();
  return extractWalked(source, dest, options);
}
async function refuseQcow2(source, dest) {
  if ((await readHead(dest, 4)).equals(QCOW2_MAGIC)) {
    throw new SourceError(source, "holds a qcow2 image, not a raw disk; convert it first with `qemu-img convert -O raw` and compress that");
  }
}
async function extractPlanned(source, dest, plan, options) {
  const workers = workerCount(plan, options.maxWorkers);
  try {
    const result = await decodeParallel(source, dest, plan, workers, options);
    await refuseQcow2(source, dest).catch(async (error) => {
      await rm2(dest, { force: true });
      throw error;
    });
    return { format: "zstd", size: result.size, written: result.written, rawDigest: result.rawDigest, workers: result.workers };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw explainWriteError(source, dest, error, "zstd");
  }
}
async function writeFormat(format, source, writer, options) {
  const member = options.member ?? DEFAULT_MEMBER;
  switch (format) {
    case "raw":
      return writeAll(readChunks(source, options.onRead), writer);
    case "zstd":
      return writeAll(new ZstdStream(source, options.onRead, options.onFrameEnd), writer);
    case "tar":
      return (await extractTarMember(readChunks(source, options.onRead), member, writer, source, options.signal)).size;
    case "tar+zstd":
      return (await extractTarMember(new ZstdStream(source, options.onRead), member, writer, source, options.signal)).size;
  }
}
async function writeAll(chunks, writer) {
  let position = 0;
  for await (const chunk of chunks) {
    await writer.write(chunk, position);
    position += chunk.length;
  }
  return position;
}
async function tryReflink(source, dest) {
  try {
    await copyFile(source, dest, constants2.COPYFILE_EXCL | constants2.COPYFILE_FICLONE_FORCE);
  } catch (error) {
    if (errnoCode(error) === "EEXIST") throw error;
    return void 0;
  }
  const file = await open2(dest, "r+");
  try {
    await file.sync();
    return (await file.stat()).size;
  } finally {
    await file.close();
  }
}
var FORMAT_NAMES = { raw: "a raw disk", zstd: "zstd", tar: "a tar archive", "tar+zstd": "a zstd-compressed tar archive" };
function explainWriteError(source, dest, error, format) {
  if (error instanceof SourceError) {
    if (format === "raw" || formatInName(source)) return error;
    return new SourceError(source, `${error.reason} (read as ${FORMAT_NAMES[format]} because that is how its content starts; its name does not say)`, { cause: error });
  }
  const code = errnoCode(error);
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new SourceError(source, `no space left on the device holding ${dest} while extracting`, { cause: error });
  }
  return new SourceError(source, `extraction failed: ${error.message}`, { cause: error });
}

export {
  prestartWorkers,
  dropSpareWorkers,
  DEFAULT_MEMBER,
  extractToRaw,
  extractEntryStream
};
