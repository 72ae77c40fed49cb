import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  DEFAULT_BUDGET_FRACTION,
  gc,
  listStore,
  removeBase,
  resolveBudget
} from "./chunk-ODEKIPW7.js";
import "./chunk-476MUNCV.js";
import "./chunk-2DR24MTQ.js";
import "./chunk-GSUJDMHX.js";
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
