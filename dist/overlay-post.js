import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  tearDownTestnet
} from "./chunk-T3UOB77H.js";
import {
  failStep
} from "./chunk-AHZBOWJX.js";
import "./chunk-NWON5JDP.js";
import "./chunk-6CTZAA2R.js";
import "./chunk-KR46RGAB.js";
import "./chunk-22LSHTP4.js";
import "./chunk-4F4VMEEG.js";
import "./chunk-QSCWR6YQ.js";
import "./chunk-VK5DHBY2.js";
import "./chunk-7DNEFO2I.js";
import "./chunk-52G6BS7L.js";
import "./chunk-DOIWPJUM.js";
import "./chunk-BHNCOJM6.js";
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
