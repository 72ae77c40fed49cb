import * as core from '@actions/core';
import { dirname } from 'node:path';
import { UsageError } from '../core/errors.js';
import { existingBase } from '../core/store/ensure-base.js';
import { fromWorkspace, label, readCacheDir, readTestnetInputs } from './inputs.js';
import { failStep, jobHolder, warn } from './run-main.js';
import { STATE } from './state.js';

/**
 * The overlay sub-action's main: a testnet over a base that an earlier step prepared, given by
 * path or by key and store. Its post always tears the testnet down, so one job can prepare the
 * base once and run several testnets one after another.
 */
export async function runOverlayMain(): Promise<void> {
  try {
    const baseImage = core.getInput('base-image').trim();
    const key = core.getInput('key').trim();
    const cacheDir = readCacheDir();
    if ((baseImage === '') === (key === '')) {
      throw new UsageError(`give either ${label('base-image')} or ${label('key')} (with ${label('cache-dir')} when the store is not the default)`);
    }
    const testnet = readTestnetInputs(cacheDir);
    if (!testnet) throw new UsageError(`${label('vms')} is required: the overlay action makes a testnet`);
    const base = await existingBase({ ...(baseImage ? { base: fromWorkspace(baseImage) } : { key, cacheDir }), lease: jobHolder(testnet.workDir), onWarning: warn });
    if (base.lease) {
      core.saveState(STATE.leaseKey, base.key);
      core.saveState(STATE.leaseId, base.lease.id);
      core.saveState(STATE.gcCacheDir, dirname(dirname(dirname(base.base))));
    }
    core.saveState(STATE.workDir, testnet.workDir);
    if (testnet.connect) core.saveState(STATE.connect, testnet.connect);
    const { up } = await import('../core/testnet/up.js');
    const manifest = await core.group('basecow: testnet', () => up({ ...testnet, source: base.base, cacheDir, base, onWarning: warn }));
    core.info(`${manifest.vms.length} VM(s) over ${base.base} in ${manifest.workDir}${manifest.started ? ', started' : ''}`);
    core.setOutput('manifest', `${manifest.workDir}/manifest.json`);
    core.setOutput('work-dir', manifest.workDir);
  } catch (error) {
    failStep(error);
  }
}
