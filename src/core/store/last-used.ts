import { lstat, lutimes, open } from 'node:fs/promises';
import { errnoCode } from '../errors.js';
import { usedPath, type StoreLayout } from './layout.js';

/**
 * Records that a base was used now: the mtime of an empty file used/<key>. This runs on every job's
 * hot path (an L1 hit), so it is one lutimes, never a rewrite of the sidecar or the base (whose
 * times are part of its identity, see verify.ts). lutimes and 'wx' never follow a symbolic link
 * planted in its place.
 */
export async function touchUsed(layout: StoreLayout, key: string): Promise<void> {
  const path = usedPath(layout, key);
  const now = new Date();
  try {
    await lutimes(path, now, now);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    const handle = await open(path, 'wx', 0o644).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') return undefined;
      throw e;
    });
    await handle?.close();
  }
}

/** When the base was last used, per used/<key>; undefined when it never was since this was recorded. */
export async function lastUsedMs(layout: StoreLayout, key: string): Promise<number | undefined> {
  try {
    return (await lstat(usedPath(layout, key))).mtimeMs;
  } catch {
    return undefined;
  }
}
