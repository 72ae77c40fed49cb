import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { errnoCode } from '../errors.js';
import { removeDeadTemps, writeFileAtomically } from '../shared/atomic-write.js';
import { bootId, processAlive, processStartTicks } from '../shared/pid.js';
import { readManifest } from '../testnet/manifest.js';
import { leaseDir, type StoreLayout } from './layout.js';

/**
 * Who holds a lease: a testnet (its work dir) and the process that stands for the job. A testnet
 * outlives the `up` that made it, so a lease is a file, not a lock held by a process.
 */
export interface LeaseHolder {
  /** The testnet's work dir: while its manifest uses the key, the lease holds whatever the pid. */
  workDir?: string;
  /** The process whose life bounds the lease when there is no testnet (default: this process). */
  pid?: number;
  /** The CI job, for people reading `basecow ls`. */
  jobId?: string;
}

export interface Lease {
  schema: 1;
  id: string;
  key: string;
  workDir: string | null;
  pid: number;
  /**
   * The process's start time (see processStartTicks) and the boot it ran in: on a runner that
   * lives for months pids are reused, and a lease whose dead holder's pid now belongs to another
   * process would otherwise hold its base forever. Absent where /proc is not.
   */
  pidStart?: string;
  bootId?: string;
  host: string;
  jobId: string | null;
  started: string;
}

export interface LeaseStatus {
  lease: Lease;
  path: string;
  /** Why the holder is provably gone; undefined while the lease holds. */
  stale?: string;
}

const LEASE_SUFFIX = '.json';

/**
 * Writes a new lease on `key`. Ids are random and a lease file is never rewritten, so removing a
 * lease found stale can never remove a live one that reused its name.
 */
export async function acquireLease(layout: StoreLayout, key: string, holder: LeaseHolder): Promise<LeaseStatus> {
  const pid = holder.pid ?? process.pid;
  const id = `${pid}-${randomBytes(6).toString('hex')}`;
  const lease: Lease = {
    schema: 1,
    id,
    key,
    workDir: holder.workDir ? resolve(holder.workDir) : null,
    pid,
    pidStart: processStartTicks(pid),
    bootId: bootId(),
    host: hostname(),
    jobId: holder.jobId ?? null,
    started: new Date().toISOString(),
  };
  const dir = leaseDir(layout, key);
  const path = join(dir, `${id}${LEASE_SUFFIX}`);
  // gc removes a key's empty lease directory, so it may vanish between mkdir and the write, and
  // even inside a recursive mkdir (which stats a directory it found to exist, and reports ENOENT
  // when it is gone by then): both are tried again.
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await writeFileAtomically(path, `${JSON.stringify(lease, null, 2)}\n`, { mode: 0o644 });
      return { lease, path };
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' || attempt >= 5) throw error;
    }
  }
}

/** Removes a lease; one that is already gone is not an error (a gc found it stale, or a second post). */
export async function releaseLease(layout: StoreLayout, key: string, id: string): Promise<boolean> {
  if (!/^[0-9]+-[0-9a-f]+$/.test(id)) return false;
  const path = join(leaseDir(layout, key), `${id}${LEASE_SUFFIX}`);
  try {
    await rm(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Removes every lease on `key` held for `workDir` (down: the testnet is gone, whoever made it). */
export async function releaseWorkDirLeases(layout: StoreLayout, key: string, workDir: string, keepId?: string): Promise<number> {
  let released = 0;
  for (const status of await readLeases(layout, key, { judge: false })) {
    if (status.lease.workDir === resolve(workDir) && status.lease.id !== keepId) {
      await rm(status.path, { force: true });
      released++;
    }
  }
  return released;
}

/**
 * The leases on `key`, each judged. A lease is stale only when its holder is provably gone:
 * - on another host nothing can be proved, so it holds;
 * - with a work dir: when the work dir's manifest uses another key (the testnet was made again over
 *   another base), or has no manifest and the process is dead (torn down, or an `up` that died);
 *   a manifest using the key holds the lease whatever the process (a testnet outlives `up`), and a
 *   live process without a manifest yet is an `up` still preparing;
 * - without a work dir: when the process is dead.
 * A lease file that cannot be parsed is debris of no holder (leases are written atomically).
 */
export async function readLeases(layout: StoreLayout, key: string, options: { judge?: boolean } = {}): Promise<LeaseStatus[]> {
  const dir = leaseDir(layout, key);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  const statuses: LeaseStatus[] = [];
  for (const name of names.filter((n) => n.endsWith(LEASE_SUFFIX) && !n.startsWith('.')).sort()) {
    const path = join(dir, name);
    let lease: Lease;
    try {
      lease = JSON.parse(await readFile(path, 'utf8')) as Lease;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      statuses.push({ lease: { schema: 1, id: name.slice(0, -LEASE_SUFFIX.length), key, workDir: null, pid: 0, host: '', jobId: null, started: '' }, path, stale: 'unreadable lease file' });
      continue;
    }
    statuses.push({ lease, path, stale: options.judge === false ? undefined : await staleReason(lease, key) });
  }
  return statuses;
}

/** Whether the very process the lease names still runs (not merely some process with its pid). */
function holderAlive(lease: Lease): boolean {
  if (!Number.isInteger(lease.pid) || lease.pid <= 0 || !processAlive(lease.pid)) return false;
  const boot = bootId();
  if (lease.bootId && boot && lease.bootId !== boot) return false;
  const start = processStartTicks(lease.pid);
  return !(lease.pidStart && start && lease.pidStart !== start);
}

async function staleReason(lease: Lease, key: string): Promise<string | undefined> {
  if (lease.host !== hostname()) return undefined;
  const alive = holderAlive(lease);
  if (lease.workDir) {
    const manifest = await readManifest(lease.workDir).catch(() => 'unreadable' as const);
    // A manifest that cannot be read proves nothing.
    if (manifest === 'unreadable') return undefined;
    if (manifest) return manifest.key === key ? undefined : `${lease.workDir}'s manifest now uses ${manifest.key}`;
    return alive ? undefined : `pid ${lease.pid} is gone and ${lease.workDir} holds no manifest`;
  }
  return alive ? undefined : `pid ${lease.pid} is gone`;
}

/** Removes the stale leases of `key` and a killed writer's half-written ones; returns how many went. */
export async function sweepLeases(layout: StoreLayout, key: string): Promise<number> {
  let swept = 0;
  for (const status of await readLeases(layout, key)) {
    if (status.stale) {
      await rm(status.path, { force: true });
      swept++;
    }
  }
  const dir = leaseDir(layout, key);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) swept += (await removeDeadTemps(dir, name.replace(/^\.(.*)\.tmp-.*$/, '$1'))).length;
  // Only an empty directory goes; acquireLease copes with one removed under it.
  await rmdir(dir).catch(() => undefined);
  return swept;
}
