import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  runInBackground
} from "./chunk-XFIKVFP3.js";
import {
  SpillPolicy,
  settlesWithin,
  writeFully
} from "./chunk-PIREU76B.js";
import {
  newDecoder
} from "./chunk-J4T2KZCX.js";
import {
  BufferHasher,
  RAW_DIGEST_SEGMENT,
  isZero,
  zeroSegmentHash
} from "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import {
  zstd_napi_binding_default
} from "./chunk-6LAVSMFD.js";
import "./chunk-NCNTTV4Q.js";

// src/core/extract/parallel/frames-worker.ts
import { closeSync, constants, openSync, write } from "node:fs";
import { open } from "node:fs/promises";
import { promisify } from "node:util";
import { parentPort } from "node:worker_threads";
var BLOCK = 4096;
var INPUT_SIZE = 16 * 1024 * 1024;
var writeAsync = promisify(write);
var port = parentPort;
var FrameError = class extends Error {
  constructor(failure) {
    super(failure.message);
    this.failure = failure;
  }
  failure;
};
async function main(init) {
  if (init.background) runInBackground();
  const hasher = new BufferHasher(2 * RAW_DIGEST_SEGMENT);
  const windows = [0, 1].map((i) => ({ buf: hasher.extra.subarray(i * RAW_DIGEST_SEGMENT, (i + 1) * RAW_DIGEST_SEGMENT), at: 0, writing: Promise.resolve() }));
  const input = Buffer.allocUnsafe(INPUT_SIZE);
  const source = init.source === void 0 ? void 0 : await open(init.source, "r");
  const cachedFd = openSync(init.dest, "r+");
  let directFd;
  if (init.directIo) {
    try {
      directFd = openSync(init.dest, constants.O_WRONLY | constants.O_DIRECT);
    } catch {
      directFd = void 0;
    }
  }
  const dctx = newDecoder(init.frameChecksums === false);
  const writeRun = async (buf, from, to, position) => {
    let fd = cachedFd;
    if (directFd !== void 0 && (to - from) % BLOCK === 0) fd = directFd;
    for (let done = 0; done < to - from; ) {
      try {
        const { bytesWritten } = await writeAsync(fd, buf, from + done, to - from - done, position + done);
        done += bytesWritten;
        if (fd === directFd) written.direct += bytesWritten;
        else written.pageCache += bytesWritten;
      } catch (error) {
        if (fd !== directFd || error.code !== "EINVAL") throw error;
        closeSync(directFd);
        directFd = void 0;
        fd = cachedFd;
      }
    }
  };
  const written = { direct: 0, pageCache: 0 };
  const spills = init.spill ? new SpillPolicy() : void 0;
  const copyThroughPageCache = (buf, runs, at) => {
    for (const [from, to] of runs) {
      writeFully(cachedFd, buf, from, to, at + from);
      written.pageCache += to - from;
    }
  };
  let decoding = Promise.resolve();
  port.on("message", (request) => {
    const decoded = decoding.then(() => runTask(request.task));
    decoding = decoded.catch(() => void 0);
    decoded.then(async ({ landed, ...reply }) => {
      await landed;
      const input2 = request.task.input;
      port.postMessage({ kind: "done", id: request.id, ...reply, written: { ...written }, input: input2 }, input2 ? [input2.buffer] : []);
    }).catch((error) => {
      const failure = error instanceof FrameError ? error.failure : { message: error.message };
      port.postMessage({ kind: "failed", id: request.id, failure });
    });
  });
  let turn = 0;
  async function runTask(task) {
    const segments = [];
    const partial = [];
    const writes = [];
    let window = windows[turn];
    await window.writing;
    let filledFrom = task.rawStart;
    let position = task.rawStart;
    const segmentAt = (raw) => raw - raw % RAW_DIGEST_SEGMENT;
    window.at = segmentAt(task.rawStart);
    const holeOnly = task.frames.every((frame) => frame.kind === "hole");
    if (holeOnly && task.rawStart % RAW_DIGEST_SEGMENT === 0 && task.rawEnd - task.rawStart === RAW_DIGEST_SEGMENT) {
      return { segments: [{ index: task.rawStart / RAW_DIGEST_SEGMENT, hash: zeroSegmentHash() }], partial, landed: Promise.resolve() };
    }
    const flush = async () => {
      const { buf, at } = window;
      const from = filledFrom - at;
      const to = position - at;
      const segmentEnd = Math.min(at + RAW_DIGEST_SEGMENT, init.size);
      if (filledFrom === at && position === segmentEnd) {
        hasher.reset();
        hasher.update(buf.subarray(0, to));
        segments.push({ index: at / RAW_DIGEST_SEGMENT, hash: hasher.digest() });
      } else if (to > from) {
        partial.push({ from: filledFrom, to: position });
      }
      const runs = [];
      let runStart = -1;
      for (let block = from; block < to; block += BLOCK) {
        const end = Math.min(to, block + BLOCK);
        if (isZero(buf, block, end)) {
          if (runStart >= 0) runs.push([runStart, block]);
          runStart = -1;
        } else if (runStart < 0) {
          runStart = block;
        }
      }
      if (runStart >= 0) runs.push([runStart, to]);
      const bytes = runs.reduce((sum, [start, end]) => sum + end - start, 0);
      if (spills && directFd !== void 0 && bytes > 0 && !await settlesWithin(windows[turn ^ 1].writing, spills.patienceMs(bytes))) {
        spills.timeCopy(bytes, () => copyThroughPageCache(buf, runs, at));
        window.at = segmentAt(position);
        filledFrom = position;
        return;
      }
      const windowWrites = runs.map(([start, end]) => writeRun(buf, start, end, at + start));
      for (const pending of windowWrites) pending.catch(() => void 0);
      writes.push(...windowWrites);
      window.writing = Promise.all(windowWrites).then(() => void 0);
      window.writing.catch(() => void 0);
      turn ^= 1;
      window = windows[turn];
      await window.writing;
      window.at = segmentAt(position);
      filledFrom = position;
    };
    const fillZeros = async (length) => {
      for (let left = length; left > 0; ) {
        const take = Math.min(left, window.at + RAW_DIGEST_SEGMENT - position);
        window.buf.fill(0, position - window.at, position - window.at + take);
        position += take;
        left -= take;
        if (position === window.at + RAW_DIGEST_SEGMENT) await flush();
      }
    };
    const readFrame = async (frame, read) => {
      if (task.input) {
        const bytes = Buffer.from(task.input.buffer, task.input.byteOffset, task.input.byteLength);
        const from = frame.compressedOffset - (task.inputAt ?? 0);
        return bytes.subarray(from + read, from + frame.compressedSize);
      }
      const { bytesRead } = await source.read(input, 0, Math.min(INPUT_SIZE, frame.compressedSize - read), frame.compressedOffset + read);
      return input.subarray(0, bytesRead);
    };
    const decodeFrame = async (frame) => {
      const where = `the zstd frame at compressed bytes ${frame.compressedOffset}-${frame.compressedOffset + frame.compressedSize}`;
      dctx.reset(zstd_napi_binding_default.ResetDirective.sessionOnly);
      const frameEnd = frame.rawOffset + frame.rawLength;
      let read = 0;
      let open2 = true;
      let leftover = 0;
      while (read < frame.compressedSize) {
        let src = await readFrame(frame, read);
        if (src.length === 0) throw new FrameError({ message: `truncated zstd data: the file ends inside ${where}`, compressedOffset: frame.compressedOffset });
        read += src.length;
        while (src.length > 0 || open2 && position < frameEnd && read === frame.compressedSize) {
          if (position === window.at + RAW_DIGEST_SEGMENT) await flush();
          const room = Math.min(window.at + RAW_DIGEST_SEGMENT, frameEnd) - position;
          let result;
          try {
            result = dctx.decompressStream(window.buf.subarray(position - window.at, position - window.at + room), src);
          } catch (error) {
            const message = error.message;
            const reason = /checksum/i.test(message) ? `the frame that ends at compressed byte ${frame.compressedOffset + frame.compressedSize} decodes to content that does not match its checksum` : `${where}: ${message}`;
            throw new FrameError({ message: `corrupt zstd data: ${reason}`, compressedOffset: frame.compressedOffset });
          }
          const [hint, produced, used] = result;
          position += produced;
          src = src.subarray(used);
          open2 = hint !== 0;
          if (!open2 || produced === 0 && used === 0) break;
        }
        leftover = src.length;
        if (!open2) break;
      }
      if (open2 || leftover > 0 || position !== frameEnd || read !== frame.compressedSize) {
        throw new FrameError({ message: `corrupt zstd data: ${where} does not decode to the ${frame.rawLength} bytes it states`, compressedOffset: frame.compressedOffset });
      }
      if (position === window.at + RAW_DIGEST_SEGMENT) await flush();
    };
    for (const frame of task.frames) {
      if (frame.kind === "hole") await fillZeros(frame.rawLength);
      else await decodeFrame(frame);
    }
    if (position > filledFrom) await flush();
    const landed = Promise.all(writes).then(() => void 0);
    landed.catch(() => void 0);
    return { segments, partial, landed };
  }
}
port.once("message", (init) => {
  main(init).catch((error) => port.postMessage({ kind: "failed", id: -1, failure: { message: error.message } }));
});
