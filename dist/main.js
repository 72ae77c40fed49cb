import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  runMain
} from "./chunk-GCIZTC67.js";
import "./chunk-7JN6EIKX.js";
import "./chunk-RGHLSL6Z.js";
import "./chunk-NWON5JDP.js";
import "./chunk-6CTZAA2R.js";
import "./chunk-OFAZTKQF.js";
import "./chunk-GDZQCCCP.js";
import "./chunk-LFCMNEXX.js";
import "./chunk-I4Z6R4ME.js";
import "./chunk-4F4VMEEG.js";
import "./chunk-2TMYUB3Y.js";
import "./chunk-3HNSYQ66.js";
import "./chunk-KZYD2Y56.js";
import "./chunk-ZBR2KLNB.js";
import "./chunk-PP3B4BCK.js";
import "./chunk-CP6IPV72.js";
import "./chunk-KFPWZJBU.js";
import "./chunk-BHNCOJM6.js";
import "./chunk-SPWXLHYK.js";
import "./chunk-PIREU76B.js";
import "./chunk-J4T2KZCX.js";
import "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import "./chunk-6LAVSMFD.js";
import "./chunk-NCNTTV4Q.js";

// src/action/main.ts
await runMain();
process.exit();
