import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { GrowingArchive } from '../core/entry/archive-feed.js';

/** What @actions/cache names the archive it downloads when it has zstd (gzip, without: cache.tgz). */
const ZSTD_ARCHIVE = 'cache.tzst';
/**
 * The client's concurrent download (the one it takes for the service's blob URLs) fetches 4 MiB
 * ranges and writes each with one positional write, in the order they arrive; its plain download
 * writes in order.
 */
const DOWNLOAD_SEGMENT = 4 * 1024 * 1024;
const POLL_MS = 10;

/**
 * Follows the archive @actions/cache downloads while restoreCache runs, and hands on the entry's
 * bytes as they land, so that the store decodes the entry during the download instead of after the
 * client's unpacking (on runners where the entry is not streamed: see actions-cache-stream.ts).
 * The client downloads the whole archive to RUNNER_TEMP/<uuid>/cache.tzst (a zstd-compressed tar
 * holding the entry) before it unpacks it; this reads that file as it grows, decompresses it and
 * takes the entry's member out of the tar. It rests on those internals for speed only: the entry's
 * raw digest and the comparison with the entry file the restore leaves decide whether what was
 * decoded is used.
 */
export class ArchiveFollower {
  private readonly before: Set<string>;
  private done = false;
  private timer?: NodeJS.Timeout;
  private ended!: () => void;
  private readonly complete = new Promise<void>((resolve) => (this.ended = resolve));

  constructor(
    private readonly tempDir: string,
    private readonly member: string,
  ) {
    this.before = new Set(existsSync(tempDir) ? readdirSync(tempDir) : []);
  }

  /** Looks for the archive until the restore ends; `onArchive` gets it once it appears. */
  watch(onArchive: (archive: GrowingArchive) => void): void {
    const look = (): void => {
      this.timer = undefined;
      if (this.done) return;
      const archive = this.findArchive();
      if (archive === null) return;
      if (archive) {
        onArchive({ path: archive, member: this.member, segmentBytes: DOWNLOAD_SEGMENT, complete: this.complete });
        return;
      }
      this.timer = setTimeout(look, POLL_MS);
    };
    look();
  }

  /** The restore has settled: the archive, if any, is whole (or gone), and no new one is looked for. */
  restoreEnded(): void {
    this.done = true;
    this.ended();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The new archive's path; undefined while none is there; null for one that cannot be followed (gzip). */
  private findArchive(): string | undefined | null {
    let names: string[];
    try {
      names = readdirSync(this.tempDir);
    } catch {
      return undefined;
    }
    for (const name of names) {
      if (this.before.has(name)) continue;
      if (existsSync(join(this.tempDir, name, ZSTD_ARCHIVE))) return join(this.tempDir, name, ZSTD_ARCHIVE);
      if (existsSync(join(this.tempDir, name, 'cache.tgz'))) return null;
    }
    return undefined;
  }
}
