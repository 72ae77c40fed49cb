import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { NicSpec, VmSpec } from '../core/testnet/types.js';

const MAX_VMS = 1024;

/**
 * The VM list accepts a count ('3' gives vm1..vm3), a comma-separated list of names, or a JSON file
 * (an array of VM objects, or { "vms": [...] }); relative paths in the file are relative to it.
 * `label` is how the front end names the value in errors ('--vms', "input 'vms'").
 */
export function parseVmList(arg: string, label: string, cwd = process.cwd()): VmSpec[] {
  const text = arg.trim();
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1 || count > MAX_VMS) throw new UsageError(`${label} ${text}: the count must be between 1 and ${MAX_VMS}`);
    return Array.from({ length: count }, (_, i) => ({ name: `vm${i + 1}` }));
  }
  if (text.endsWith('.json')) return readVmFile(resolve(cwd, text));
  const names = text.split(',').map((n) => n.trim());
  if (names.some((n) => n === '')) throw new UsageError(`${label} ${JSON.stringify(arg)}: empty VM name in the list`);
  return names.map((name) => ({ name }));
}

function readVmFile(path: string): VmSpec[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path}: cannot read the VM list: ${(error as Error).message}`);
  }
  const list = Array.isArray(data) ? data : (data as { vms?: unknown })?.vms;
  if (!Array.isArray(list) || list.length === 0) throw new UsageError(`${path}: expected a non-empty array of VMs or { "vms": [...] }`);
  return list.map((entry, i) => checkVm(entry, `${path}: vms[${i}]`, dirname(path)));
}

function checkVm(entry: unknown, where: string, baseDir: string): VmSpec {
  if (typeof entry === 'string') return { name: entry };
  if (typeof entry !== 'object' || entry === null) throw new UsageError(`${where}: expected a name or an object`);
  const vm = entry as Record<string, unknown>;
  if (typeof vm.name !== 'string' || vm.name === '') throw new UsageError(`${where}: "name" must be a non-empty string`);
  const positive = (key: string): number | undefined => {
    const value = vm[key];
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || (value as number) < 1) throw new UsageError(`${where}: "${key}" must be a positive integer`);
    return value as number;
  };
  const extraDisks = vm.extraDisks === undefined ? undefined : checkArray(vm.extraDisks, `${where}.extraDisks`).map((d, j) => {
    const disk = d as Record<string, unknown>;
    if (typeof disk?.source !== 'string') throw new UsageError(`${where}.extraDisks[${j}]: "source" must be a path`);
    return {
      source: resolve(baseDir, disk.source),
      name: optionalString(disk.name, `${where}.extraDisks[${j}].name`),
      member: optionalString(disk.member, `${where}.extraDisks[${j}].member`),
    };
  });
  const nics = vm.nics === undefined ? undefined : checkArray(vm.nics, `${where}.nics`).map((n, j) => parseNic(n, `${where}.nics[${j}]`));
  return {
    name: vm.name,
    memoryMiB: positive('memoryMiB'),
    vcpus: positive('vcpus'),
    cmdline: optionalString(vm.cmdline, `${where}.cmdline`),
    extraDisks,
    nics,
  };
}

function checkArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new UsageError(`${where}: expected an array`);
  return value;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`${where}: expected a string`);
  return value;
}

function parseNic(value: unknown, where: string): NicSpec {
  if (typeof value === 'string') return parseNetwork(value, where) ?? invalidNic(where);
  const nic = value as Record<string, unknown>;
  if (nic?.type === 'bridge' && typeof nic.bridge === 'string') return { type: 'bridge', bridge: nic.bridge };
  if (nic?.type === 'network' && typeof nic.network === 'string') return { type: 'network', network: nic.network };
  if (nic?.type === 'tap' && typeof nic.tap === 'string') return { type: 'tap', tap: nic.tap };
  return invalidNic(where);
}

function invalidNic(where: string): never {
  throw new UsageError(`${where}: a NIC is "bridge:<name>", "network:<name>", "tap:<dev>" or an object with type and that field`);
}

/** `none`, `bridge:<br>`, `network:<libvirt network>` or `tap:<existing tap>`; undefined for none. */
export function parseNetwork(text: string, where: string): NicSpec | undefined {
  const [kind, name] = [text.slice(0, text.indexOf(':')), text.slice(text.indexOf(':') + 1)];
  if (text === 'none') return undefined;
  if (text.includes(':') && name !== '' && /^[A-Za-z0-9_.:-]+$/.test(name)) {
    if (kind === 'bridge') return { type: 'bridge', bridge: name };
    if (kind === 'network') return { type: 'network', network: name };
    if (kind === 'tap') return { type: 'tap', tap: name };
  }
  throw new UsageError(`${where} ${JSON.stringify(text)}: use none, bridge:<bridge>, network:<libvirt network> or tap:<device>`);
}
