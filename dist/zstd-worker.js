import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/extract/zstd-worker.ts
import { open } from "node:fs/promises";
import { parentPort } from "node:worker_threads";

// zstd-addon:zstd-napi-binding
import { createRequire } from "node:module";
var zstd_napi_binding_default = createRequire(import.meta.url)("./zstd-napi.node");

// src/core/extract/zstd-worker.ts
var WINDOW_LOG_MAX = 31;
var FORCE_IGNORE_CHECKSUM = 1002;
var ZSTD_MAGIC = 4247762216;
var SKIPPABLE_MASK = 4294967280;
var SKIPPABLE_MAGIC = 407710288;
var CHECKSUM_FLAG = 4;
var port = parentPort;
var post = (message) => port.postMessage(message);
async function frameChecksum(file, start, end) {
  const header = Buffer.alloc(5);
  await file.read(header, 0, 5, start);
  const magic = header.readUInt32LE(0);
  if ((magic & SKIPPABLE_MASK) === SKIPPABLE_MAGIC || magic !== ZSTD_MAGIC) return null;
  if ((header[4] & CHECKSUM_FLAG) === 0) return null;
  const checksum = Buffer.alloc(4);
  await file.read(checksum, 0, 4, end - 4);
  return checksum.readUInt32LE(0);
}
async function run({ path, inputSize, memory, slotsAt, slotSize, slotCount, released }) {
  const releasedSlots = new Int32Array(released);
  const handedOut = [];
  const free = Array.from({ length: slotCount }, (_, i) => slotCount - 1 - i);
  let seenReleased = 0;
  let current = free.pop();
  const slot = (n) => Buffer.from(memory, slotsAt + n * slotSize, slotSize);
  let out = slot(current);
  let outFilled = 0;
  let frameEnds = [];
  const emit = (last = false) => {
    post({ kind: "data", slot: current, length: outFilled, frameEnds });
    handedOut.push(current);
    if (last) return;
    for (; ; ) {
      const releasedNow = Atomics.load(releasedSlots, 0);
      for (; seenReleased < releasedNow; seenReleased++) free.push(handedOut.shift());
      if (free.length > 0) break;
      Atomics.wait(releasedSlots, 0, releasedNow);
    }
    current = free.pop();
    out = slot(current);
    outFilled = 0;
    frameEnds = [];
  };
  const dctx = new zstd_napi_binding_default.DCtx();
  dctx.setParameter(zstd_napi_binding_default.DParameter.windowLogMax, WINDOW_LOG_MAX);
  dctx.setParameter(FORCE_IGNORE_CHECKSUM, 1);
  const file = await open(path, "r");
  const inputs = [Buffer.allocUnsafe(inputSize), Buffer.allocUnsafe(inputSize)];
  let turn = 0;
  let readPosition = 0;
  let consumed = 0;
  let frameStart = 0;
  let frameOpen = false;
  const progress = async ([hint, produced, used]) => {
    if (produced === 0 && used === 0) return false;
    outFilled += produced;
    consumed += used;
    frameOpen = hint !== 0;
    if (!frameOpen) {
      frameEnds.push({ at: outFilled, compressedEnd: consumed, checksum: await frameChecksum(file, frameStart, consumed) });
      frameStart = consumed;
    }
    return true;
  };
  try {
    let pending = file.read(inputs[turn], 0, inputSize, 0);
    for (; ; ) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      readPosition += bytesRead;
      turn ^= 1;
      pending = file.read(inputs[turn], 0, inputSize, readPosition);
      post({ kind: "read", position: readPosition });
      let src = buffer.subarray(0, bytesRead);
      while (src.length > 0 || outFilled === slotSize) {
        if (outFilled === slotSize) emit();
        let result;
        const before = consumed;
        try {
          result = dctx.decompressStream(out.subarray(outFilled), src);
        } catch (error) {
          post({ kind: "corrupt", consumed, message: error.message, betweenFrames: !frameOpen && consumed > 0 });
          return;
        }
        if (!await progress(result)) {
          if (src.length > 0) {
            post({ kind: "corrupt", consumed, message: "the decoder stopped making progress", betweenFrames: false });
            return;
          }
          break;
        }
        src = src.subarray(consumed - before);
      }
    }
    while (frameOpen) {
      if (outFilled === slotSize) emit();
      if (!await progress(dctx.decompressStream(out.subarray(outFilled), Buffer.alloc(0)))) break;
    }
    if (!frameOpen && (outFilled > 0 || frameEnds.length > 0)) emit(true);
    post({ kind: "end", consumed, frameOpen });
  } finally {
    await file.close();
  }
}
port.once("message", (data) => {
  run(data).catch((error) => {
    post({ kind: "failed", message: error.message });
  });
});
