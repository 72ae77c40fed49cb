import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  releaseJobLease,
  tearDownTestnet
} from "./chunk-SK7CU5RW.js";
import "./chunk-Q7LYDEOB.js";
import {
  failStep
} from "./chunk-7OQUGNSZ.js";
import "./chunk-NWON5JDP.js";
import "./chunk-6CTZAA2R.js";
import "./chunk-VEEEZWLL.js";
import "./chunk-GR5A6DJC.js";
import "./chunk-HYZEJLXQ.js";
import "./chunk-4F4VMEEG.js";
import "./chunk-KCCNLEMG.js";
import "./chunk-NW6CAW7T.js";
import "./chunk-F4LATU5L.js";
import "./chunk-HBV6EUFG.js";
import "./chunk-QP2VVOS2.js";
import "./chunk-XLCS27TT.js";
import "./chunk-BHNCOJM6.js";
import "./chunk-JMVG4PKO.js";
import "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import "./chunk-NCNTTV4Q.js";

// src/action/run-overlay-post.ts
async function runOverlayPost() {
  try {
    await tearDownTestnet();
  } catch (error) {
    failStep(error);
  }
  await releaseJobLease();
}

// src/action/overlay-post.ts
await runOverlayPost();
process.exit();
