import { UsageError } from '../core/errors.js';
import type { DomainType } from '../core/libvirt/domain-type.js';

/** A whole number ≥ 1 given as text; `label` names the flag or input in the error. */
export function parsePositiveInt(value: string | undefined, label: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${label} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

export function parseDomainType(value: string, label: string): 'auto' | DomainType {
  if (value === 'auto' || value === 'kvm' || value === 'qemu') return value;
  throw new UsageError(`${label} must be auto, kvm or qemu, got ${JSON.stringify(value)}`);
}

/** true/false as YAML and shells write them; empty means the default. */
export function parseBoolean(value: string | undefined, label: string, fallback: boolean): boolean {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '') return fallback;
  if (['true', 'yes', '1', 'on'].includes(text)) return true;
  if (['false', 'no', '0', 'off'].includes(text)) return false;
  throw new UsageError(`${label} must be true or false, got ${JSON.stringify(value)}`);
}
