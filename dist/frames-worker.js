import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/extract/parallel/frames-worker.ts
import { closeSync, constants, openSync, write } from "node:fs";
import { open } from "node:fs/promises";
import { promisify } from "node:util";
import { parentPort } from "node:worker_threads";

// zstd-addon:zstd-napi-binding
import { createRequire } from "node:module";
var zstd_napi_binding_default = createRequire(import.meta.url)("./zstd-napi.node");

// src/core/extract/wasm-memory.ts
var WASM_PAGE = 64 * 1024;
function wasmMemory(bytes, shared = false) {
  const pages = bytes / WASM_PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
}

// src/core/extract/zstd/xxh64-wasm.ts
var XXH64_WASM = "AGFzbQEAAAABBwFgA39/fwACEgEDZW52Bm1lbW9yeQIDAYCABAMCAQAHCwEHc3RyaXBlcwAACvYBAfMBAgR+AX8gAikDACEDIAIpAwghBCACKQMQIQUgAikDGCEGIAAgAUFgcWohBwJAIAAgB08NAANAIAMgACkDAELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEDIAQgACkDCELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEEIAUgACkDEELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEFIAYgACkDGELP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fiEGIABBIGohACAAIAdJDQALCyACIAM3AwAgAiAENwMIIAIgBTcDECACIAY3AxgL";

// src/core/extract/zstd/xxh64.ts
var PRIME1 = 0x9e3779b185ebca87n;
var PRIME2 = 0xc2b2ae3d27d4eb4fn;
var PRIME3 = 0x165667b19e3779f9n;
var PRIME4 = 0x85ebca77c2b2ae63n;
var PRIME5 = 0x27d4eb2f165667c5n;
var MASK = (1n << 64n) - 1n;
var STRIPE = 32;
var XXH64_STATE_BYTES = 2 * STRIPE;
var rotl = (x, bits) => (x << bits | x >> 64n - bits) & MASK;
var round = (lane, input) => rotl(lane + input * PRIME2 & MASK, 31n) * PRIME1 & MASK;
var mergeLane = (h, lane) => ((h ^ round(0n, lane)) * PRIME1 & MASK) + PRIME4 & MASK;
var compiled;
var Xxh64 = class {
  /** Keeps its state in memory[stateAt, stateAt + XXH64_STATE_BYTES); stateAt must be 8-aligned. */
  constructor(memory, stateAt) {
    this.stateAt = stateAt;
    compiled ??= new WebAssembly.Module(Buffer.from(XXH64_WASM, "base64"));
    this.stripes = new WebAssembly.Instance(compiled, { env: { memory } }).exports.stripes;
    this.bytes = new Uint8Array(memory.buffer);
    this.view = new DataView(memory.buffer);
    this.carryAt = stateAt + STRIPE;
    this.reset();
  }
  stateAt;
  stripes;
  bytes;
  view;
  carryAt;
  carried = 0;
  total = 0;
  /** Starts over, as for a new frame. */
  reset() {
    const lanes = [PRIME1 + PRIME2 & MASK, PRIME2, 0n, 0n - PRIME1 & MASK];
    lanes.forEach((lane, i) => this.view.setBigUint64(this.stateAt + 8 * i, lane, true));
    this.carried = 0;
    this.total = 0;
  }
  /** Hashes memory[at, at + length) after what came before. */
  update(at, length) {
    this.total += length;
    if (this.carried > 0) {
      const take = Math.min(STRIPE - this.carried, length);
      this.bytes.copyWithin(this.carryAt + this.carried, at, at + take);
      this.carried += take;
      at += take;
      length -= take;
      if (this.carried < STRIPE) return;
      this.stripes(this.carryAt, STRIPE, this.stateAt);
      this.carried = 0;
    }
    const whole = length - length % STRIPE;
    this.stripes(at, whole, this.stateAt);
    if (whole < length) {
      this.bytes.copyWithin(this.carryAt, at + whole, at + length);
      this.carried = length - whole;
    }
  }
  /** The hash of everything since the last reset (the state stays as it is). */
  digest() {
    let h;
    if (this.total >= STRIPE) {
      const lanes = [0, 1, 2, 3].map((i) => this.view.getBigUint64(this.stateAt + 8 * i, true));
      h = rotl(lanes[0], 1n) + rotl(lanes[1], 7n) + rotl(lanes[2], 12n) + rotl(lanes[3], 18n) & MASK;
      for (const lane of lanes) h = mergeLane(h, lane);
    } else {
      h = PRIME5;
    }
    h = h + BigInt(this.total) & MASK;
    let at = this.carryAt;
    const end = this.carryAt + this.carried;
    for (; at + 8 <= end; at += 8) {
      h ^= round(0n, this.view.getBigUint64(at, true));
      h = rotl(h, 27n) * PRIME1 + PRIME4 & MASK;
    }
    if (at + 4 <= end) {
      h ^= BigInt(this.view.getUint32(at, true)) * PRIME1 & MASK;
      h = rotl(h, 23n) * PRIME2 + PRIME3 & MASK;
      at += 4;
    }
    for (; at < end; at++) {
      h ^= BigInt(this.bytes[at]) * PRIME5 & MASK;
      h = rotl(h, 11n) * PRIME1 & MASK;
    }
    h ^= h >> 33n;
    h = h * PRIME2 & MASK;
    h ^= h >> 29n;
    h = h * PRIME3 & MASK;
    h ^= h >> 32n;
    return h;
  }
};

// src/core/extract/raw-digest.ts
var RAW_DIGEST_SEGMENT = 32 * 1024 * 1024;
var STAGE_SIZE = 1024 * 1024;
var ZEROS_SIZE = 256 * 1024;
var BufferHasher = class {
  extra;
  xxh;
  memory;
  buffer;
  stageAt = WASM_PAGE;
  zerosAt = WASM_PAGE + STAGE_SIZE;
  extraAt = WASM_PAGE + STAGE_SIZE + ZEROS_SIZE;
  constructor(extraBytes = 0) {
    const extra = Math.ceil(extraBytes / WASM_PAGE) * WASM_PAGE;
    this.memory = wasmMemory(this.extraAt + extra, true);
    this.buffer = this.memory.buffer;
    this.xxh = new Xxh64(this.memory, 0);
    this.extra = Buffer.from(this.buffer, this.extraAt, extraBytes);
  }
  reset() {
    this.xxh.reset();
  }
  update(buf) {
    if (buf.buffer === this.buffer) {
      this.xxh.update(buf.byteOffset, buf.length);
      return;
    }
    const stage = new Uint8Array(this.buffer, this.stageAt, STAGE_SIZE);
    for (let at = 0; at < buf.length; at += STAGE_SIZE) {
      const piece = buf.subarray(at, Math.min(buf.length, at + STAGE_SIZE));
      stage.set(piece);
      this.xxh.update(this.stageAt, piece.length);
    }
  }
  updateZeros(length) {
    for (let left = length; left > 0; left -= ZEROS_SIZE) this.xxh.update(this.zerosAt, Math.min(left, ZEROS_SIZE));
  }
  digest() {
    return this.xxh.digest();
  }
};
var zeroSegment;
function zeroSegmentHash() {
  if (zeroSegment === void 0) {
    const hasher = new BufferHasher();
    hasher.updateZeros(RAW_DIGEST_SEGMENT);
    zeroSegment = hasher.digest();
  }
  return zeroSegment;
}
var READ_SIZE = 4 * 1024 * 1024;

// src/core/extract/zero-blocks.ts
var ZERO_SPAN = 64 * 1024;
var ZEROS = Buffer.alloc(ZERO_SPAN);
function isZero(buf, start, end) {
  if (buf[start] !== 0 || buf[end - 1] !== 0 || buf[start + end >>> 1] !== 0) return false;
  for (let at = start; at < end; at += ZERO_SPAN) {
    const stop = Math.min(end, at + ZERO_SPAN);
    if (ZEROS.compare(buf, at, stop, 0, stop - at) !== 0) return false;
  }
  return true;
}

// src/core/extract/parallel/frames-worker.ts
var BLOCK = 4096;
var INPUT_SIZE = 4 * 1024 * 1024;
var WINDOW_LOG_MAX = 31;
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
  const hasher = new BufferHasher(2 * RAW_DIGEST_SEGMENT);
  const windows = [0, 1].map((i) => ({ buf: hasher.extra.subarray(i * RAW_DIGEST_SEGMENT, (i + 1) * RAW_DIGEST_SEGMENT), at: 0, writing: Promise.resolve() }));
  const input = Buffer.allocUnsafe(INPUT_SIZE);
  const source = await open(init.source, "r");
  const cachedFd = openSync(init.dest, "r+");
  let directFd;
  if (init.directIo) {
    try {
      directFd = openSync(init.dest, constants.O_WRONLY | constants.O_DIRECT);
    } catch {
      directFd = void 0;
    }
  }
  const dctx = new zstd_napi_binding_default.DCtx();
  dctx.setParameter(zstd_napi_binding_default.DParameter.windowLogMax, WINDOW_LOG_MAX);
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
  port.on("message", (request) => {
    runTask(request.task).then(
      (reply) => port.postMessage({ kind: "done", id: request.id, ...reply }),
      (error) => {
        const failure = error instanceof FrameError ? error.failure : { message: error.message };
        port.postMessage({ kind: "failed", id: request.id, failure });
      }
    );
  });
  async function runTask(task) {
    const segments = [];
    const partial = [];
    const writes = [];
    let turn = 0;
    let window = windows[turn];
    let filledFrom = task.rawStart;
    let position = task.rawStart;
    const segmentAt = (raw) => raw - raw % RAW_DIGEST_SEGMENT;
    window.at = segmentAt(task.rawStart);
    const holeOnly = task.frames.every((frame) => frame.kind === "hole");
    if (holeOnly && task.rawStart % RAW_DIGEST_SEGMENT === 0 && task.rawEnd - task.rawStart === RAW_DIGEST_SEGMENT) {
      return { segments: [{ index: task.rawStart / RAW_DIGEST_SEGMENT, hash: zeroSegmentHash() }], partial, written: { ...written } };
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
      const windowWrites = [];
      let runStart = -1;
      for (let block = from; block < to; block += BLOCK) {
        const end = Math.min(to, block + BLOCK);
        if (isZero(buf, block, end)) {
          if (runStart >= 0) windowWrites.push(writeRun(buf, runStart, block, at + runStart));
          runStart = -1;
        } else if (runStart < 0) {
          runStart = block;
        }
      }
      if (runStart >= 0) windowWrites.push(writeRun(buf, runStart, to, at + runStart));
      for (const pending of windowWrites) pending.catch(() => void 0);
      writes.push(...windowWrites);
      window.writing = Promise.all(windowWrites).then(() => void 0);
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
    const decodeFrame = async (frame) => {
      const where = `the zstd frame at compressed bytes ${frame.compressedOffset}-${frame.compressedOffset + frame.compressedSize}`;
      dctx.reset(zstd_napi_binding_default.ResetDirective.sessionOnly);
      const frameEnd = frame.rawOffset + frame.rawLength;
      let read = 0;
      let open2 = true;
      let leftover = 0;
      while (read < frame.compressedSize) {
        const { bytesRead } = await source.read(input, 0, Math.min(INPUT_SIZE, frame.compressedSize - read), frame.compressedOffset + read);
        if (bytesRead === 0) throw new FrameError({ message: `truncated zstd data: the file ends inside ${where}`, compressedOffset: frame.compressedOffset });
        read += bytesRead;
        let src = input.subarray(0, bytesRead);
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
    await Promise.all(writes);
    await windows[0].writing;
    await windows[1].writing;
    return { segments, partial, written: { ...written } };
  }
}
port.once("message", (init) => {
  main(init).catch((error) => port.postMessage({ kind: "failed", id: -1, failure: { message: error.message } }));
});
