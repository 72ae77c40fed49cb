import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  DEFAULT_BUDGET_FRACTION,
  gc,
  listStore,
  removeBase,
  resolveBudget
} from "./chunk-Q7LYDEOB.js";
import "./chunk-HYZEJLXQ.js";
import "./chunk-F4LATU5L.js";
import "./chunk-HBV6EUFG.js";
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
