import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/extract/zstd-worker.ts
import { open } from "node:fs/promises";
import { parentPort, receiveMessageOnPort } from "node:worker_threads";

// zstd-addon:zstd-napi-binding
import { createRequire } from "node:module";
var zstd_napi_binding_default = createRequire(import.meta.url)("./zstd-napi.node");

// src/core/extract/zstd-worker.ts
var WINDOW_LOG_MAX = 31;
var port = parentPort;
var post = (message, transfer = []) => port.postMessage(message, transfer);
var buffersAllocated = 0;
var outputSize = 0;
var recycled;
var outstanding;
var maxAhead = 0;
function outputBuffer() {
  const returned = receiveMessageOnPort(recycled)?.message;
  if (returned) return Buffer.from(returned);
  buffersAllocated += 1;
  return Buffer.allocUnsafe(outputSize);
}
function emit(out) {
  post({ kind: "data", chunk: out }, [out.buffer]);
  let pending = Atomics.add(outstanding, 0, 1) + 1;
  while (pending >= maxAhead) {
    Atomics.wait(outstanding, 0, pending);
    pending = Atomics.load(outstanding, 0);
  }
}
async function run({ path, inputSize }) {
  const dctx = new zstd_napi_binding_default.DCtx();
  dctx.setParameter(zstd_napi_binding_default.DParameter.windowLogMax, WINDOW_LOG_MAX);
  const file = await open(path, "r");
  const inputs = [Buffer.allocUnsafe(inputSize), Buffer.allocUnsafe(inputSize)];
  let turn = 0;
  let readPosition = 0;
  let out = outputBuffer();
  let outFilled = 0;
  let consumed = 0;
  let frameOpen = false;
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
      while (src.length > 0 || outFilled === out.length) {
        if (outFilled === out.length) {
          emit(out);
          out = outputBuffer();
          outFilled = 0;
        }
        let result;
        try {
          result = dctx.decompressStream(out.subarray(outFilled), src);
        } catch (error) {
          post({ kind: "corrupt", consumed, message: error.message, betweenFrames: !frameOpen && consumed > 0 });
          return;
        }
        const [hint, produced, used] = result;
        if (produced === 0 && used === 0) {
          if (src.length > 0) {
            post({ kind: "corrupt", consumed, message: "the decoder stopped making progress", betweenFrames: false });
            return;
          }
          break;
        }
        outFilled += produced;
        consumed += used;
        src = src.subarray(used);
        frameOpen = hint !== 0;
      }
    }
    while (frameOpen) {
      if (outFilled === out.length) {
        emit(out);
        out = outputBuffer();
        outFilled = 0;
      }
      const [hint, produced] = dctx.decompressStream(out.subarray(outFilled), Buffer.alloc(0));
      if (produced === 0) break;
      outFilled += produced;
      frameOpen = hint !== 0;
    }
    if (outFilled > 0 && !frameOpen) emit(out.subarray(0, outFilled));
    post({ kind: "end", consumed, frameOpen, buffersAllocated });
  } finally {
    await file.close();
  }
}
port.once("message", (data) => {
  ({ outputSize, recycled, maxAhead } = data);
  outstanding = new Int32Array(data.ahead);
  run(data).catch((error) => {
    post({ kind: "failed", message: error.message });
  });
});
