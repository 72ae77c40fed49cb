import { UsageError } from '../core/errors.js';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses sizes as qemu-img writes them: bytes, or a number with K/M/G/T (powers of 1024). */
export function parseSize(text: string, label = 'size'): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`${label}: invalid size ${JSON.stringify(text)}: use bytes or a number with K, M, G or T (e.g. 32G)`);
  const bytes = Math.ceil(Number(match[1]) * UNITS[match[2].toUpperCase()]);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${label}: size ${JSON.stringify(text)} is too large`);
  return bytes;
}
