import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  runPost
} from "./chunk-7BMTQBIS.js";
import "./chunk-WJ2IKGO7.js";
import "./chunk-QVYYVW5Z.js";
import "./chunk-NWON5JDP.js";
import "./chunk-6CTZAA2R.js";
import "./chunk-YDMJQTRA.js";
import "./chunk-NPMSFVZT.js";
import "./chunk-5QFJXM3H.js";
import "./chunk-4F4VMEEG.js";
import "./chunk-2TMYUB3Y.js";
import "./chunk-2TH4ZIOF.js";
import "./chunk-JVL5GJWC.js";
import "./chunk-PP3B4BCK.js";
import "./chunk-QP2VVOS2.js";
import "./chunk-XLCS27TT.js";
import "./chunk-BHNCOJM6.js";
import "./chunk-JMVG4PKO.js";
import "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import "./chunk-NCNTTV4Q.js";

// src/action/post.ts
await runPost();
process.exit();
