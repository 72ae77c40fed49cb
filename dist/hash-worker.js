import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  hashFile
} from "./chunk-2TMYUB3Y.js";
import "./chunk-PP3B4BCK.js";
import "./chunk-BHNCOJM6.js";
import "./chunk-NCNTTV4Q.js";

// src/core/store/hash-worker.ts
import { parentPort } from "node:worker_threads";
var port = parentPort;
port.once("message", (path) => {
  let reported = 0;
  hashFile(path, (done) => {
    if (done - reported >= 64 * 1024 * 1024) {
      reported = done;
      port.postMessage({ kind: "read", done });
    }
  }).then(
    (key) => port.postMessage({ kind: "done", key }),
    (error) => port.postMessage({ kind: "failed", message: error.message })
  );
});
