import { stat } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { errnoCode } from './errors.js';

export interface LockTiming {
  /** A lock whose heartbeat is older than this is taken over: the bound after a holder is killed. */
  staleMs: number;
  /** How often a waiter looks again (for the lock, and for the finished base). */
  pollMs: number;
}

export const DEFAULT_LOCK_TIMING: LockTiming = { staleMs: 10_000, pollMs: 250 };

export interface HeldLock {
  /**
   * Why this process may no longer hold the lock, if it may not: the heartbeat fell behind, or the
   * lock directory is no longer the one this process created (another process took it over).
   */
  lost(): Promise<Error | undefined>;
  /** Removes the lock, unless it is no longer ours: then it is left to its new holder. */
  release(): Promise<void>;
}

/**
 * One attempt at the per-key lock. proper-lockfile keeps a heartbeat (the lock's mtime) every
 * staleMs/4 on a timer, which is why no extraction step may hold the event loop for long.
 * Returns undefined when another live process holds it.
 *
 * Taking over a stale lock is rmdir + mkdir, so two waiters can both believe they took it: one
 * removes the other's fresh directory and makes its own. The heartbeat notices that only at its next
 * tick, so the directory's birth time is kept and compared before anything that must be the
 * holder's alone (publishing, releasing).
 */
export async function tryLock(lockPath: string, timing: LockTiming): Promise<HeldLock | undefined> {
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(lockPath, {
      // The lock guards a name that does not exist yet, so it cannot be resolved.
      realpath: false,
      lockfilePath: lockPath,
      stale: timing.staleMs,
      update: Math.max(1000, Math.floor(timing.staleMs / 4)),
      retries: 0,
      onCompromised: (error: Error) => {
        compromised = error;
      },
    });
  } catch (error) {
    if (errnoCode(error) === 'ELOCKED') return undefined;
    throw error;
  }
  // Nobody can take over a lock this fresh, so this is our own directory.
  const born = (await stat(lockPath, { bigint: true })).birthtimeNs;
  const lost = async (): Promise<Error | undefined> => {
    if (compromised) return compromised;
    try {
      if ((await stat(lockPath, { bigint: true })).birthtimeNs === born) return undefined;
    } catch {
      // Gone: someone removed it.
    }
    return new Error(`the lock ${lockPath} was taken over by another process`);
  };
  return {
    lost,
    async release() {
      if (await lost()) return;
      await release();
    },
  };
}
