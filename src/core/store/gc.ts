import { randomBytes } from 'node:crypto';
import { lstat, readdir, rename, rm, rmdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDeadTemps } from '../shared/atomic-write.js';
import { fsyncDir, isPlainFile } from '../shared/fs.js';
import { DEFAULT_LOCK_TIMING, tryLock, type HeldLock, type LockTiming } from '../shared/lock.js';
import type { WarningSink } from '../warnings.js';
import { validateKey } from './key.js';
import { lastUsedMs } from './last-used.js';
import { basePath, leaseDir, lockPath, sidecarPath, storeLayout, usedPath, type StoreLayout } from './layout.js';
import { readLeases, sweepLeases, type LeaseStatus } from './lease.js';
import { readSidecar } from './sidecar.js';
import { ensureStoreDirs } from './store-dirs.js';
import { sweepTemps } from './temp-sweep.js';

/** The budget when none is given: this share of the filesystem that holds the store. */
export const DEFAULT_BUDGET_FRACTION = 0.25;

export interface BaseEntry {
  key: string;
  base: string;
  apparentBytes: number;
  /** Blocks on disk: what eviction counts (a sparse base's apparent size says little). */
  allocatedBytes: number;
  created: string | null;
  /** The last use (prepare, up, the action); the creation when none was recorded. */
  lastUsed: string;
  leases: LeaseStatus[];
}

export interface StoreListing {
  cacheDir: string;
  bases: BaseEntry[];
  /** Allocated bytes of the bases plus the quarantine. */
  totalBytes: number;
  quarantineBytes: number;
  budgetBytes: number;
  filesystem: { sizeBytes: number; freeBytes: number };
}

export interface BudgetOptions {
  /** An absolute budget in bytes. */
  budgetBytes?: number;
  /** A share of the filesystem's size (0..1), used when budgetBytes is not given. */
  budgetFraction?: number;
}

const keyFromName = (name: string, suffix: string): string | undefined => {
  if (!name.endsWith(suffix)) return undefined;
  try {
    return validateKey(name.slice(0, name.length - suffix.length));
  } catch {
    // Not a name basecow makes: never turned into a path (a key cannot escape the store).
    return undefined;
  }
};

async function filesystemOf(dir: string): Promise<{ sizeBytes: number; freeBytes: number }> {
  const fs = await statfs(dir);
  return { sizeBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
}

export function resolveBudget(options: BudgetOptions, sizeBytes: number): number {
  if (options.budgetBytes !== undefined) return options.budgetBytes;
  return Math.floor(sizeBytes * (options.budgetFraction ?? DEFAULT_BUDGET_FRACTION));
}

async function describe(layout: StoreLayout, key: string): Promise<BaseEntry | undefined> {
  const base = basePath(layout, key);
  const info = await lstat(base).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const sidecar = await readSidecar(sidecarPath(layout, key)).catch(() => undefined);
  const used = await lastUsedMs(layout, key);
  const leases = await readLeases(layout, key);
  const created = sidecar?.created ?? null;
  // A base never used since use was recorded counts from its creation; a lease taken is a use.
  const lastUsed = Math.max(used ?? (created ? Date.parse(created) : info.mtimeMs), ...leases.map((l) => Date.parse(l.lease.started) || 0));
  return { key, base, apparentBytes: info.size, allocatedBytes: info.blocks * 512, created, lastUsed: new Date(lastUsed).toISOString(), leases };
}

async function quarantineBytes(layout: StoreLayout): Promise<{ names: string[]; bytes: number }> {
  const names = await readdir(layout.quarantine).catch(() => [] as string[]);
  let bytes = 0;
  for (const name of names) bytes += ((await lstat(join(layout.quarantine, name)).catch(() => undefined))?.blocks ?? 0) * 512;
  return { names, bytes };
}

/** Every base in the store with its sizes, times and leases, least recently used first. */
export async function listStore(options: { cacheDir: string } & BudgetOptions): Promise<StoreListing> {
  const layout = storeLayout(options.cacheDir);
  await ensureStoreDirs(layout);
  const keys = (await readdir(layout.bases)).map((n) => keyFromName(n, '.img')).filter((k): k is string => k !== undefined);
  const bases = (await Promise.all(keys.map((key) => describe(layout, key)))).filter((b): b is BaseEntry => b !== undefined);
  bases.sort((a, b) => a.lastUsed.localeCompare(b.lastUsed) || a.key.localeCompare(b.key));
  const quarantine = await quarantineBytes(layout);
  const filesystem = await filesystemOf(layout.root);
  return {
    cacheDir: options.cacheDir,
    bases,
    totalBytes: bases.reduce((sum, b) => sum + b.allocatedBytes, 0) + quarantine.bytes,
    quarantineBytes: quarantine.bytes,
    budgetBytes: resolveBudget(options, filesystem.sizeBytes),
    filesystem,
  };
}

export interface GcOptions extends BudgetOptions {
  cacheDir: string;
  /** Also remove unleased bases not used for this long, whatever the budget. */
  maxAgeMs?: number;
  /** Say what would go, remove nothing (debris included). */
  dryRun?: boolean;
  /** Keys never removed by this run (the key a caller is making room for). */
  keep?: string[];
  lockTiming?: Partial<LockTiming>;
  onWarning?: WarningSink;
}

export interface GcRemoval {
  key: string;
  allocatedBytes: number;
  lastUsed: string;
  reason: 'budget' | 'max-age';
}

export interface GcResult {
  dryRun: boolean;
  budgetBytes: number;
  beforeBytes: number;
  afterBytes: number;
  removed: GcRemoval[];
  /** Bases eviction wanted but could not take: in use (leased) or busy (their lock is held). */
  kept: { key: string; reason: 'leased' | 'busy' }[];
  swept: { leases: number; temps: number; locks: number; quarantined: number };
}

/**
 * Brings the store within its budget: unleased bases go least recently used first (and, with
 * maxAgeMs, every unleased base unused for that long), each under its key's lock, which gc only
 * tries (a key in use is skipped, never waited for). What killed processes left (stale leases,
 * temp files, locks, half-written files) and the quarantine are swept.
 */
export async function gc(options: GcOptions): Promise<GcResult> {
  const layout = storeLayout(options.cacheDir);
  const timing = { ...DEFAULT_LOCK_TIMING, ...options.lockTiming };
  const dryRun = options.dryRun ?? false;
  const listing = await listStore(options);
  const result: GcResult = {
    dryRun,
    budgetBytes: listing.budgetBytes,
    beforeBytes: listing.totalBytes,
    afterBytes: listing.totalBytes,
    removed: [],
    kept: [],
    swept: { leases: 0, temps: 0, locks: 0, quarantined: 0 },
  };

  // The quarantine goes first (a dry run counts it as gone too, as the real run would make it).
  const quarantine = await quarantineBytes(layout);
  if (!dryRun) for (const name of quarantine.names) await rm(join(layout.quarantine, name), { force: true, recursive: true });
  result.swept.quarantined = quarantine.names.length;
  result.afterBytes -= quarantine.bytes;

  const keep = new Set(options.keep ?? []);
  const now = Date.now();
  const expired = (entry: BaseEntry) => options.maxAgeMs !== undefined && now - Date.parse(entry.lastUsed) > options.maxAgeMs;
  // Expired bases first, then least recently used (the listing's order).
  const candidates = [...listing.bases.filter(expired), ...listing.bases.filter((b) => !expired(b))];
  const visited = new Set<string>();
  for (const entry of candidates) {
    const reason = expired(entry) ? 'max-age' : result.afterBytes > result.budgetBytes ? 'budget' : undefined;
    if (!reason || keep.has(entry.key)) continue;
    if (entry.leases.some((l) => !l.stale)) {
      result.kept.push({ key: entry.key, reason: 'leased' });
      continue;
    }
    visited.add(entry.key);
    const lock = await tryLock(lockPath(layout, entry.key), timing, layout.tmp);
    if (!lock) {
      result.kept.push({ key: entry.key, reason: 'busy' });
      continue;
    }
    try {
      // Judged again under the lock: a lease written before this lock was taken is seen here, and
      // one written after it makes its writer wait for this lock (see ensureBase), then rebuild.
      if ((await readLeases(layout, entry.key)).some((l) => !l.stale)) {
        result.kept.push({ key: entry.key, reason: 'leased' });
        continue;
      }
      // Another gc may have removed it between the listing and this lock.
      if (!(await isPlainFile(basePath(layout, entry.key)))) {
        result.afterBytes -= entry.allocatedBytes;
        continue;
      }
      if (!dryRun) {
        if (!(await removeBase(layout, entry.key, lock))) continue;
        await sweepKey(layout, entry.key, timing, result);
      }
      result.removed.push({ key: entry.key, allocatedBytes: entry.allocatedBytes, lastUsed: entry.lastUsed, reason });
      result.afterBytes -= entry.allocatedBytes;
    } finally {
      await lock.release().catch((error: Error) => options.onWarning?.({ code: 'lock-not-released', message: `cannot release the lock ${lockPath(layout, entry.key)}: ${error.message}` }));
    }
  }

  if (!dryRun) {
    const locksBefore = (await readdir(layout.locks)).length;
    // Debris of every other key: each swept under its lock, so that nothing in progress is touched.
    for (const key of await keysWithDebris(layout)) {
      if (visited.has(key)) continue;
      const lock = await tryLock(lockPath(layout, key), timing, layout.tmp);
      if (!lock) continue;
      try {
        await sweepKey(layout, key, timing, result);
      } finally {
        await lock.release().catch((error: Error) => options.onWarning?.({ code: 'lock-not-released', message: `cannot release the lock ${lockPath(layout, key)}: ${error.message}` }));
      }
    }
    for (const dir of [layout.used, layout.bases]) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of new Set(names.map((n) => n.replace(/^\.(.*)\.tmp-.*$/, '$1')))) result.swept.temps += (await removeDeadTemps(dir, name)).length;
    }
    result.swept.locks = Math.max(0, locksBefore - (await readdir(layout.locks)).length);
  }
  return result;
}

/** Keys that have anything in the store besides a base: leases, locks, temp files, an orphan sidecar or used file. */
async function keysWithDebris(layout: StoreLayout): Promise<Set<string>> {
  const keys = new Set<string>();
  const add = (key: string | undefined) => key !== undefined && keys.add(key);
  for (const name of await readdir(layout.leases).catch(() => [] as string[])) add(keyFromName(name, ''));
  for (const name of await readdir(layout.locks).catch(() => [] as string[])) add(keyFromName(name.replace(/\+owner$/, ''), ''));
  for (const name of await readdir(layout.tmp).catch(() => [] as string[])) add(keyFromName(name.split('+')[0], ''));
  for (const name of await readdir(layout.used).catch(() => [] as string[])) if (!(await lstat(basePath(layout, name)).catch(() => undefined))) add(keyFromName(name, ''));
  for (const name of await readdir(layout.bases).catch(() => [] as string[])) {
    const key = keyFromName(name, '.json');
    if (key && !(await lstat(basePath(layout, key)).catch(() => undefined))) add(key);
  }
  return keys;
}

/** Under the key's lock: stale leases, dead temp files, and what a base that is gone left behind. */
async function sweepKey(layout: StoreLayout, key: string, timing: LockTiming, result: GcResult): Promise<void> {
  result.swept.leases += await sweepLeases(layout, key);
  result.swept.temps += await sweepTemps(layout, key, timing.staleMs);
  if (!(await lstat(basePath(layout, key)).catch(() => undefined))) {
    await rm(sidecarPath(layout, key), { force: true });
    await rm(usedPath(layout, key), { force: true });
  }
}

/**
 * Removes a base atomically, under its lock: first out of bases/ by one rename into tmp/ (readers
 * then see no base, never part of one; a process already reading it keeps its open file), then
 * the sidecar, then the bytes. A gc killed midway leaves a temp file that the sweep removes.
 * Returns false when the lock turned out not to be ours (taken over): nothing is touched then.
 */
export async function removeBase(layout: StoreLayout, key: string, lock: HeldLock): Promise<boolean> {
  if (await lock.lost()) return false;
  const doomed = join(layout.tmp, `${key}+${process.pid}-${randomBytes(4).toString('hex')}.removed`);
  await rename(basePath(layout, key), doomed);
  await fsyncDir(layout.bases);
  await rm(sidecarPath(layout, key), { force: true });
  await rm(usedPath(layout, key), { force: true });
  await rm(doomed, { force: true });
  // Only an empty lease directory goes (stale leases stay for the sweep to judge).
  await rmdir(leaseDir(layout, key)).catch(() => undefined);
  return true;
}
