import { open, unlink, type FileHandle } from 'node:fs/promises';

/** Filesystem block size that decides what becomes a hole: an all-zero aligned block is never written. */
export const HOLE_BLOCK = 4096;
const ZERO_SPAN = 64 * 1024;
const ZEROS = Buffer.alloc(ZERO_SPAN);
/** Enough queued pwrite()s to keep the libuv pool busy while the caller produces the next chunk. */
const MAX_IN_FLIGHT = 8;

function isZero(buf: Buffer, start: number, end: number): boolean {
  for (let at = start; at < end; at += ZERO_SPAN) {
    const stop = Math.min(end, at + ZERO_SPAN);
    if (ZEROS.compare(buf, at, stop, 0, stop - at) !== 0) return false;
  }
  return true;
}

/**
 * Writes a freshly created file from chunks at given offsets and leaves every all-zero,
 * block-aligned region as a hole. Because the file starts empty, bytes that are never written read
 * back as zero, so skipping zero blocks changes allocation, never content.
 *
 * Ownership: a buffer handed to write() must not be modified afterwards; the write completes later.
 */
export class SparseWriter {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private closed = false;
  /** Bytes actually handed to the kernel (data, not holes). */
  dataBytes = 0;

  private constructor(readonly path: string, private readonly file: FileHandle) {}

  /** Creates `path` exclusively (it must not exist), mode 0600 until the caller publishes it. */
  static async create(path: string): Promise<SparseWriter> {
    return new SparseWriter(path, await open(path, 'wx', 0o600));
  }

  async write(buf: Buffer, position: number): Promise<void> {
    this.throwIfFailed();
    let runStart = -1;
    let at = 0;
    while (at < buf.length) {
      // Pieces end on absolute block boundaries so that holes line up with filesystem blocks.
      const next = Math.min(buf.length, at + HOLE_BLOCK - ((position + at) % HOLE_BLOCK));
      if (isZero(buf, at, next)) {
        if (runStart >= 0) await this.enqueue(buf, runStart, at, position + runStart);
        runStart = -1;
      } else if (runStart < 0) {
        runStart = at;
      }
      at = next;
    }
    if (runStart >= 0) await this.enqueue(buf, runStart, buf.length, position + runStart);
  }

  /** Waits for every write, sets the final length (trailing holes included) and makes it durable. */
  async finish(size: number): Promise<void> {
    await this.drain();
    this.throwIfFailed();
    await this.file.truncate(size);
    await this.file.sync();
    await this.close();
  }

  /** Closes and removes the partial file; never throws, because it runs on error paths. */
  async discard(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }

  private async enqueue(buf: Buffer, start: number, end: number, position: number): Promise<void> {
    while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const length = end - start;
    const op: Promise<void> = this.writeFully(buf, start, length, position).then(
      () => {
        this.dataBytes += length;
        this.inFlight.delete(op);
      },
      (error: unknown) => {
        this.failure ??= error;
        this.inFlight.delete(op);
      },
    );
    this.inFlight.add(op);
  }

  private async writeFully(buf: Buffer, start: number, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await this.file.write(buf, start + done, length - done, position + done);
      done += bytesWritten;
    }
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
