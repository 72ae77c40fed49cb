import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  STATE,
  warn
} from "./chunk-4PO4OU3F.js";
import {
  getState,
  group,
  info
} from "./chunk-NWON5JDP.js";

// src/action/teardown.ts
async function tearDownTestnet() {
  const workDir = getState(STATE.workDir);
  if (!workDir) return;
  const connect = getState(STATE.connect) || void 0;
  await group("basecow: tear down the testnet", async () => {
    const { down } = await import("./down-EKJ35DAN.js");
    const result = await down({ workDir, connect, onWarning: warn });
    info(`${result.workDir}: stopped ${result.destroyed.length} domain(s), removed ${result.removed.length} file(s); console logs kept`);
  });
}

export {
  tearDownTestnet
};
