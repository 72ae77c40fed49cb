import { UsageError } from '../core/errors.js';
import type { Durability } from '../core/store/durability.js';
import type { VerifyMode } from '../core/store/verify.js';
import { parseSize } from './size.js';

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A duration such as `30d`, `12h`, `90m`, `45s` or `2w`; `label` names the flag or input. */
export function parseDuration(text: string, label: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text.trim());
  if (!match) throw new UsageError(`${label}: invalid duration ${JSON.stringify(text)}: use a number with s, m, h, d or w (e.g. 14d)`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2].toLowerCase()]);
}

/** A store budget: a size (`40G`) or a share of the store's filesystem (`25%`). */
export function parseBudget(text: string, label: string): { budgetBytes: number } | { budgetFraction: number } {
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text.trim());
  if (percent) {
    const fraction = Number(percent[1]) / 100;
    if (fraction > 1) throw new UsageError(`${label}: ${JSON.stringify(text)} is more than the whole filesystem`);
    return { budgetFraction: fraction };
  }
  return { budgetBytes: parseSize(text, label) };
}

export function parseVerify(text: string | undefined, label: string): VerifyMode | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = text.trim();
  if (value === 'always' || value === 'changed' || value === 'never') return value;
  throw new UsageError(`${label} must be always, changed or never, got ${JSON.stringify(text)}`);
}

export function parseDurability(text: string | undefined, label: string): Durability | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = text.trim();
  if (value === 'deferred' || value === 'before-publish') return value;
  throw new UsageError(`${label} must be deferred or before-publish, got ${JSON.stringify(text)}`);
}
