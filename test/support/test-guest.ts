// The tiny guest the VM tests boot, and the root libvirtd they boot it under: one set-up shared by
// every test file that starts domains.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './action-runner.js';

/**
 * Outside the checkout, so that CI runs on the same machine reuse the guest (the build script's
 * stamp decides when to rebuild it).
 */
export const GUEST_DIR = process.env.BASECOW_TEST_GUEST_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'basecow-test-guest');

/** What scripts/build-test-guest.sh writes to guest.json. */
export interface TestGuest {
  kernel: string;
  initrd: string;
  cmdline: string;
  marker: string;
  image: string;
}

function runScript(path: string, args: string[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO, path), args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path} exited with ${code}`))));
  });
}

/** Starts (or finds) the test libvirtd and builds (or finds) the guest. Needs root. */
export async function readyTestGuest(): Promise<TestGuest> {
  await runScript('scripts/libvirtd-test-setup.sh');
  await runScript('scripts/build-test-guest.sh', [GUEST_DIR]);
  return JSON.parse(readFileSync(join(GUEST_DIR, 'guest.json'), 'utf8')) as TestGuest;
}
