import * as core from '@actions/core';
import { STATE } from './state.js';
import { warn } from './run-main.js';

/**
 * Tears down the testnet main created, if it created one: stops its domains and removes overlays,
 * extra disks and XML (console logs stay for artifacts). A teardown that cannot finish fails the
 * post step: VMs left running on a long-lived runner are worse than a red step.
 */
export async function tearDownTestnet(): Promise<void> {
  const workDir = core.getState(STATE.workDir);
  if (!workDir) return;
  const connect = core.getState(STATE.connect) || undefined;
  await core.group('basecow: tear down the testnet', async () => {
    const { down } = await import('../core/testnet/down.js');
    const result = await down({ workDir, connect, onWarning: warn });
    core.info(`${result.workDir}: stopped ${result.destroyed.length} domain(s), removed ${result.removed.length} file(s); console logs kept`);
  });
}
