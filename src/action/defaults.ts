import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BasecowError } from '../core/errors.js';

/**
 * The runner-local store when the workflow names none. Not under the runner's home: QEMU runs as
 * its own user (libvirt-qemu) under qemu:///system and must enter every directory above the base,
 * and a stock Ubuntu home is 0750. /var/tmp outlives jobs and reboots (what makes a warm runner
 * fast) and is shared by every user, so the store is per uid and made 0755: QEMU may read, nobody
 * but the runner's user may write.
 */
export function defaultRunnerCacheDir(): string {
  return `/var/tmp/basecow-${process.getuid?.() ?? 'user'}`;
}

/** A testnet's own directory: unique per run, attempt, job and step, next to the store. */
export function defaultRunnerWorkDir(cacheDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const parts = [env.GITHUB_RUN_ID ?? 'local', env.GITHUB_RUN_ATTEMPT ?? '1', env.GITHUB_JOB ?? 'job', env.GITHUB_ACTION ?? 'basecow'];
  return join(cacheDir, 'testnets', parts.join('-').replace(/[^A-Za-z0-9_.-]+/g, '-'));
}

/**
 * Creates the store's top directory if needed, and refuses one that another user could have
 * prepared: in a shared /var/tmp, a directory someone else owns or may write to could hold bases
 * this job would then hand to its VMs.
 */
export async function ensureOwnedDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const info = await stat(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new BasecowError('cache-dir-not-owned', `${dir} belongs to uid ${info.uid}, not to this runner's user (uid ${uid}); remove it or choose another cache dir`, { dir });
  }
  if ((info.mode & 0o022) !== 0) {
    throw new BasecowError('cache-dir-writable-by-others', `${dir} is writable by other users (mode ${(info.mode & 0o777).toString(8)}); chmod go-w it or choose another cache dir`, { dir });
  }
}
