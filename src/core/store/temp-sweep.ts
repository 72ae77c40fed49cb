import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { removeDeadTemps } from '../shared/atomic-write.js';
import { processAlive } from '../shared/pid.js';
import { sidecarPath, tempPrefix, type StoreLayout } from './layout.js';

/** Temp files of other keys are left this long after their last write before their dead owner's are removed. */
const FOREIGN_TEMP_AGE_MS = 10 * 60 * 1000;

/**
 * Removes what dead extractions left in tmp/ (a killed process runs no cleanup). For the key whose
 * lock we hold, a file goes when its writer is dead or has not written for a stale period: a live
 * previous holder that merely stalled keeps its file and fails or finishes on its own. Other keys'
 * files go only when their writer is dead and they are old, so a process in another pid namespace
 * sharing this store is never swept mid-extraction. A sidecar half-written in bases/ by a killed
 * holder of this key goes too. Temp names are `<key>+<pid>-<hex>`, with or without an extension
 * (a build's output has none, so that its format is read from its content).
 */
/** Returns how many files it removed. */
export async function sweepTemps(layout: StoreLayout, key: string, staleMs: number): Promise<number> {
  const prefix = tempPrefix(key);
  const now = Date.now();
  const names = await readdir(layout.tmp);
  let removed = 0;
  await Promise.all(
    names.map(async (name) => {
      const owner = /\+(\d+)-[0-9a-f]+(?:\.|$)/.exec(name);
      if (!owner) return;
      const path = join(layout.tmp, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) return;
      const idle = now - info.mtimeMs;
      const dead = !processAlive(Number(owner[1]));
      const remove = name.startsWith(prefix) ? dead || idle > staleMs : dead && idle > FOREIGN_TEMP_AGE_MS;
      if (remove) {
        await rm(path, { force: true });
        removed++;
      }
    }),
  );
  removed += (await removeDeadTemps(layout.bases, basename(sidecarPath(layout, key)))).length;
  return removed;
}
