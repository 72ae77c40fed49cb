import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { nicSeed, sanitizeVmName, uniqueMacs, vmIdentity, type IdentityHash } from './identity.js';
import type { ManifestDisk, ManifestVm } from './manifest.js';
import type { VmSpec } from './types.js';

/**
 * Where every file of a testnet lives, derived from the work dir and the VM and disk names alone.
 * `up` creates files only at these paths, and `down` removes only what these paths name, so a
 * manifest edited to point elsewhere cannot make basecow touch anything else.
 */
export const vmDir = (workDir: string, vmName: string): string => join(workDir, 'vms', vmName);
export const overlayPath = (workDir: string, vmName: string): string => join(vmDir(workDir, vmName), 'primary.qcow2');
export const domainXmlPath = (workDir: string, vmName: string): string => join(vmDir(workDir, vmName), 'domain.xml');
export const consoleLogPath = (workDir: string, vmName: string): string => join(vmDir(workDir, vmName), 'console.log');
export const extraDiskPath = (workDir: string, vmName: string, diskName: string): string => join(vmDir(workDir, vmName), `${diskName}.img`);

export function defaultGroup(workDir: string): string {
  return `bc${createHash('sha256').update(resolve(workDir)).digest('hex').slice(0, 8)}`;
}

export interface PlannedDisk {
  name: string;
  path: string;
  source: string;
  member?: string;
}

/** Everything about one VM that follows from the options alone, before any file exists. */
export interface VmPlan {
  spec: VmSpec;
  name: string;
  dir: string;
  extra: PlannedDisk[];
  /** MACs of the VM's NICs, in order (the first is the VM's own). */
  nicMacs: string[];
  entry: ManifestVm;
}

/** Extra disk names become file names and libvirt aliases next to the primary disk's and the NICs'. */
export function isReservedDiskName(name: string): boolean {
  return name === 'primary' || /^nic\d+$/.test(name);
}

function planExtraDisks(workDir: string, spec: VmSpec, vmName: string): PlannedDisk[] {
  const disks = (spec.extraDisks ?? []).map((d, j) => ({ ...d, name: sanitizeVmName(d.name ?? `disk${j + 1}`) }));
  const seen = new Set<string>();
  for (const d of disks) {
    if (isReservedDiskName(d.name) || seen.has(d.name)) {
      throw new UsageError(`VM ${spec.name}: extra disk name '${d.name}' is used twice or reserved ('primary' and 'nic<N>' are taken)`, 'bad-disk-name', { vm: spec.name, disk: d.name });
    }
    seen.add(d.name);
  }
  return disks.map((d) => ({ name: d.name, path: extraDiskPath(workDir, vmName, d.name), source: d.source, member: d.member }));
}

/** vda, vdb, ..., vdz, vdaa: the kernel's naming for virtio disks. */
export function diskTarget(index: number): string {
  let suffix = '';
  let n = index;
  do {
    suffix = String.fromCharCode(97 + (n % 26)) + suffix;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `vd${suffix}`;
}

/**
 * Plans every VM of a testnet. `names` are the sanitized names; `nicCounts[i]` how many NICs VM i
 * has (at least one MAC is always planned: the manifest and the template show it).
 */
export function planTestnet(specs: VmSpec[], names: string[], nicCounts: number[], workDir: string, group: string, hash?: IdentityHash): VmPlan[] {
  const seeds = names.flatMap((name, i) => Array.from({ length: Math.max(1, nicCounts[i]) }, (_, j) => nicSeed(name, j)));
  const macs = uniqueMacs(group, seeds, hash);
  return specs.map((spec, i) => {
    const name = names[i];
    const identity = vmIdentity(group, name, hash);
    const extra = planExtraDisks(workDir, spec, name);
    const overlay = overlayPath(workDir, name);
    const nicMacs = Array.from({ length: Math.max(1, nicCounts[i]) }, (_, j) => macs.get(nicSeed(name, j))!);
    const disks: ManifestDisk[] = [
      { alias: 'ua-basecow-primary', role: 'primary', path: overlay, format: 'qcow2', target: 'vda' },
      ...extra.map((d, j): ManifestDisk => ({ alias: `ua-basecow-${d.name}`, role: 'extra', path: d.path, format: 'raw', target: diskTarget(j + 1) })),
    ];
    const entry: ManifestVm = {
      name,
      domain: identity.domain,
      overlay,
      xml: domainXmlPath(workDir, name),
      mac: nicMacs[0],
      uuid: identity.uuid,
      consoleLog: consoleLogPath(workDir, name),
      disks,
    };
    return { spec, name, dir: vmDir(workDir, name), extra, nicMacs, entry };
  });
}
