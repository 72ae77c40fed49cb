import { constants } from 'node:fs';
import { access, chmod, copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { BasecowError, UsageError, errnoCode } from '../errors.js';
import { pathExists } from '../shared/fs.js';
import { mapLimited } from '../shared/map-limited.js';
import { createOverlayImage, imageInfo } from '../exec/qemu-img.js';

/**
 * Default qcow2 options for CI overlays, chosen from `npm run bench` (qcow2 section): with a
 * write-heavy workload of 4 KiB writes, 128 KiB clusters with 4 KiB subclusters (extended_l2) avoid
 * copying whole clusters from the base on first write (5x less overlay growth), and lazy_refcounts
 * skips refcount flushes (about 15% faster). Needs QEMU >= 5.2; pass other options for older ones.
 */
export const DEFAULT_QCOW2_OPTIONS = 'extended_l2=on,cluster_size=128k,lazy_refcounts=on';

/**
 * An overlay or base that cannot be used. Code 'overlay-not-reusable' is an existing overlay that
 * does not fit this base: the front ends say how to replace it on purpose.
 */
export class OverlayError extends BasecowError {
  constructor(readonly path: string, reason: string, code: 'base-unusable' | 'overlay-not-reusable' = 'base-unusable') {
    super(code, `${path}: ${reason}`, { path });
    this.name = 'OverlayError';
  }
}

export interface OverlayRequest {
  /** Where the overlay goes: the VM's directory decides the rest of its files. */
  path: string;
}

export interface OverlaySpec {
  base: string;
  overlays: OverlayRequest[];
  /** Grow-only minimum virtual size in bytes: a base larger than this keeps its own size. */
  minSizeBytes?: number;
  qcow2Options?: string;
  /** Replace existing overlays instead of reusing them (throws away what VMs wrote). */
  recreate?: boolean;
}

export interface OverlayResult {
  path: string;
  status: 'created' | 'reused';
  virtualSize: number;
}

/**
 * Makes one qcow2 overlay per VM over the raw base. qemu-img writes the first one; the others are
 * copies of it, because an empty overlay holds only the header, the backing path and the size, so
 * every fresh overlay with the same arguments is the same bytes (a test holds this to qemu-img's own
 * output). That turns N process starts into one.
 */
export async function createOverlays(spec: OverlaySpec): Promise<OverlayResult[]> {
  const baseSize = await checkBase(spec.base);
  const virtualSize = Math.max(baseSize, spec.minSizeBytes ?? 0);
  const sizeBytes = virtualSize > baseSize ? virtualSize : undefined;
  const options = spec.qcow2Options ?? DEFAULT_QCOW2_OPTIONS;

  const results: OverlayResult[] = new Array(spec.overlays.length);
  const toCreate: string[] = [];
  await mapLimited(spec.overlays, 8, async ({ path }, index) => {
    const present = await pathExists(path);
    if (present && !spec.recreate) {
      results[index] = { path, status: 'reused', virtualSize: await checkReusable(path, spec.base, virtualSize) };
      return;
    }
    if (present) await rm(path, { force: true });
    toCreate.push(path);
    results[index] = { path, status: 'created', virtualSize };
  });

  if (toCreate.length > 0) {
    await Promise.all(toCreate.map((path) => mkdir(dirname(path), { recursive: true })));
    const [first, ...rest] = toCreate;
    await createOverlayImage(first, { base: spec.base, sizeBytes, options });
    await chmod(first, 0o600);
    await Promise.all(
      rest.map(async (path) => {
        await copyFile(first, path, constants.COPYFILE_EXCL);
        await chmod(path, 0o600);
      }),
    );
  }
  return results;
}

/** The base must be a readable raw file at an absolute path that has no backing file of its own. */
async function checkBase(base: string): Promise<number> {
  if (!isAbsolute(base)) throw new UsageError(`base path must be absolute, got ${JSON.stringify(base)}: overlays record it`, 'bad-base-path', { base });
  try {
    await access(base, constants.R_OK);
  } catch (error) {
    const why = errnoCode(error) === 'ENOENT' ? 'does not exist' : `is not readable (${errnoCode(error)})`;
    throw new OverlayError(base, `base image ${why}`);
  }
  const info = await imageInfo(base);
  if (info['backing-filename']) {
    throw new OverlayError(base, `base image has its own backing file ${info['backing-filename']}; a base must be a standalone raw image`);
  }
  // qemu-img guesses the format from the first bytes. A whole disk that starts with a LUKS header is
  // still a raw disk (the guest unlocks it); any other guess is a container QEMU would misread as raw.
  if (info.format !== 'raw' && info.format !== 'luks') throw new OverlayError(base, `base image is ${info.format}, expected raw`);
  // As raw, the disk is the whole file (a LUKS guess would report the payload after its header).
  return (await stat(base)).size;
}

/** Reusing keeps a VM's writes across restarts, but only if the overlay still sits on this base. */
async function checkReusable(path: string, base: string, wantedSize: number): Promise<number> {
  const info = await imageInfo(path);
  const backing = info['full-backing-filename'] ?? info['backing-filename'];
  if (info.format !== 'qcow2') {
    throw new OverlayError(path, `existing overlay is ${info.format}, not qcow2`, 'overlay-not-reusable');
  }
  if (backing !== base) {
    throw new OverlayError(path, `existing overlay is backed by ${backing ?? 'nothing'}, not by ${base}`, 'overlay-not-reusable');
  }
  if (info['backing-filename-format'] !== 'raw') {
    throw new OverlayError(path, `existing overlay declares backing format ${info['backing-filename-format'] ?? 'none'}, not raw`, 'overlay-not-reusable');
  }
  if (info['virtual-size'] < wantedSize) {
    throw new OverlayError(path, `existing overlay is ${info['virtual-size']} bytes, smaller than the requested ${wantedSize}`, 'overlay-not-reusable');
  }
  return info['virtual-size'];
}
