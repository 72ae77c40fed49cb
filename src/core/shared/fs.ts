import { lstat, open, stat } from 'node:fs/promises';
import { errnoCode } from '../errors.js';

/** True when `path` exists; an error other than "not there" (EACCES, EIO) is not hidden. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** True when `path` is a regular file; anything unreadable counts as absent. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** True when `path` itself is a regular file: a symbolic link in its place is not followed. */
export async function isPlainFile(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isFile();
  } catch {
    return false;
  }
}

/** Makes a rename or unlink in `dir` durable: without it, a crash can bring the old entry back. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
