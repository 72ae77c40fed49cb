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
  /** Set when the heartbeat could not be kept up and another process may have taken the lock. */
  readonly compromised: Error | undefined;
  release(): Promise<void>;
}

/**
 * One attempt at the per-key lock. proper-lockfile keeps a heartbeat (the lock's mtime) every
 * staleMs/2 on a timer, which is why no extraction step may hold the event loop for long.
 * Returns undefined when another live process holds it.
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
  return {
    get compromised() {
      return compromised;
    },
    async release() {
      if (compromised) return;
      await release();
    },
  };
}
