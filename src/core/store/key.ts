import { UsageError } from '../errors.js';

const CALLER_KEY = /^[A-Za-z0-9._-]{1,128}$/;
export const DIGEST_KEY = /^sha256-[0-9a-f]{64}$/;

/**
 * Keys become file names in the store, so the core holds every key to a charset that cannot escape
 * it, whoever parsed it: '/' and '+' (the temp and owner separator) are never in a key.
 */
export function validateKey(key: string): string {
  if (DIGEST_KEY.test(key) || (CALLER_KEY.test(key) && key !== '.' && key !== '..')) return key;
  throw new UsageError(
    `invalid key ${JSON.stringify(key)}: a key is 'sha256-<64 hex>' or 1 to 128 characters of A-Z a-z 0-9 . _ - (and not '.' or '..')`,
    'bad-key',
    { key },
  );
}
