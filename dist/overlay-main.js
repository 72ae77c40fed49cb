import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  STATE,
  failStep,
  fromWorkspace,
  jobHolder,
  label,
  readCacheDir,
  readTestnetInputs,
  warn
} from "./chunk-GCIZTC67.js";
import "./chunk-7JN6EIKX.js";
import "./chunk-RGHLSL6Z.js";
import {
  getInput,
  group,
  info,
  saveState,
  setOutput
} from "./chunk-NWON5JDP.js";
import "./chunk-6CTZAA2R.js";
import "./chunk-OFAZTKQF.js";
import {
  existingBase
} from "./chunk-GDZQCCCP.js";
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
import {
  UsageError
} from "./chunk-BHNCOJM6.js";
import "./chunk-SPWXLHYK.js";
import "./chunk-PIREU76B.js";
import "./chunk-J4T2KZCX.js";
import "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import "./chunk-6LAVSMFD.js";
import "./chunk-NCNTTV4Q.js";

// src/action/run-overlay-main.ts
import { dirname } from "node:path";
async function runOverlayMain() {
  try {
    const baseImage = getInput("base-image").trim();
    const key = getInput("key").trim();
    const cacheDir = readCacheDir();
    if (baseImage === "" === (key === "")) {
      throw new UsageError(`give either ${label("base-image")} or ${label("key")} (with ${label("cache-dir")} when the store is not the default)`);
    }
    const testnet = readTestnetInputs(cacheDir);
    if (!testnet) throw new UsageError(`${label("vms")} is required: the overlay action makes a testnet`);
    const base = await existingBase({ ...baseImage ? { base: fromWorkspace(baseImage) } : { key, cacheDir }, lease: jobHolder(testnet.workDir), onWarning: warn });
    if (base.lease) {
      saveState(STATE.leaseKey, base.key);
      saveState(STATE.leaseId, base.lease.id);
      saveState(STATE.gcCacheDir, dirname(dirname(dirname(base.base))));
    }
    saveState(STATE.workDir, testnet.workDir);
    if (testnet.connect) saveState(STATE.connect, testnet.connect);
    const { up } = await import("./up-KGMLAONZ.js");
    const manifest = await group("basecow: testnet", () => up({ ...testnet, source: base.base, cacheDir, base, onWarning: warn }));
    info(`${manifest.vms.length} VM(s) over ${base.base} in ${manifest.workDir}${manifest.started ? ", started" : ""}`);
    setOutput("manifest", `${manifest.workDir}/manifest.json`);
    setOutput("work-dir", manifest.workDir);
  } catch (error) {
    failStep(error);
  }
}

// src/action/overlay-main.ts
await runOverlayMain();
process.exit();
