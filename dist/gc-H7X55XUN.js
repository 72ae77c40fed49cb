import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  DEFAULT_BUDGET_FRACTION,
  gc,
  listStore,
  removeBase,
  resolveBudget
} from "./chunk-MPQVKSM4.js";
import "./chunk-I4Z6R4ME.js";
import "./chunk-ZBR2KLNB.js";
import "./chunk-PP3B4BCK.js";
import "./chunk-CP6IPV72.js";
import "./chunk-BHNCOJM6.js";
import "./chunk-NCNTTV4Q.js";
export {
  DEFAULT_BUDGET_FRACTION,
  gc,
  listStore,
  removeBase,
  resolveBudget
};
