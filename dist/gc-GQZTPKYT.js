import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  DEFAULT_BUDGET_FRACTION,
  gc,
  listStore,
  removeBase,
  resolveBudget
} from "./chunk-CWCIDE6Y.js";
import "./chunk-NRCDWFM4.js";
import "./chunk-JVL5GJWC.js";
import "./chunk-PP3B4BCK.js";
import "./chunk-QP2VVOS2.js";
import "./chunk-BHNCOJM6.js";
import "./chunk-NCNTTV4Q.js";
export {
  DEFAULT_BUDGET_FRACTION,
  gc,
  listStore,
  removeBase,
  resolveBudget
};
