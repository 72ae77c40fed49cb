import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { computeRawDigest } from '../extract/raw-digest.js';
import { fsyncDir } from '../shared/fs.js';
import { recordOnDisk, writtenInAnotherBoot } from './durability.js';
import { basePath, sidecarPath, type StoreLayout } from './layout.js';
import { readSidecar, writeSidecar, type BaseIdentity, type BaseSidecar } from './sidecar.js';

/**
 * When a stored base is checked against the raw digest its sidecar recorded at extraction:
 * 'changed' when the file's identity (size, inode, mtime, ctime) differs from the one recorded at
 * publication (a sidecar without one counts as changed: it is checked once, then recorded),
 * 'always' on every use, 'never' not at all.
 */
export type VerifyMode = 'always' | 'changed' | 'never';

export async function identityOf(path: string): Promise<BaseIdentity> {
  const info = await stat(path, { bigint: true });
  return { size: Number(info.size), ino: Number(info.ino), mtimeNs: info.mtimeNs.toString(), ctimeNs: info.ctimeNs.toString() };
}

const sameIdentity = (a: BaseIdentity | undefined, b: BaseIdentity): boolean =>
  a !== undefined && a.size === b.size && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/**
 * Whether the base must be hashed before it is used (cheap: one stat and the sidecar), with the
 * sidecar read for it. A base that an earlier boot published before its data reached the disk is
 * hashed in every mode: a crash may have torn it (see durability.ts).
 */
export async function needsVerification(layout: StoreLayout, key: string, mode: VerifyMode): Promise<{ needed: boolean; sidecar?: BaseSidecar }> {
  const sidecar = await readSidecar(sidecarPath(layout, key)).catch(() => undefined);
  if (sidecar && writtenInAnotherBoot(sidecar)) return { needed: true, sidecar };
  if (mode === 'never') return { needed: false, sidecar };
  if (mode === 'always' || !sidecar) return { needed: true, sidecar };
  return { needed: !sameIdentity(sidecar.identity, await identityOf(basePath(layout, key))), sidecar };
}

export type Verification = { ok: true } | { ok: false; reason: string };

/**
 * Hashes the base and compares it with the sidecar's raw digest. On a match the current identity is
 * recorded (atomically), so 'changed' does not hash it again. Called under the key's lock.
 */
export async function verifyBase(layout: StoreLayout, key: string, signal?: AbortSignal): Promise<Verification> {
  let sidecar: BaseSidecar;
  try {
    sidecar = await readSidecar(sidecarPath(layout, key));
  } catch (error) {
    return { ok: false, reason: `its sidecar cannot be read (${(error as Error).message})` };
  }
  const path = basePath(layout, key);
  const before = await identityOf(path);
  const digest = await computeRawDigest(path, signal);
  // A sidecar from before raw digests were recorded: nothing to compare with, so the content is
  // taken as it is (it was published complete) and its digest recorded from now on.
  if (sidecar.rawDigest && digest !== sidecar.rawDigest) {
    return { ok: false, reason: `its content's digest is ${digest}, not the ${sidecar.rawDigest} recorded when it was made` };
  }
  if (sidecar.apparentBytes !== undefined && before.size !== sidecar.apparentBytes) {
    return { ok: false, reason: `it is ${before.size} bytes, not the ${sidecar.apparentBytes} recorded when it was made` };
  }
  const verified = { ...sidecar, rawDigest: digest, identity: before };
  // Whole after a reboot: on the disk, then, so it need not be checked for that again.
  if (writtenInAnotherBoot(sidecar)) await recordOnDisk(layout, key, verified);
  else await writeSidecar(sidecarPath(layout, key), verified);
  return { ok: true };
}

/** Moves a base that failed verification out of bases/ (one rename), keeping it for a post-mortem. */
export async function quarantineBase(layout: StoreLayout, key: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = join(layout.quarantine, `${key}+${stamp}-${randomBytes(3).toString('hex')}.img`);
  await rename(basePath(layout, key), target);
  await rm(sidecarPath(layout, key), { force: true });
  await fsyncDir(layout.bases);
  return target;
}
