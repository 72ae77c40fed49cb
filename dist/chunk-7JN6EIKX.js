import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  SourceError
} from "./chunk-BHNCOJM6.js";
import {
  newDecoder
} from "./chunk-J4T2KZCX.js";

// src/core/extract/zstd/decompress-chunks.ts
var OUTPUT_SIZE = 4 * 1024 * 1024;
async function* decompressChunks(chunks, source, frameChecksums = true) {
  const dctx = newDecoder(!frameChecksums);
  const out = Buffer.allocUnsafe(OUTPUT_SIZE);
  let inFrame = false;
  let any = false;
  for await (const chunk of chunks) {
    let src = chunk;
    any ||= chunk.length > 0;
    for (; ; ) {
      let result;
      try {
        result = dctx.decompressStream(out, src);
      } catch (error) {
        throw new SourceError(source, `corrupt zstd data: ${error.message}`);
      }
      const [hint, produced, used] = result;
      src = src.subarray(used);
      inFrame = hint !== 0;
      if (produced > 0) yield out.subarray(0, produced);
      if (src.length === 0 && produced < out.length) break;
    }
  }
  if (!any || inFrame) throw new SourceError(source, "truncated zstd data: the stream ends inside a frame");
}

export {
  decompressChunks
};
