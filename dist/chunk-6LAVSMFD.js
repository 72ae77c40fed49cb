import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// zstd-addon:zstd-napi-binding
import { createRequire } from "node:module";
var zstd_napi_binding_default = createRequire(import.meta.url)("./zstd-napi.node");

export {
  zstd_napi_binding_default
};
