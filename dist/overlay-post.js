import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  tearDownTestnet
} from "./chunk-KHEENVLE.js";
import {
  failStep
} from "./chunk-LZHRXEVG.js";
import "./chunk-6YHYILKA.js";
import "./chunk-4MV24ST2.js";
import "./chunk-6MVQB3YP.js";
import "./chunk-AJIIM2R6.js";
import "./chunk-JMVG4PKO.js";
import "./chunk-EJB3TS6K.js";
import "./chunk-6G3V6JGY.js";
import "./chunk-NCNTTV4Q.js";

// src/action/run-overlay-post.ts
async function runOverlayPost() {
  try {
    await tearDownTestnet();
  } catch (error) {
    failStep(error);
  }
}

// src/action/overlay-post.ts
await runOverlayPost();
process.exit();
