import * as core from '@actions/core';
import { rm } from 'node:fs/promises';
import { writeEntry } from '../core/entry/write.js';
import { gc } from '../core/store/gc.js';
import { storeLayout } from '../core/store/layout.js';
import { releaseLease } from '../core/store/lease.js';
import { parseBudget } from '../inputs/lifecycle.js';
import { label } from './inputs.js';
import { formatBytes } from '../output/progress.js';
import { cacheWritable, entryPathFor, saveEntry } from './actions-cache.js';
import { failStep, warn } from './run-main.js';
import { STATE } from './state.js';
import { tearDownTestnet } from './teardown.js';

/**
 * Saves the base to the Actions cache when this job made it from a miss, whatever the job's outcome
 * (a base is valid even when the tests failed; `post-if` cannot read inputs, so post always runs
 * and decides from the state). A job that reused a base (l1, l2) never saves. Any failure here is
 * one warning: the cache is an optimization, never a reason for a red job.
 */
async function saveToRemote(): Promise<void> {
  const key = core.getState(STATE.savedKey);
  const base = core.getState(STATE.base);
  if (!key || !base) return;
  if (!cacheWritable()) {
    core.info(`the runner's cache mode (${process.env.ACTIONS_CACHE_MODE}) does not allow saving: base ${key} stays on this runner only`);
    return;
  }
  await core.group('basecow: save the base to the Actions cache', async () => {
    const entryPath = await entryPathFor(key);
    try {
      const started = performance.now();
      const entry = await writeEntry(base, entryPath, {});
      core.info(`entry made: ${formatBytes(entry.bytes)} in ${entry.frames} frames, ${((performance.now() - started) / 1000).toFixed(2)} s`);
      const savedStarted = performance.now();
      const outcome = await saveEntry(key);
      if (outcome.saved) core.info(`saved as cache entry ${outcome.cacheId} in ${((performance.now() - savedStarted) / 1000).toFixed(2)} s`);
      else warn({ code: 'remote-save-failed', message: `base ${key} was not saved to the Actions cache: ${outcome.reason}` });
    } catch (error) {
      warn({ code: 'remote-save-failed', message: `base ${key} was not saved to the Actions cache: ${(error as Error).message}` });
    } finally {
      await rm(entryPath, { force: true });
    }
  });
}

/** Gives back the lease main took on the base (a second release, or one gc swept, is no error). */
export async function releaseJobLease(): Promise<void> {
  const cacheDir = core.getState(STATE.gcCacheDir);
  const key = core.getState(STATE.leaseKey);
  const id = core.getState(STATE.leaseId);
  if (!cacheDir || !key || !id) return;
  try {
    await releaseLease(storeLayout(cacheDir), key, id);
  } catch (error) {
    warn({ code: 'lease-not-released', message: `the lease ${id} on base ${key} could not be released (gc ignores it once this job is gone): ${(error as Error).message}` });
  }
}

/**
 * Keeps the runner's store within `cache-budget` (default: a share of its filesystem, see gc.ts):
 * least recently used bases go first, leased ones (other jobs' testnets) never. A failure is a
 * warning: the job's work is done.
 */
async function collectGarbage(): Promise<void> {
  const cacheDir = core.getState(STATE.gcCacheDir);
  if (!cacheDir) return;
  const budgetText = core.getState(STATE.gcBudget);
  await core.group('basecow: keep the store within its budget', async () => {
    try {
      const result = await gc({ cacheDir, ...(budgetText ? parseBudget(budgetText, label('cache-budget')) : {}), onWarning: warn });
      for (const removed of result.removed) core.info(`removed ${removed.key} (${formatBytes(removed.allocatedBytes)}, last used ${removed.lastUsed})`);
      core.info(`store ${formatBytes(result.afterBytes)} of a ${formatBytes(result.budgetBytes)} budget; ${result.kept.length} base(s) over it kept (in use)`);
    } catch (error) {
      warn({ code: 'gc-failed', message: `the store ${cacheDir} could not be brought within its budget: ${(error as Error).message}` });
    }
  });
}

export async function runPost(): Promise<void> {
  try {
    await tearDownTestnet();
  } catch (error) {
    failStep(error);
  }
  await saveToRemote();
  await releaseJobLease();
  await collectGarbage();
}
