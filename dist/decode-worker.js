import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  ZSTD_MAGIC
} from "./chunk-SPWXLHYK.js";
import {
  newDecoder
} from "./chunk-J4T2KZCX.js";
import "./chunk-6LAVSMFD.js";
import "./chunk-NCNTTV4Q.js";

// src/core/extract/zstd/decode-worker.ts
import { open } from "node:fs/promises";
import { parentPort } from "node:worker_threads";
var CHECKSUM_FLAG = 4;
var NOT_A_FRAME = /unknown frame descriptor/i;
var SLOTS_PER_MESSAGE = 4;
var port = parentPort;
var unannounced = [];
function announce() {
  if (unannounced.length === 0) return;
  port.postMessage({ kind: "data", slots: unannounced });
  unannounced = [];
}
function post(message) {
  announce();
  port.postMessage(message);
}
async function bytesAt(file, input, position, length) {
  const offset = position - input.at;
  if (offset >= 0 && offset + length <= input.bytes.length) return input.bytes.subarray(offset, offset + length);
  const bytes = Buffer.alloc(length);
  await file.read(bytes, 0, length, position);
  return bytes;
}
async function frameChecksum(file, input, start, end) {
  const header = await bytesAt(file, input, start, 5);
  if (header.readUInt32LE(0) !== ZSTD_MAGIC || (header[4] & CHECKSUM_FLAG) === 0) return null;
  return (await bytesAt(file, input, end - 4, 4)).readUInt32LE(0);
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
    unannounced.push({ slot: current, length: outFilled, frameEnds });
    if (unannounced.length === SLOTS_PER_MESSAGE) announce();
    handedOut.push(current);
    if (last) return;
    for (; ; ) {
      const releasedNow = Atomics.load(releasedSlots, 0);
      for (; seenReleased < releasedNow; seenReleased++) free.push(handedOut.shift());
      if (free.length > 0) break;
      announce();
      Atomics.wait(releasedSlots, 0, releasedNow);
    }
    current = free.pop();
    out = slot(current);
    outFilled = 0;
    frameEnds = [];
  };
  const dctx = newDecoder(true);
  const file = await open(path, "r");
  const inputs = [Buffer.allocUnsafe(inputSize), Buffer.allocUnsafe(inputSize)];
  let turn = 0;
  let readPosition = 0;
  let consumed = 0;
  let frameStart = 0;
  let frameOpen = false;
  let input = { at: 0, bytes: Buffer.alloc(0) };
  const emitRest = () => {
    if (outFilled > 0 || frameEnds.length > 0) emit(true);
  };
  const decode = (src) => {
    try {
      return dctx.decompressStream(out.subarray(outFilled), src);
    } catch (error) {
      const message = error.message;
      emitRest();
      post({ kind: "corrupt", consumed, message, betweenFrames: !frameOpen && consumed > 0 && NOT_A_FRAME.test(message) });
      return void 0;
    }
  };
  const advance = ([hint, produced, used]) => {
    if (produced === 0 && used === 0) return false;
    outFilled += produced;
    consumed += used;
    frameOpen = hint !== 0;
    return true;
  };
  const frameEnded = async () => {
    frameEnds.push({ at: outFilled, compressedEnd: consumed, checksum: await frameChecksum(file, input, frameStart, consumed) });
    frameStart = consumed;
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
      input = { at: readPosition - bytesRead, bytes: src };
      while (src.length > 0 || outFilled === slotSize) {
        if (outFilled === slotSize) emit();
        const before = consumed;
        const result = decode(src);
        if (!result) return;
        if (!advance(result)) {
          if (src.length > 0) {
            emitRest();
            post({ kind: "corrupt", consumed, message: "the decoder stopped making progress", betweenFrames: false });
            return;
          }
          break;
        }
        if (!frameOpen) await frameEnded();
        src = src.subarray(consumed - before);
      }
    }
    while (frameOpen) {
      if (outFilled === slotSize) emit();
      const result = decode(Buffer.alloc(0));
      if (!result) return;
      if (!advance(result)) break;
      if (!frameOpen) await frameEnded();
    }
    emitRest();
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
