import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DomainType } from '../libvirt/domain-type.js';
import { errnoCode } from '../errors.js';
import { writeFileAtomically } from '../shared/atomic-write.js';
import type { CacheHit } from '../store/ensure-base.js';

export const MANIFEST_SCHEMA = 'basecow.manifest/v1';
export const MANIFEST_FILE = 'manifest.json';

export interface ManifestDisk {
  alias: string;
  role: 'primary' | 'extra';
  path: string;
  format: 'qcow2' | 'raw';
  target: string;
}

export interface ManifestVm {
  name: string;
  domain: string;
  overlay: string;
  xml: string;
  mac: string;
  uuid: string;
  consoleLog: string;
  disks: ManifestDisk[];
}

/** The contract handed to system tests; README.md documents it. Additive changes keep v1. */
export interface Manifest {
  schema: typeof MANIFEST_SCHEMA;
  key: string;
  base: string;
  /**
   * The base's raw digest when the overlays were made over it: a later `up` refuses to reuse
   * overlays over a base whose content changed since. Absent in manifests from before.
   */
  baseDigest?: string;
  cacheHit: CacheHit;
  group: string;
  workDir: string;
  domainType: DomainType;
  connect: string;
  /**
   * True once `up --start` has started the domains; `down` then insists on reaching libvirt. Absent in
   * manifests written before the field existed, which counts as true.
   */
  started: boolean;
  vms: ManifestVm[];
}

export const manifestPath = (workDir: string): string => join(workDir, MANIFEST_FILE);

export async function writeManifest(manifest: Manifest): Promise<string> {
  const path = manifestPath(manifest.workDir);
  await writeFileAtomically(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return path;
}

/** The work dir's manifest, or undefined when there is none; a manifest that cannot be read is an error. */
export async function readManifest(workDir: string): Promise<Manifest | undefined> {
  const path = manifestPath(workDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw new Error(`${path}: cannot read the manifest: ${(error as Error).message}`, { cause: error });
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (error) {
    throw new Error(`${path}: not a valid manifest (${(error as Error).message}); remove it or restore it`, { cause: error });
  }
  if (manifest.schema !== MANIFEST_SCHEMA) {
    throw new Error(`${path}: unknown manifest schema ${JSON.stringify(manifest.schema)}, expected ${MANIFEST_SCHEMA}`);
  }
  return manifest;
}

/**
 * Manifests from before the field existed do not say whether basecow started their domains, so they
 * count as started: `down` is then careful rather than sorry.
 */
export const wasStarted = (manifest: Manifest): boolean => manifest.started !== false;
