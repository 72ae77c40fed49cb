import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  DEFAULT_BUDGET_FRACTION,
  gc,
  listStore,
  removeBase,
  resolveBudget
} from "./chunk-WJ2IKGO7.js";
import "./chunk-5QFJXM3H.js";
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
