import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DomainType } from './domain.js';
import type { CacheHit } from './store.js';

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
  cacheHit: CacheHit;
  group: string;
  workDir: string;
  domainType: DomainType;
  connect: string;
  /** True once `up --start` has started the domains; `down` then insists on reaching libvirt. */
  started: boolean;
  vms: ManifestVm[];
}

export const manifestPath = (workDir: string): string => join(workDir, MANIFEST_FILE);

export async function writeManifest(manifest: Manifest): Promise<string> {
  const path = manifestPath(manifest.workDir);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temp, path);
  return path;
}

export async function readManifest(workDir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(manifestPath(workDir), 'utf8');
  } catch {
    return undefined;
  }
  const manifest = JSON.parse(text) as Manifest;
  if (manifest.schema !== MANIFEST_SCHEMA) {
    throw new Error(`${manifestPath(workDir)}: unknown manifest schema ${JSON.stringify(manifest.schema)}, expected ${MANIFEST_SCHEMA}`);
  }
  return manifest;
}
