import { constants } from 'node:fs';
import { access } from 'node:fs/promises';

/** libvirt's domain type: hardware virtualization, or QEMU's TCG emulation. */
export type DomainType = 'kvm' | 'qemu';

/** KVM when this process could open /dev/kvm; TCG emulation otherwise. */
export async function resolveDomainType(requested: 'auto' | DomainType = 'auto'): Promise<DomainType> {
  if (requested !== 'auto') return requested;
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    return 'kvm';
  } catch {
    return 'qemu';
  }
}
