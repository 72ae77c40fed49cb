import { rm } from 'node:fs/promises';
import { ArchiveFeed, type GrowingArchive } from '../entry/archive-feed.js';
import { sameFrames, type EntryIndex } from '../entry/read.js';
import { extractEntryStream, type ExtractResult } from '../extract/index.js';

export interface EntryWhileRestoringOptions {
  maxWorkers?: number;
  durable: boolean;
  signal?: AbortSignal;
  /** Whether a base of this apparent size may be written now (the store's free space). */
  fits: (apparentSize: number) => Promise<boolean>;
}

/** What decoding during the restore came to: the base, or why it was not used. */
export type EarlyOutcome = { extracted: ExtractResult } | { dropped: string };

/**
 * An L2 entry decoded while the remote cache is still restoring it: the cache hands over the
 * entry's bytes as they arrive (RestoreOptions.onArchive), and the decoding threads write the
 * base into the temp file meanwhile. The base is used only if the entry file the restore leaves has
 * the same index (frames, sizes, raw digest) as the bytes decoded, whose content had that digest;
 * otherwise it is removed and the entry file is decoded as if nothing had been tried. Nothing
 * here can fail a restore.
 */
export class EntryWhileRestoring {
  private run?: Promise<{ result: ExtractResult; index: EntryIndex }>;
  private readonly stop = new AbortController();

  constructor(
    private readonly tempImage: string,
    private readonly source: string,
    private readonly options: EntryWhileRestoringOptions,
  ) {}

  /** RestoreOptions.onArchive. */
  readonly take = (archive: GrowingArchive): void => {
    if (this.run) return;
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, this.stop.signal]) : this.stop.signal;
    let feed: ArchiveFeed;
    try {
      feed = new ArchiveFeed(archive);
    } catch (error) {
      // Gone before it could be opened (a small download, done at once): the restored file is decoded.
      this.run = Promise.reject(error);
      this.run.catch(() => undefined);
      return;
    }
    this.run = extractEntryStream(feed, this.source, this.tempImage, { maxWorkers: this.options.maxWorkers, durable: this.options.durable, signal, fits: this.options.fits });
    // Settled by outcome() or drop(); a failure meanwhile is not unhandled.
    this.run.catch(() => undefined);
  };

  get started(): boolean {
    return this.run !== undefined;
  }

  /** After a hit: the decoded base if it is the one `index` describes; the temp file is removed otherwise. */
  async outcome(index: EntryIndex): Promise<EarlyOutcome> {
    if (!this.run) return { dropped: 'the restore gave no bytes to decode before it ended' };
    try {
      const { result, index: decoded } = await this.run;
      const same = decoded.rawDigest === index.rawDigest && decoded.bytes === index.bytes && decoded.apparentSize === index.apparentSize && sameFrames(decoded.frames, index.frames);
      if (same) return { extracted: result };
      await rm(this.tempImage, { force: true });
      return { dropped: 'the bytes decoded during the restore are not the entry the restore left' };
    } catch (error) {
      if (this.options.signal?.aborted) throw this.options.signal.reason;
      await rm(this.tempImage, { force: true });
      return { dropped: (error as Error).message };
    }
  }

  /** After a miss or a failure: stops the decoding and removes what it wrote. */
  async drop(): Promise<void> {
    if (!this.run) return;
    this.stop.abort(new Error('the restore did not give an entry'));
    await this.run.catch(() => undefined);
    await rm(this.tempImage, { force: true });
  }
}
