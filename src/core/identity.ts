import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';

/** Characters kept in VM names: safe as a libvirt domain name, a file name and a MAC/UUID seed. */
const NAME_CHARSET = /[^A-Za-z0-9_.-]+/g;
const MAX_NAME_LENGTH = 63;

/**
 * Maps a requested VM name onto [A-Za-z0-9_.-]. Leading dots and dashes go too, so that no name
 * can become '..', a hidden file, or look like a command-line option.
 */
export function sanitizeVmName(name: string): string {
  const cleaned = name.replace(NAME_CHARSET, '-').replace(/^[.-]+/, '').replace(/-+$/, '').slice(0, MAX_NAME_LENGTH);
  if (cleaned === '') throw new UsageError(`VM name ${JSON.stringify(name)} has no usable characters (allowed: A-Z a-z 0-9 _ . -)`);
  return cleaned;
}

/** Sanitizes every name and refuses two requests that would land on the same VM. */
export function sanitizeVmNames(names: string[]): string[] {
  const seen = new Map<string, string>();
  return names.map((name) => {
    const clean = sanitizeVmName(name);
    const earlier = seen.get(clean);
    if (earlier !== undefined) {
      throw new UsageError(`VM names ${JSON.stringify(earlier)} and ${JSON.stringify(name)} both become '${clean}'; rename one of them`);
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

function seed(group: string, name: string): Buffer {
  return createHash('sha256').update(`basecow-vm-identity-v1\0${group}\0${name}`).digest();
}

/**
 * Identity that survives re-runs (same group and name, same MAC and UUID), so DHCP leases, known
 * hosts and logs keep matching a VM across restarts.
 */
export function vmIdentity(group: string, name: string): VmIdentity {
  const bytes = seed(group, name);
  // 0x06: locally administered (bit 1 set) unicast (bit 0 clear); 'bc' marks basecow's range.
  const macBytes = [0x06, 0xbc, bytes[0], bytes[1], bytes[2], bytes[3]];
  const mac = macBytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
  // RFC 9562 version 8: custom bits with the version nibble 8 and the variant bits 10.
  const u = Buffer.from(bytes.subarray(4, 20));
  u[6] = (u[6] & 0x0f) | 0x80;
  u[8] = (u[8] & 0x3f) | 0x80;
  const hex = u.toString('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { domain: `${group}-${name}`, mac, uuid };
}

/** Group names share the VM name charset, since they prefix domain names. */
export function validateGroup(group: string): string {
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(group) || /^[.-]/.test(group)) {
    throw new UsageError(`invalid group ${JSON.stringify(group)}: 1 to 40 characters of A-Z a-z 0-9 _ . - not starting with . or -`);
  }
  return group;
}
