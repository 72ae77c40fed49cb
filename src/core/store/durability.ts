import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basePath, sidecarPath, type StoreLayout } from './layout.js';
import { writeSidecar, type BaseSidecar } from './sidecar.js';

/**
 * When a new base counts as made.
 *
 * 'before-publish': its data is on the disk (direct writes, fsync) before it gets its final name.
 * On a disk slower than decoding, that wait is most of a miss or an L2 hit: 1.1 GiB took 2-3.6 s
 * to reach a 330-550 MB/s disk on one machine, against 1.5 s for `zstd -d -o`, which leaves its
 * output in the page cache.
 *
 * 'deferred': the base is published as soon as its writes have returned, without an fsync, its
 * data written directly or through the page cache, whichever has proven cheaper on this machine
 * (extract/write/spill-policy.ts). The kernel writes the page cache's part back in its own time.
 * Within the boot that wrote it, every reader sees the whole file, whatever the disk holds yet.
 * Only a crash or reboot before it is all on the disk can lose data, so the sidecar records the boot (`unsyncedInBoot`), and a base from
 * another boot that was never recorded as on the disk is verified against its raw digest before
 * any use, in every verify mode (a torn base is quarantined and made again). Once a base has
 * settled (the kernel writes dirty data back after about 30 s), its next use fsyncs it, which is
 * quick by then, and drops the mark.
 */
export type Durability = 'before-publish' | 'deferred';

const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
/** Older than this, a base's data has almost certainly been written back, so its fsync costs little. */
const SETTLED_MS = 2 * 60 * 1000;

let bootId: string | null | undefined;

/** This boot's id, or undefined where the kernel gives none (then nothing is deferred). */
export function currentBootId(): string | undefined {
  if (bootId === undefined) {
    try {
      bootId = readFileSync(BOOT_ID_FILE, 'utf8').trim() || null;
    } catch {
      bootId = null;
    }
  }
  return bootId ?? undefined;
}

/** What is asked (default 'deferred'), where a reboot can be told apart from the same boot; else 'before-publish'. */
export const effectiveDurability = (asked: Durability | undefined): Durability => (asked !== 'before-publish' && currentBootId() ? 'deferred' : 'before-publish');

/** The boot to record in a new base's sidecar, or undefined when it was on the disk before publishing. */
export const unsyncedMark = (durability: Durability): string | undefined => (durability === 'deferred' ? currentBootId() : undefined);

/** A base written in another boot and never recorded as on the disk: it may have lost data in a crash. */
export const writtenInAnotherBoot = (sidecar: BaseSidecar): boolean => sidecar.unsyncedInBoot !== undefined && sidecar.unsyncedInBoot !== currentBootId();

/** Flushes the base to the disk, then records that in its sidecar (atomically). */
export async function recordOnDisk(layout: StoreLayout, key: string, sidecar: BaseSidecar): Promise<void> {
  const file = await open(basePath(layout, key), 'r');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
  const { unsyncedInBoot: _written, ...onDisk } = sidecar;
  await writeSidecar(sidecarPath(layout, key), onDisk);
}

/**
 * On a use of a base from this boot that has settled: records it as on the disk, so that a reboot
 * does not make it wait for a verification. Best effort: a failure leaves the mark, which only
 * means that check after a reboot.
 */
export async function recordSettledBase(layout: StoreLayout, key: string, sidecar: BaseSidecar | undefined, now = Date.now()): Promise<boolean> {
  if (!sidecar || sidecar.unsyncedInBoot === undefined || writtenInAnotherBoot(sidecar)) return false;
  if (!(now - Date.parse(sidecar.created) >= SETTLED_MS)) return false;
  try {
    await recordOnDisk(layout, key, sidecar);
    return true;
  } catch {
    return false;
  }
}
