import { closeSync, fsync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { DirectWrites } from './direct-writes.js';
import { PageCacheWrites } from './page-cache-writes.js';
import { isZero } from '../zero-blocks.js';
import { RawDigest, computeRawDigest } from '../raw-digest.js';

/** Filesystem block size that decides what becomes a hole: an all-zero aligned block is never written. */
const HOLE_BLOCK = 4096;
const fsyncAsync = promisify(fsync);
/** Files shorter than this are written through the page cache even where direct I/O works (see setLength). */
const DIRECT_MIN_LENGTH = 1024 * 1024;

export interface SparseWriterOptions {
  /** Stops the extraction at the next write; see SparseWriter.create. */
  signal?: AbortSignal;
  /** Write past the page cache where the filesystem allows it (the default); see DirectWrites. */
  directIo?: boolean;
  /**
   * finish() returns once the file is on the disk (the default). Off: no fsync, nothing flushed
   * here, and data goes directly or through the page cache, whichever has proven cheaper (see
   * SpillPolicy): the kernel writes the page cache's part back in its own time.
   */
  durable?: boolean;
}

/**
 * Writes a freshly created file from chunks at given offsets and leaves every all-zero,
 * block-aligned region as a hole. Because the file starts empty, bytes that are never written read
 * back as zero, so skipping zero blocks changes allocation, never content.
 *
 * A buffer passed to write() is reusable once the call resolves. A call blocks the event loop for
 * at most a page cache write of one chunk or one device write, far below the lock's stale period.
 */
export class SparseWriter {
  private closed = false;
  private readonly pageCache: PageCacheWrites;
  private direct: DirectWrites | undefined;
  private wroteData = false;
  /** Hashes the data as it passes; dropped if writes come out of order (then the file is hashed). */
  private digest: RawDigest | undefined = new RawDigest();
  /** The raw digest of the finished file (see raw-digest.ts); set by finish(). */
  rawDigest = '';

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly signal: AbortSignal | undefined,
    directIo: boolean,
    private readonly durable: boolean,
  ) {
    this.pageCache = new PageCacheWrites(fd, { flushAsWritten: durable });
    this.direct = directIo ? DirectWrites.open(path, this.pageCache, { spill: !durable }) : undefined;
  }

  /**
   * Creates `path` exclusively (it must not exist), mode 0600 until the caller publishes it. Every
   * format's data passes through write(), so that is where a fired `signal` stops the extraction.
   */
  static async create(path: string, options: SparseWriterOptions = {}): Promise<SparseWriter> {
    return new SparseWriter(path, openSync(path, 'wx', 0o600), options.signal, options.directIo ?? true, options.durable ?? true);
  }

  /** Data bytes written, by way: past the page cache, and through it. */
  get writtenBytes(): { direct: number; pageCache: number } {
    return { direct: this.direct?.bytes ?? 0, pageCache: this.pageCache.bytes };
  }

  async write(buf: Buffer, position: number): Promise<void> {
    this.signal?.throwIfAborted();
    this.wroteData = true;
    if (this.digest?.accepts(position)) this.digest.update(buf, position);
    else this.digest = undefined;
    let runStart = -1;
    let at = 0;
    while (at < buf.length) {
      // Pieces end on absolute block boundaries so that holes line up with filesystem blocks.
      const next = Math.min(buf.length, at + HOLE_BLOCK - ((position + at) % HOLE_BLOCK));
      if (isZero(buf, at, next)) {
        if (runStart >= 0) await this.writeRun(buf, runStart, at, position + runStart);
        runStart = -1;
      } else if (runStart < 0) {
        runStart = at;
      }
      at = next;
    }
    if (runStart >= 0) await this.writeRun(buf, runStart, buf.length, position + runStart);
  }

  /**
   * Sets the file's length before its data arrives, for callers that know it. ext4 places the
   * blocks of a file shorter than 16 blocks from a per-CPU pool rather than next to the blocks it
   * already has, so direct writes that reach a still-short file from pool threads on different CPUs
   * can leave it in more extents than GNU tar's (and an extent block more on disk); a file that is
   * already long gets its blocks next to each other. A file that will stay short goes through the
   * page cache, whose writeback allocates it in one piece, as it does for GNU tar.
   */
  setLength(size: number): void {
    try {
      ftruncateSync(this.fd, size);
    } catch {
      // Only a hint: an impossible length (a broken archive's, say) fails later, where the
      // caller explains it, or at finish().
    }
    if (size < DIRECT_MIN_LENGTH && this.direct && !this.wroteData) {
      this.direct.close();
      this.direct = undefined;
    }
  }

  /** Sets the final length (trailing holes included) and, unless told otherwise, makes the file durable. */
  async finish(size: number): Promise<void> {
    await this.direct?.finish();
    await this.pageCache.settle();
    ftruncateSync(this.fd, size);
    // Off the event loop: flushing a multi-GiB file can take seconds.
    if (this.durable) await fsyncAsync(this.fd);
    this.close();
    // Every format writes in order today; reading the file back is the fallback that keeps it true.
    this.rawDigest = this.digest ? this.digest.finish(size) : await computeRawDigest(this.path, this.signal);
  }

  /** Closes and removes the partial file; never throws, because it runs on error paths. */
  async discard(): Promise<void> {
    await this.direct?.settle();
    await this.pageCache.settle().catch(() => undefined);
    try {
      this.close();
    } catch {
      // Already closed or never usable: removing the file is what matters.
    }
    try {
      unlinkSync(this.path);
    } catch {
      // Nothing to remove.
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.direct?.close();
    } finally {
      closeSync(this.fd);
    }
  }

  private async writeRun(buf: Buffer, start: number, end: number, position: number): Promise<void> {
    if (this.direct) await this.direct.write(buf, start, end, position);
    else this.pageCache.write(buf, start, end, position);
  }
}
