import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  zstd_napi_binding_default
} from "./chunk-6LAVSMFD.js";

// src/core/extract/zstd/decoder.ts
var WINDOW_LOG_MAX = 31;
var ZSTD_D_FORCE_IGNORE_CHECKSUM = 1002;
function newDecoder(callerChecksFrames) {
  const dctx = new zstd_napi_binding_default.DCtx();
  dctx.setParameter(zstd_napi_binding_default.DParameter.windowLogMax, WINDOW_LOG_MAX);
  if (callerChecksFrames) dctx.setParameter(ZSTD_D_FORCE_IGNORE_CHECKSUM, 1);
  return dctx;
}

export {
  newDecoder
};
