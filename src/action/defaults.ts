import { join } from 'node:path';

/**
 * The runner-local store when the workflow names none. Not under the runner's home: QEMU runs as
 * its own user (libvirt-qemu) under qemu:///system and must enter every directory above the base,
 * and a stock Ubuntu home is 0750. /var/tmp outlives jobs and reboots (what makes a warm runner
 * fast) and is shared by every user, so the store is per uid; the store makes it 0755 and refuses
 * one another user owns or may write to (see store-dirs.ts): QEMU may read, nobody else may write.
 */
export function defaultRunnerCacheDir(): string {
  return `/var/tmp/basecow-${process.getuid?.() ?? 'user'}`;
}

/** A testnet's own directory: unique per run, attempt, job and step, next to the store. */
export function defaultRunnerWorkDir(cacheDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const parts = [env.GITHUB_RUN_ID ?? 'local', env.GITHUB_RUN_ATTEMPT ?? '1', env.GITHUB_JOB ?? 'job', env.GITHUB_ACTION ?? 'basecow'];
  return join(cacheDir, 'testnets', parts.join('-').replace(/[^A-Za-z0-9_.-]+/g, '-'));
}
