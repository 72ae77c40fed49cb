import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  runMain
} from "./chunk-4PO4OU3F.js";
import "./chunk-NWON5JDP.js";
import "./chunk-6CTZAA2R.js";
import "./chunk-KR46RGAB.js";
import "./chunk-HEPJQGP5.js";
import "./chunk-4F4VMEEG.js";
import "./chunk-QSCWR6YQ.js";
import "./chunk-VK5DHBY2.js";
import "./chunk-Y6GDTJ7D.js";
import "./chunk-52G6BS7L.js";
import "./chunk-XLCS27TT.js";
import "./chunk-BHNCOJM6.js";
import "./chunk-JMVG4PKO.js";
import "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import "./chunk-NCNTTV4Q.js";

// src/action/main.ts
await runMain();
process.exit();
