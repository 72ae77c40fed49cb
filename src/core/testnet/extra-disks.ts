import { mkdir, truncate } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { extractToRaw } from '../extract/index.js';
import { removeDeadTemps, replaceAtomically } from '../shared/atomic-write.js';
import { pathExists } from '../shared/fs.js';
import type { PlannedDisk } from './plan.js';

/** Config disks are padded so that every block device size is a whole number of 4 KiB sectors. */
const EXTRA_DISK_ALIGN = 4096;

/**
 * A VM's own config disks, each extracted from its source into the VM's directory: whole or absent
 * (see replaceAtomically). An existing one is kept unless `recreate`, because the VM may have
 * written to it.
 */
export async function prepareExtraDisks(dir: string, disks: PlannedDisk[], options: { recreate?: boolean; signal?: AbortSignal }): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(
    disks.map(async (d) => {
      if (!options.recreate && (await pathExists(d.path))) return;
      await removeDeadTemps(dir, basename(d.path));
      await replaceAtomically(
        d.path,
        async (temp) => {
          const { size } = await extractToRaw(d.source, temp, { member: d.member, signal: options.signal });
          const padded = Math.ceil(size / EXTRA_DISK_ALIGN) * EXTRA_DISK_ALIGN;
          if (padded !== size) await truncate(temp, padded);
        },
        // A reflinked raw source arrives with its own mode; the VM's disks are the runner's alone.
        { mode: 0o600 },
      );
    }),
  );
}

/** What an `up` killed mid-extraction left next to a disk it was making (it ran no cleanup). */
export async function removeDeadExtraDiskTemps(path: string): Promise<string[]> {
  return removeDeadTemps(dirname(path), basename(path));
}
