import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

/** Characters kept in VM names: safe as a libvirt domain name, a file name and a MAC/UUID seed. */
const NAME_CHARSET = /[^A-Za-z0-9_.-]+/g;
const MAX_NAME_LENGTH = 63;

/**
 * Maps a requested VM name onto [A-Za-z0-9_.-]. Leading dots and dashes go too, so that no name
 * can become '..', a hidden file, or look like a command-line option.
 */
export function sanitizeVmName(name: string): string {
  const cleaned = name.replace(NAME_CHARSET, '-').replace(/^[.-]+/, '').replace(/-+$/, '').slice(0, MAX_NAME_LENGTH);
  if (cleaned === '') throw new UsageError(`VM name ${JSON.stringify(name)} has no usable characters (allowed: A-Z a-z 0-9 _ . -)`, 'bad-vm-name', { name });
  return cleaned;
}

/** Sanitizes every name and refuses two requests that would land on the same VM. */
export function sanitizeVmNames(names: string[]): string[] {
  const seen = new Map<string, string>();
  return names.map((name) => {
    const clean = sanitizeVmName(name);
    const earlier = seen.get(clean);
    if (earlier !== undefined) {
      throw new UsageError(`VM names ${JSON.stringify(earlier)} and ${JSON.stringify(name)} both become '${clean}'; rename one of them`, 'bad-vm-name', { name });
    }
    seen.set(clean, name);
    return clean;
  });
}

export interface VmIdentity {
  /** libvirt domain name: the group keeps two testnets on one host apart. */
  domain: string;
  mac: string;
  uuid: string;
}

/** At least 20 bytes derived from (group, seed); replaceable so that tests can force collisions. */
export type IdentityHash = (group: string, seed: string) => Buffer;

export const identityHash: IdentityHash = (group, seed) => createHash('sha256').update(`basecow-vm-identity-v1\0${group}\0${seed}`).digest();

function macFrom(bytes: Buffer): string {
  // 0x06: locally administered (bit 1 set) unicast (bit 0 clear); 'bc' marks basecow's range.
  return [0x06, 0xbc, bytes[0], bytes[1], bytes[2], bytes[3]].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * Identity that survives re-runs (same group and name, same MAC and UUID), so DHCP leases, known
 * hosts and logs keep matching a VM across restarts. The MAC here is the VM's first choice;
 * uniqueMacs settles clashes within a testnet.
 */
export function vmIdentity(group: string, name: string, hash: IdentityHash = identityHash): VmIdentity {
  const bytes = hash(group, name);
  // RFC 9562 version 8: custom bits with the version nibble 8 and the variant bits 10.
  const u = Buffer.from(bytes.subarray(4, 20));
  u[6] = (u[6] & 0x0f) | 0x80;
  u[8] = (u[8] & 0x3f) | 0x80;
  const hex = u.toString('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { domain: `${group}-${name}`, mac: macFrom(bytes), uuid };
}

/** The seed of a VM's NIC: the first NIC is the VM's own MAC; '#' is in no VM name, so seeds never clash. */
export const nicSeed = (vmName: string, nicIndex: number): string => (nicIndex === 0 ? vmName : `${vmName}#nic${nicIndex}`);

/**
 * One MAC per seed, unique within the testnet. A MAC carries 32 bits of hash, so two NICs of a large
 * testnet can draw the same one (about 1 in 2^32 per pair), and two NICs with one MAC on a bridge
 * break both. Seeds are settled in sorted order, and a seed whose MAC is taken rehashes with a
 * counter ('<seed>#mac1', '#mac2', ...): the same seeds give the same MACs every time, whatever
 * order they were listed in.
 */
export function uniqueMacs(group: string, seeds: string[], hash: IdentityHash = identityHash): Map<string, string> {
  const taken = new Set<string>();
  const macs = new Map<string, string>();
  for (const seed of [...new Set(seeds)].sort()) {
    let mac = macFrom(hash(group, seed));
    for (let attempt = 1; taken.has(mac); attempt += 1) mac = macFrom(hash(group, `${seed}#mac${attempt}`));
    taken.add(mac);
    macs.set(seed, mac);
  }
  return macs;
}

/** Group names share the VM name charset, since they prefix domain names. */
export function validateGroup(group: string): string {
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(group) || /^[.-]/.test(group)) {
    throw new UsageError(`invalid group ${JSON.stringify(group)}: 1 to 40 characters of A-Z a-z 0-9 _ . - not starting with . or -`, 'bad-group', { group });
  }
  return group;
}
