import { randomBytes } from 'node:crypto';
import { chmod, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir } from './fs.js';
import { processAlive } from './pid.js';

/**
 * The one way basecow replaces a file: the new content is made under a temp name in the same
 * directory (so the rename cannot cross filesystems), synced, renamed over the final name, and the
 * directory synced (so the rename survives a crash). A reader sees the old file or the whole new
 * one, never a part. On any failure the temp file is removed and the final name is untouched.
 *
 * Temp names are `.<final name>.tmp-<pid>-<random>`: hidden, unique per writer, and carrying the
 * writer's pid so that removeDeadTemps can tell a killed writer's leftovers from a live one's work.
 */
export interface AtomicWriteOptions {
  /** The final file's mode (applied before the rename, so it is never visible with another). */
  mode?: number;
}

const TEMP_INFIX = '.tmp-';

export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${TEMP_INFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * `produce` writes the complete content to the temp path it is given (and syncs it if it opened it
 * itself: writeFileAtomically does). Returns what `produce` returned.
 */
export async function replaceAtomically<T>(path: string, produce: (tempPath: string) => Promise<T>, options: AtomicWriteOptions = {}): Promise<T> {
  const temp = tempNameFor(path);
  try {
    const result = await produce(temp);
    if (options.mode !== undefined) await chmod(temp, options.mode);
    await rename(temp, path);
    await fsyncDir(dirname(path));
    return result;
  } finally {
    // After a successful rename there is nothing under the temp name; force keeps that quiet.
    await rm(temp, { force: true });
  }
}

export async function writeFileAtomically(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await replaceAtomically(
    path,
    async (temp) => {
      const handle = await open(temp, 'wx', options.mode ?? 0o644);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    options,
  );
}

/**
 * Removes the temp files a killed writer of `finalName` left in `dir` (a killed process runs no
 * cleanup). A temp whose writer is alive is its work in progress and stays. Returns what it removed.
 */
export async function removeDeadTemps(dir: string, finalName: string): Promise<string[]> {
  const prefix = `.${finalName}${TEMP_INFIX}`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    await rm(join(dir, name), { force: true });
    removed.push(join(dir, name));
  }
  return removed;
}
