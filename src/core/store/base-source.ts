import type { SourceFormat } from '../extract/index.js';
import type { WarningSink } from '../warnings.js';

/** What a long step reports: bytes (or milliseconds for 'wait') done out of a total, 0 when unknown. */
export interface Progress {
  phase: 'hash' | 'wait' | 'restore' | 'download' | 'build' | 'extract';
  done: number;
  total: number;
}

/** Where a base came from: the local store, the remote cache, or made now from its source. */
export type BaseOrigin = 'store' | 'remote' | 'extracted' | 'downloaded' | 'built';

export interface SourceContext {
  /** A directory on the store's filesystem for temporary files (downloads, build outputs). */
  tmpDir: string;
  /** Where a source may remember digests of files it hashed (see source-digest.ts). */
  digestsDir: string;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  onWarning?: WarningSink;
  /** Hash on a thread of its own: this one is extracting the same file meanwhile. */
  hashOffThread?: boolean;
}

/** What the sidecar records about the source a base was made from. */
export interface SourceRecord {
  /** A local path, a URL, or the build command. */
  path: string;
  kind: 'image' | 'url' | 'build';
  /** The source's content digest when the key is one ('sha256-…'), else null. */
  digest: string | null;
  format: SourceFormat | null;
  member: string | null;
  bytes: number;
}

/** A source made available as a local file, under the key's lock. */
export interface MaterializedSource {
  /** A file extractToRaw reads (any supported format). */
  path: string;
  origin: 'extracted' | 'downloaded' | 'built';
  member?: string;
  /** Throws when what was read is no longer what was keyed (a local image changed meanwhile). */
  checkUnchanged?(): Promise<void>;
  /** Removes what materializing made (a download, a build output); a user's own image stays. */
  dispose(): Promise<void>;
  record: Omit<SourceRecord, 'format' | 'member'>;
}

/**
 * One kind of source (a local image, a URL with its sha256, a build command). The store asks for
 * the key first, outside any lock, so a base already in the store or the remote cache never
 * costs a download or a build; it materializes the source only under the key's lock, after both
 * caches missed, so a download or a build runs at most once per key on a machine.
 */
export interface BaseSource {
  /** Names the source in messages: a file, a URL, 'build command'. */
  readonly label: string;
  key(context: SourceContext): Promise<{ key: string; memoized: boolean }>;
  materialize(context: SourceContext): Promise<MaterializedSource>;
}
