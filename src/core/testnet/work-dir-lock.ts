import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BasecowError } from '../errors.js';
import { DEFAULT_LOCK_TIMING, ownerPath, tryLock, type LockTiming } from '../shared/lock.js';
import type { WarningSink } from '../warnings.js';

/** The lock's name inside the work dir (its owner file sits next to it, see ownerPath). */
export const WORK_DIR_LOCK = '.basecow.lock';

export interface WorkDirLockOptions {
  /** How long to wait for another up or down on the same work dir before giving up. */
  waitTimeoutMs?: number;
  lockTiming?: Partial<LockTiming>;
  signal?: AbortSignal;
  /** Told once, when the work dir is busy and this call starts to wait. */
  onWarning?: WarningSink;
}

const DEFAULT_WAIT_TIMEOUT_MS = 10 * 60 * 1000;

async function holderPid(lockPath: string): Promise<number | undefined> {
  const token = await readFile(ownerPath(lockPath), 'utf8').catch(() => '');
  const pid = Number(/^(\d+)-/.exec(token)?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Runs `fn` holding the work dir's lock. up and down each read the manifest, create or remove files,
 * and write or delete the manifest: two of them at once on one work dir (an `up --vms a,b,c` beside
 * an `up --vms 5`) would leave files that no manifest lists. The lock is the same heartbeat lock as
 * the store's per-key lock, so a killed holder frees the work dir once its heartbeat goes stale.
 */
export async function withWorkDirLock<T>(workDir: string, fn: () => Promise<T>, options: WorkDirLockOptions = {}): Promise<T> {
  await mkdir(workDir, { recursive: true });
  const lockPath = join(workDir, WORK_DIR_LOCK);
  const timing = { ...DEFAULT_LOCK_TIMING, ...options.lockTiming };
  const timeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const started = performance.now();
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const lock = await tryLock(lockPath, timing, workDir);
    if (lock) {
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    }
    const pid = await holderPid(lockPath);
    const holder = pid ? `pid ${pid}` : 'another basecow process';
    if (!told) {
      told = true;
      options.onWarning?.({ code: 'work-dir-busy', message: `work dir ${workDir} is in use by ${holder}; waiting for it to finish` });
    }
    if (performance.now() - started > timeoutMs) {
      throw new BasecowError(
        'work-dir-busy',
        `work dir ${workDir} is in use by ${holder} (an up or down that has not finished); gave up after ${Math.round(timeoutMs / 1000)} s`,
        { workDir, pid: pid ?? 0 },
      );
    }
    await sleep(timing.pollMs);
  }
}
