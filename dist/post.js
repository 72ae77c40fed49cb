import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  runPost
} from "./chunk-PKJU34WZ.js";
import "./chunk-ODEKIPW7.js";
import "./chunk-CMC7TBR7.js";
import "./chunk-NWON5JDP.js";
import "./chunk-6CTZAA2R.js";
import "./chunk-PVXZJVRH.js";
import "./chunk-N2P3Y6EC.js";
import "./chunk-476MUNCV.js";
import "./chunk-4F4VMEEG.js";
import "./chunk-LQAFMTCI.js";
import "./chunk-2TH4ZIOF.js";
import "./chunk-2DR24MTQ.js";
import "./chunk-GSUJDMHX.js";
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
