import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  prestartDecoder
} from "./chunk-KFPWZJBU.js";
import "./chunk-BHNCOJM6.js";
import "./chunk-XJ5TQIRZ.js";
import "./chunk-NCNTTV4Q.js";

// src/cli/index.ts
if (process.argv[2] === "prepare" || process.argv[2] === "up") prestartDecoder();
var { main } = await import("./main-VOPBP2JE.js");
process.exitCode = await main(process.argv.slice(2));
