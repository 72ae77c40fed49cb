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

/**
 * An entry's bytes as they download, with no file in between. The bytes are the entry file's
 * (src/core/entry), in order; the store checks them whole by the raw digest the entry records.
 */
export interface StreamedEntry {
  bytes: AsyncIterable<Buffer>;
  /** Ends the transfer (idempotent): the store calls it whatever the outcome. */
  cancel(): void;
}

/** How a remote cache answered a request to stream an entry. */
export type StreamLookup =
  | { kind: 'entry'; entry: StreamedEntry }
  | { kind: 'absent' }
  /** This cache cannot stream here (and says why): the store restores through restore(). */
  | { kind: 'unsupported'; why: string };

/**
 * The transfer of a streamed entry failed (a dropped connection, a stall, an HTTP error), as
 * opposed to bytes that arrived and are not a usable entry: the store then restores the entry the
 * other way, through restore(), since the entry itself may be fine.
 */
export class RemoteTransferError extends Error {
  override readonly name = 'RemoteTransferError';
}

export interface RemoteCache {
  /** Names the cache in messages and results ('actions'). */
  readonly name: string;
  restore(key: string, options: RestoreOptions): Promise<RemoteEntry | undefined>;
  /**
   * Optional: the entry as a stream of bytes. Tried before restore(); throws, as restore() does,
   * when the service cannot be asked; an error from the bytes of an entry it found is a
   * RemoteTransferError when the transfer failed.
   */
  stream?(key: string, options: Pick<RestoreOptions, 'signal' | 'onProgress'>): Promise<StreamLookup>;
}
