import * as core from '@actions/core';
import { BasecowError } from '../core/errors.js';
import { ensureBase, type BaseResult } from '../core/store/ensure-base.js';
import type { Manifest } from '../core/testnet/manifest.js';
import type { Warning } from '../core/warnings.js';
import { progressReporter } from '../output/progress.js';
import { ActionsCache } from './actions-cache.js';
import { hintFor } from './hints.js';
import { readBaseInputs, readTestnetInputs, type BaseInputs, type TestnetInputs } from './inputs.js';
import { STATE } from './state.js';
import { baseResultLine, writeMainSummary } from './summary.js';

/** The action's side of the core's warnings channel: each one a warning annotation on the job. */
export const warn = (warning: Warning): void => core.warning(warning.message);

/** A failed step says what went wrong and, for known cases, what to change in the workflow. */
export function failStep(error: unknown): void {
  const hint = error instanceof BasecowError ? hintFor(error) : undefined;
  const message = (error as Error).message ?? String(error);
  core.setFailed(hint ? `${message}; ${hint}` : message);
  if (process.env.BASECOW_DEBUG) core.info((error as Error).stack ?? '');
}

/** Progress in a CI log: a plain line every few seconds on long work, nothing on quick work. */
function logProgress(): ReturnType<typeof progressReporter> {
  return progressReporter(process.stdout as NodeJS.WriteStream & { isTTY?: false }, 5000);
}

/**
 * The job, for leases: the runner's worker process (main's parent) lives exactly as long as the
 * job, so a lease it holds goes stale when the job ends without its post (a killed runner).
 */
export function jobHolder(workDir?: string) {
  const env = process.env;
  return {
    workDir,
    pid: process.ppid,
    jobId: [env.GITHUB_REPOSITORY, env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT, env.GITHUB_JOB].filter(Boolean).join('/') || undefined,
  };
}

/** Post releases the lease and keeps the store within its budget. */
export function saveLeaseState(cacheDir: string, base: BaseResult, cacheBudget?: string): void {
  core.saveState(STATE.gcCacheDir, cacheDir);
  if (cacheBudget) core.saveState(STATE.gcBudget, cacheBudget);
  if (base.lease) {
    core.saveState(STATE.leaseKey, base.key);
    core.saveState(STATE.leaseId, base.lease.id);
  }
}

async function prepareBase(inputs: BaseInputs, workDir?: string): Promise<BaseResult> {
  let remote: ActionsCache | undefined;
  if (inputs.remote === 'actions') {
    if (ActionsCache.available()) remote = new ActionsCache();
    else core.info('the Actions cache is not available to this job (no cache service URL): only the runner-local store is used');
  }
  const progress = logProgress();
  try {
    return await ensureBase({
      source: inputs.source,
      key: inputs.key,
      member: inputs.member,
      cacheDir: inputs.cacheDir,
      remote,
      maxWorkers: inputs.maxWorkers,
      verify: inputs.verify,
      durability: inputs.durability,
      lease: jobHolder(workDir),
      onProgress: progress.report,
      onWarning: warn,
    });
  } finally {
    progress.end();
  }
}

async function createTestnet(inputs: BaseInputs, testnet: TestnetInputs, base: BaseResult): Promise<Manifest> {
  // Saved before up starts, so that post tears down whatever a failing up already made.
  core.saveState(STATE.workDir, testnet.workDir);
  if (testnet.connect) core.saveState(STATE.connect, testnet.connect);
  const { up } = await import('../core/testnet/up.js');
  return up({ ...testnet, source: inputs.source, cacheDir: inputs.cacheDir, base, onWarning: warn });
}

/**
 * main: the base from the runner's store, else the Actions cache, else its source; then, when
 * `vms` is given, the testnet. Post learns through the state what to save and what to tear down.
 */
export async function runMain(): Promise<void> {
  const started = performance.now();
  try {
    const inputs = await readBaseInputs();
    const testnet = readTestnetInputs(inputs.cacheDir);
    const base = await core.group('basecow: base image', async () => {
      const result = await prepareBase(inputs, testnet?.workDir);
      saveLeaseState(inputs.cacheDir, result, inputs.cacheBudget);
      core.info(baseResultLine(result));
      return result;
    });
    core.setOutput('key', base.key);
    core.setOutput('base-image', base.base);
    core.setOutput('cache-hit', base.cacheHit);
    if (base.cacheHit === 'miss' && inputs.remote === 'actions') {
      core.saveState(STATE.savedKey, base.key);
      core.saveState(STATE.base, base.base);
    }
    let manifest: Manifest | undefined;
    let testnetSeconds: number | undefined;
    if (testnet) {
      const testnetStarted = performance.now();
      manifest = await core.group('basecow: testnet', async () => {
        const result = await createTestnet(inputs, testnet, base);
        core.info(`${result.vms.length} VM(s) in ${result.workDir}${result.started ? ', started' : ''}; manifest ${result.workDir}/manifest.json`);
        return result;
      });
      testnetSeconds = (performance.now() - testnetStarted) / 1000;
      core.setOutput('manifest', `${manifest.workDir}/manifest.json`);
      core.setOutput('work-dir', manifest.workDir);
    }
    core.setOutput('seconds', ((performance.now() - started) / 1000).toFixed(3));
    await writeMainSummary(base, manifest, testnetSeconds).catch((error: Error) => core.warning(`the job summary could not be written: ${error.message}`));
  } catch (error) {
    failStep(error);
  }
}
