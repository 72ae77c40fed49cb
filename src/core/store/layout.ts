import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Bumped when the on-disk format changes, so old and new layouts never read each other. */
export const LAYOUT_VERSION = 'v1';

export interface StoreLayout {
  root: string;
  bases: string;
  locks: string;
  leases: string;
  tmp: string;
  digests: string;
  /** used/<key>: an empty file whose mtime is the base's last use (touched, never rewritten). */
  used: string;
  /** Bases that failed verification, kept for a post-mortem until the next gc. */
  quarantine: string;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BASECOW_CACHE_DIR) return resolve(env.BASECOW_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return resolve(xdg, 'basecow');
}

export function storeLayout(cacheDir: string): StoreLayout {
  const root = join(resolve(cacheDir), LAYOUT_VERSION);
  return {
    root,
    bases: join(root, 'bases'),
    locks: join(root, 'locks'),
    leases: join(root, 'leases'),
    tmp: join(root, 'tmp'),
    digests: join(root, 'digests'),
    used: join(root, 'used'),
    quarantine: join(root, 'quarantine'),
  };
}

export const basePath = (layout: StoreLayout, key: string): string => join(layout.bases, `${key}.img`);
export const sidecarPath = (layout: StoreLayout, key: string): string => join(layout.bases, `${key}.json`);
export const lockPath = (layout: StoreLayout, key: string): string => join(layout.locks, key);
/**
 * Temp names put '+' after the key: keys cannot contain it, so sweeping one key's leftovers can
 * never touch another key's files (key 'a' vs key 'a.b').
 */
export const tempPrefix = (key: string): string => `${key}+`;
/** A fresh temp path for `key` in tmp/ (`<key>+<pid>-<hex>`), without extension. */
export const tempStem = (layout: StoreLayout, key: string): string => join(layout.tmp, `${tempPrefix(key)}${process.pid}-${randomBytes(4).toString('hex')}`);
export const usedPath = (layout: StoreLayout, key: string): string => join(layout.used, key);
export const leaseDir = (layout: StoreLayout, key: string): string => join(layout.leases, key);
