import { lstat, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BasecowError } from '../errors.js';
import type { StoreLayout } from './layout.js';

/**
 * Creates the store's directories and checks every one before anything is written there. A store
 * may live in a shared directory (/var/tmp): a directory another user owns or may write to, or a
 * symbolic link planted in place of one, could swap what this job publishes or lead its writes
 * out of the store. So each is a real directory (lstat: a link is never followed), owned by this
 * user, and writable by nobody else. The cache dir that holds them is held to the same owner and
 * mode, since whoever may write there could replace the whole store; it may itself be a link (a
 * user's choice of disk), so it is checked where it leads. 0755 because QEMU runs as a user of its
 * own and must read the bases.
 */
export async function ensureStoreDirs(layout: StoreLayout): Promise<void> {
  const dirs = [layout.root, layout.bases, layout.locks, layout.tmp, layout.leases, layout.used, layout.digests, layout.quarantine];
  await mkdir(layout.root, { recursive: true, mode: 0o755 });
  await Promise.all(dirs.slice(1).map((dir) => mkdir(dir, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  })));
  const uid = process.getuid?.();
  const cacheDir = dirname(layout.root);
  for (const dir of [cacheDir, ...dirs]) {
    const info = dir === cacheDir ? await stat(dir) : await lstat(dir);
    const refuse = (why: string): never => {
      throw new BasecowError('store-unsafe', `${dir} ${why}; the store only works in directories that this user owns and nobody else can write (remove it, or choose another cache dir)`, { dir });
    };
    if (info.isSymbolicLink()) refuse('is a symbolic link, not a directory');
    if (!info.isDirectory()) refuse('is not a directory');
    if (uid !== undefined && info.uid !== uid) refuse(`belongs to uid ${info.uid}, not to this user (uid ${uid})`);
    if ((info.mode & 0o022) !== 0) refuse(`is writable by other users (mode ${(info.mode & 0o777).toString(8)})`);
  }
}
