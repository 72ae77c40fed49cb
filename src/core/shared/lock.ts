import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { errnoCode } from '../errors.js';

export interface LockTiming {
  /** A lock whose heartbeat is older than this is taken over: the bound after a holder is killed. */
  staleMs: number;
  /** How often a waiter looks again (for the lock, and for the finished base). */
  pollMs: number;
}

export const DEFAULT_LOCK_TIMING: LockTiming = { staleMs: 10_000, pollMs: 250 };

export interface HeldLock {
  /** Why this process no longer holds the lock, if it does not: another process took it over. */
  lost(): Promise<Error | undefined>;
  /** Removes the lock, unless it is no longer ours: then it is left to its new holder. */
  release(): Promise<void>;
}

/**
 * The file next to a lock directory naming its holder (inside, it would stop proper-lockfile's
 * rmdir). '+' is in no key, so one key's owner file can never be another key's lock (keys 'x' and
 * 'x.owner' are both valid).
 */
export const ownerPath = (lockPath: string): string => `${lockPath}+owner`;

/**
 * proper-lockfile makes the directory, then stats it (to learn the filesystem's mtime precision).
 * When two waiters found the same lock stale, the second one's removal of the stale directory can
 * land between the first one's mkdir and that stat: the first then fails with ENOENT on a
 * directory it made a moment ago. Someone else is taking the key then, as with ELOCKED, so the
 * caller waits and tries again. Only a failing mkdir means the locks directory itself is gone.
 */
function lostTheRace(error: unknown): boolean {
  return errnoCode(error) === 'ENOENT' && (error as NodeJS.ErrnoException).syscall !== 'mkdir';
}

/**
 * One attempt at the per-key lock. proper-lockfile keeps a heartbeat (the lock's mtime) every
 * staleMs/4 on a timer, which is why no extraction step may hold the event loop for long.
 * Returns undefined when another live process holds it, or takes it over at this very moment.
 *
 * Taking over a stale lock is stat, rmdir, mkdir, so two waiters that both saw it stale can both
 * believe they took it: the second rmdir removes the first one's fresh directory. Each holder
 * therefore writes its own token into an owner file right after locking, and checks it before
 * anything that must be the holder's alone (publishing, releasing). The last writer owns the key;
 * the other sees a foreign token and steps back.
 */
export async function tryLock(lockPath: string, timing: LockTiming, scratchDir: string): Promise<HeldLock | undefined> {
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(lockPath, {
      // The lock guards a name that does not exist yet, so it cannot be resolved.
      realpath: false,
      lockfilePath: lockPath,
      stale: timing.staleMs,
      update: Math.max(1000, Math.floor(timing.staleMs / 4)),
      retries: 0,
      // A late heartbeat alone takes nothing away; a takeover shows in the owner file.
      onCompromised: () => undefined,
    });
  } catch (error) {
    if (errnoCode(error) === 'ELOCKED' || lostTheRace(error)) return undefined;
    throw new Error(`cannot take the lock ${lockPath}: ${(error as Error).message}`, { cause: error });
  }
  const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const owner = ownerPath(lockPath);
  // Staged under the temp naming scheme, so that a crash right here leaves nothing the sweep misses.
  const staged = join(scratchDir, `${basename(lockPath)}+${token}.owner`);
  try {
    await writeFile(staged, token);
    await rename(staged, owner);
  } catch (error) {
    // A lock without its owner file is one we could never prove ours: give it back now, or its
    // heartbeat would keep every other process off this key for as long as this one lives.
    await rm(staged, { force: true }).catch(() => undefined);
    await release().catch(() => undefined);
    throw new Error(`cannot take the lock ${lockPath}: writing its owner file failed: ${(error as Error).message}`, { cause: error });
  }
  const lost = async (): Promise<Error | undefined> => {
    const holder = await readFile(owner, 'utf8').catch(() => undefined);
    return holder === token ? undefined : new Error(`the lock ${lockPath} was taken over by another process`);
  };
  return {
    lost,
    async release() {
      if (await lost()) return;
      // The owner file goes first: once the directory is gone, a new holder may write its own.
      await rm(owner, { force: true });
      try {
        await release();
      } catch {
        // proper-lockfile gives up on a lock whose heartbeat fell behind; the directory is still ours.
        await rmdir(lockPath).catch(() => undefined);
      }
    },
  };
}
