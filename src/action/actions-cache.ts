import * as cache from '@actions/cache';
import * as core from '@actions/core';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemoteCache, RemoteEntry, RestoreOptions, StreamLookup } from '../core/remote/remote-cache.js';
import { getCacheMode, isCacheReadable, isCacheWritable } from '#actions-cache-internal';
import { streamActionsCacheEntry, streamingMethod } from './actions-cache-stream.js';
import { ArchiveFollower } from './archive-follower.js';
import { workspace } from './inputs.js';

/**
 * The GitHub Actions cache as basecow's remote cache (L2).
 *
 * What is cached is the base's entry (src/core/entry), not the raw base: the cache's tar would fill
 * every hole. The cache *version* hashes the literal path strings given here plus the compression
 * method, so the path is one fixed string relative to the workspace (the runner starts node actions
 * there) on every runner; a runner without a `zstd` binary gets gzip and so another version, and
 * does not see entries that zstd runners saved. The client downloads the whole archive to
 * RUNNER_TEMP before unpacking it: for a moment that takes about twice the entry's size.
 */
export const ENTRY_DIR = '.basecow-l2';
export const entryRelativePath = (key: string): string => `${ENTRY_DIR}/${key}.zst`;
/** The cache key: the format version keeps entries of an older basecow apart. */
export const cacheKeyFor = (key: string): string => `basecow-entry-v1-${key}`;

/** Runs `fn` with the workspace as the cwd, where the cache resolves the relative entry path. */
async function inWorkspace<T>(fn: () => Promise<T>): Promise<T> {
  const before = process.cwd();
  process.chdir(workspace());
  try {
    return await fn();
  } finally {
    process.chdir(before);
  }
}

/**
 * Whether the runner's ACTIONS_CACHE_MODE (none / read / write / write-only; unset or unknown allows
 * everything) lets this job write the cache, by the client's own rule: post skips making an entry
 * nobody may save.
 */
export const cacheWritable = (): boolean => isCacheWritable(getCacheMode());

/** Whether ACTIONS_CACHE_MODE lets this job read the cache, by the client's own rule. */
export const cacheReadable = (): boolean => isCacheReadable(getCacheMode());

/**
 * How long one download segment may take. The client's default is 10 minutes, and a download that
 * stalls mid-body is only ever ended by it: a job would sit that long before making the base
 * itself. Two minutes per segment is slow enough for any link a runner pulls a base over.
 * SEGMENT_DOWNLOAD_TIMEOUT_MINS, the client's own setting, still wins when set.
 */
function segmentTimeoutMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return env.SEGMENT_DOWNLOAD_TIMEOUT_MINS ? undefined : 2 * 60 * 1000;
}

export class ActionsCache implements RemoteCache {
  readonly name = 'Actions';

  /** Whether this job can reach the cache service at all (the runner sets its URL for node actions). */
  static available(): boolean {
    return cache.isFeatureAvailable();
  }

  /**
   * The entry decoded as it downloads, with nothing written but the base (see
   * actions-cache-stream.ts). Runners where that does not apply (the v1 service, no zstd, a cache
   * mode without reads, BASECOW_ACTIONS_CACHE_RESTORE=client) restore through restoreCache.
   */
  async stream(key: string, options: Pick<RestoreOptions, 'signal' | 'onProgress'> = {}): Promise<StreamLookup> {
    const how = await streamingMethod(cacheReadable());
    if ('why' in how) {
      core.info(`Restoring through the cache client's restoreCache: ${how.why}`);
      return { kind: 'unsupported', why: how.why };
    }
    return streamActionsCacheEntry(cacheKeyFor(key), entryRelativePath(key), how.method, options);
  }

  /** Through restoreCache: the archive downloaded whole to RUNNER_TEMP, then unpacked by the client's tar. */
  async restore(key: string, options: RestoreOptions = {}): Promise<RemoteEntry | undefined> {
    const relative = entryRelativePath(key);
    const path = join(workspace(), relative);
    const dispose = async (): Promise<void> => {
      await rm(path, { force: true });
      // Only when empty: another step's entry may still be there.
      await rmdir(join(workspace(), ENTRY_DIR)).catch(() => undefined);
    };
    // The client reports a service it cannot reach, or a download that fails, in its own log lines
    // and returns no key: that is a miss here, and the store makes the base from its source.
    const runnerTemp = process.env.RUNNER_TEMP;
    const follower = options.onArchive && runnerTemp ? new ArchiveFollower(runnerTemp, relative) : undefined;
    if (follower) follower.watch(options.onArchive!);
    let hit: string | undefined;
    try {
      hit = await inWorkspace(() => cache.restoreCache([relative], cacheKeyFor(key), [], { segmentTimeoutInMs: segmentTimeoutMs() }));
    } finally {
      follower?.restoreEnded();
    }
    if (!hit) {
      await dispose();
      return undefined;
    }
    return { path, dispose };
  }
}

export type SaveOutcome = { saved: true; cacheId: number } | { saved: false; reason: string };

/**
 * Saves an entry file already written at the workspace path for `key`. The client returns -1, with
 * only an info line, when another job holds the key (409, which is normal when two runners missed
 * at once) or the upload failed; it throws for a missing path or a missing runtime token.
 */
export async function saveEntry(key: string): Promise<SaveOutcome> {
  const cacheId = await inWorkspace(() => cache.saveCache([entryRelativePath(key)], cacheKeyFor(key)));
  if (cacheId === -1) {
    return { saved: false, reason: 'the cache service refused or failed the upload (another job may have saved this key first, or the cache is full; the lines above say which)' };
  }
  return { saved: true, cacheId };
}

export async function entryPathFor(key: string): Promise<string> {
  const path = join(workspace(), entryRelativePath(key));
  await mkdir(join(workspace(), ENTRY_DIR), { recursive: true });
  return path;
}
