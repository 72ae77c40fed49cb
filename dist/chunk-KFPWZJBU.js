import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  SourceError
} from "./chunk-BHNCOJM6.js";
import {
  WASM_PAGE,
  XXH64_STATE_BYTES,
  Xxh64,
  offerInPlaceHashing,
  wasmMemory
} from "./chunk-XJ5TQIRZ.js";

// src/core/extract/zstd/stream.ts
import { setImmediate as nextTurn } from "node:timers/promises";
import { Worker } from "node:worker_threads";

// src/core/extract/spare-workers.ts
var SpareWorkers = class {
  /** `start` makes one thread; `name` says what one is, in the error of a spare that died. */
  constructor(start, name) {
    this.start = start;
    this.name = name;
  }
  start;
  name;
  spares = [];
  /** Starts spares until there are `count`; fewer where the process can have no thread now. */
  fill(count) {
    while (this.spares.length < count) {
      let worker;
      try {
        worker = this.start();
      } catch {
        return;
      }
      const spare = { worker };
      worker.unref();
      worker.once("error", (error) => spare.failure ??= error);
      worker.once("exit", (code) => spare.failure ??= new Error(`${this.name} exited with code ${code}`));
      this.spares.push(spare);
    }
  }
  /** A healthy spare, from now on keeping the process alive as any thread does; else a new thread. */
  take() {
    for (let spare = this.spares.shift(); spare; spare = this.spares.shift()) {
      if (spare.failure) {
        void spare.worker.terminate();
        continue;
      }
      spare.worker.removeAllListeners();
      spare.worker.ref();
      return spare.worker;
    }
    return this.start();
  }
  /** Ends the spares nobody took. */
  drop() {
    for (const { worker } of this.spares) void worker.terminate();
    this.spares = [];
  }
  get count() {
    return this.spares.length;
  }
};

// src/core/extract/zstd/stream.ts
var INPUT_SIZE = 4 * 1024 * 1024;
var SLOT_SIZE = 512 * 1024;
var SLOT_COUNT = 64;
var SLOTS_AT = WASM_PAGE;
var TURN_EVERY_MS = 20;
var POISON_RELEASED_SLOTS = process.env.BASECOW_POISON_RELEASED_SLOTS === "1";
var SLOT_POISON = 219;
var spareDecoder = new SpareWorkers(() => new Worker(new URL("./decode-worker.js", import.meta.url)), "decompression worker");
function prestartDecoder() {
  spareDecoder.fill(1);
}
function checkFrames(path, checksum, at, length, frameEnds, onFrameEnd) {
  let hashed = 0;
  for (const end of frameEnds) {
    checksum.update(at + hashed, end.at - hashed);
    hashed = end.at;
    if (end.checksum !== null && Number(checksum.digest() & 0xffffffffn) !== end.checksum) {
      throw new SourceError(path, `corrupt zstd data: the frame that ends at compressed byte ${end.compressedEnd} decodes to content that does not match its checksum`);
    }
    checksum.reset();
    onFrameEnd?.(end.compressedEnd);
  }
  checksum.update(at + hashed, length - hashed);
}
var ZstdStream = class {
  constructor(path, onRead, onFrameEnd) {
    this.path = path;
    this.onRead = onRead;
    this.onFrameEnd = onFrameEnd;
  }
  path;
  onRead;
  onFrameEnd;
  [Symbol.asyncIterator]() {
    return this.chunks();
  }
  async *chunks() {
    const { path, onRead, onFrameEnd } = this;
    const memory = wasmMemory(SLOTS_AT + SLOT_COUNT * SLOT_SIZE, true);
    const shared = memory.buffer;
    const checksum = new Xxh64(memory, 0);
    offerInPlaceHashing(memory, XXH64_STATE_BYTES);
    const released = new SharedArrayBuffer(4);
    const releasedSlots = new Int32Array(released);
    const data = { path, inputSize: INPUT_SIZE, memory: shared, slotsAt: SLOTS_AT, slotSize: SLOT_SIZE, slotCount: SLOT_COUNT, released };
    const worker = spareDecoder.take();
    const queue = [];
    let wake;
    const push = (m) => {
      queue.push(m);
      wake?.();
    };
    worker.on("message", push);
    worker.on("error", (error) => push({ kind: "crash", error }));
    worker.on("exit", (code) => push({ kind: "crash", error: new Error(`decompression worker exited with code ${code}`) }));
    worker.postMessage(data);
    let sawInput = false;
    let lastTurn = performance.now();
    try {
      for (; ; ) {
        while (queue.length === 0) await new Promise((resolve) => wake = resolve);
        const message = queue.shift();
        switch (message.kind) {
          case "read":
            sawInput = true;
            onRead?.(message.position);
            break;
          case "data":
            for (const { slot, length, frameEnds } of message.slots) {
              if (performance.now() - lastTurn > TURN_EVERY_MS) {
                await nextTurn();
                lastTurn = performance.now();
              }
              const at = SLOTS_AT + slot * SLOT_SIZE;
              checkFrames(path, checksum, at, length, frameEnds, onFrameEnd);
              if (length > 0) yield Buffer.from(shared, at, length);
              if (POISON_RELEASED_SLOTS) new Uint8Array(shared, at, SLOT_SIZE).fill(SLOT_POISON);
              Atomics.add(releasedSlots, 0, 1);
              Atomics.notify(releasedSlots, 0);
            }
            break;
          case "end":
            if (!sawInput) throw new SourceError(path, "file is empty, expected zstd-compressed data");
            if (message.frameOpen) {
              throw new SourceError(path, `truncated zstd data: the input ends inside a frame after ${message.consumed} compressed bytes`);
            }
            return;
          case "corrupt":
            if (/allocation error/i.test(message.message)) {
              throw new SourceError(path, `cannot decode the zstd frame near compressed byte ${message.consumed}: ${message.message} (its window needs more memory than this process could get)`);
            }
            if (message.betweenFrames) {
              throw new SourceError(path, `the data from compressed byte ${message.consumed} on, after a complete zstd frame, is not another frame (${message.message}): trailing garbage, or a damaged frame header`);
            }
            throw new SourceError(path, `corrupt zstd data near compressed byte ${message.consumed}: ${message.message}`);
          case "failed":
            throw new SourceError(path, `cannot read the source image: ${message.message}`);
          case "crash":
            throw new SourceError(path, `zstd decompression stopped: ${message.error.message}`, { cause: message.error });
        }
      }
    } finally {
      await worker.terminate();
    }
  }
};

export {
  SpareWorkers,
  prestartDecoder,
  ZstdStream
};
