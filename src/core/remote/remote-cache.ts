import type { GrowingArchive } from '../entry/archive-feed.js';

/**
 * A cache shared between machines (L2). The store only restores through it, under the key's lock
 * after the local store missed; saving is the front end's business after the job (it decides
 * whether this job made the base). An adapter throws on any service failure: the store turns that
 * into one warning and builds the base itself, so a remote cache can slow a job but never fail it.
 */
export interface RemoteEntry {
  /** The restored entry file (see src/core/entry): a multi-frame zstd stream of the raw base. */
  path: string;
  /** Removes the restored file and whatever the adapter downloaded with it. */
  dispose(): Promise<void>;
}

export interface RestoreOptions {
  signal?: AbortSignal;
  onProgress?: (bytes: number, total: number) => void;
  /**
   * Called at most once, while the restore goes on, with the archive the entry is being downloaded
   * in, for the store to decode the entry as it lands. What it decodes is checked against the entry
   * the restore returns, and dropped (the entry file decoded instead) if anything differs.
   */
  onArchive?: (archive: GrowingArchive) => void;
}

export interface RemoteCache {
  /** Names the cache in messages and results ('actions'). */
  readonly name: string;
  restore(key: string, options: RestoreOptions): Promise<RemoteEntry | undefined>;
}
