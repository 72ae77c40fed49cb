import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  BufferHasher,
  isZero
} from "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import {
  zstd_napi_binding_default
} from "./chunk-6LAVSMFD.js";
import "./chunk-NCNTTV4Q.js";

// src/core/entry/entry-compress-worker.ts
import { open } from "node:fs/promises";
import { parentPort } from "node:worker_threads";
var BLOCK = 4096;
var port = parentPort;
function planRuns(buf, length, minHole) {
  const runs = [];
  let dataStart = -1;
  let zeroStart = -1;
  const closeZeros = (end, last) => {
    if (end - zeroStart >= minHole || last && dataStart < 0) {
      if (dataStart >= 0) runs.push({ kind: "data", offset: dataStart, length: zeroStart - dataStart });
      runs.push({ kind: "hole", offset: zeroStart, length: end - zeroStart });
      dataStart = -1;
    } else if (dataStart < 0) {
      dataStart = zeroStart;
    }
    zeroStart = -1;
  };
  for (let at = 0; at < length; at += BLOCK) {
    const end = Math.min(length, at + BLOCK);
    if (isZero(buf, at, end)) {
      if (zeroStart < 0) zeroStart = at;
    } else {
      if (zeroStart >= 0) closeZeros(at, false);
      if (dataStart < 0) dataStart = at;
    }
  }
  if (zeroStart >= 0) closeZeros(length, true);
  if (dataStart >= 0) runs.push({ kind: "data", offset: dataStart, length: length - dataStart });
  return runs;
}
function main(init) {
  const hasher = new BufferHasher(init.segmentSize);
  const input = hasher.extra;
  const cctx = new zstd_napi_binding_default.CCtx();
  cctx.setParameter(zstd_napi_binding_default.CParameter.compressionLevel, init.level);
  cctx.setParameter(zstd_napi_binding_default.CParameter.checksumFlag, 1);
  cctx.setParameter(zstd_napi_binding_default.CParameter.contentSizeFlag, 1);
  const output = Buffer.allocUnsafe(init.segmentSize + (init.segmentSize >> 7) + 65536);
  const fileOpened = open(init.path, "r");
  port.on("message", (request) => {
    void (async () => {
      const file = await fileOpened;
      let filled = 0;
      while (filled < request.length) {
        const { bytesRead } = await file.read(input, filled, request.length - filled, request.start + filled);
        if (bytesRead === 0) throw new Error(`${init.path} ended at ${request.start + filled} while it was read (it is ${request.length + request.start} bytes or more)`);
        filled += bytesRead;
      }
      const segment = input.subarray(0, request.length);
      hasher.reset();
      hasher.update(segment);
      const runs = [];
      let produced = 0;
      for (const run of planRuns(segment, request.length, init.minHole)) {
        let compressedSize = 0;
        if (run.kind === "data") {
          compressedSize = cctx.compress2(output.subarray(produced), segment.subarray(run.offset, run.offset + run.length));
          produced += compressedSize;
        }
        runs.push({ ...run, offset: request.start + run.offset, compressedSize });
      }
      const frames = new Uint8Array(produced);
      frames.set(output.subarray(0, produced));
      port.postMessage({ kind: "done", index: request.index, hash: hasher.digest(), runs, frames }, [frames.buffer]);
    })().catch((error) => {
      port.postMessage({ kind: "failed", index: request.index, message: error.message });
    });
  });
}
port.once("message", main);
export {
  planRuns
};
