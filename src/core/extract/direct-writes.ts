import { closeSync, constants, openSync, write } from 'node:fs';
import { promisify } from 'node:util';
import { errnoCode } from '../errors.js';
import { PageCacheWrites } from './page-cache-writes.js';

/**
 * Direct I/O needs memory address, file offset and length aligned to the device's logical block;
 * a page covers both 512-byte and 4 KiB sector disks.
 */
const DIRECT_ALIGN = 4096;
/**
 * Contiguous data is gathered up to this much per write: large enough that per-request overhead
 * does not show (1, 2 and 4 MiB were alike within the noise on the bench image), small enough that
 * the next stage starts filling soon.
 */
const STAGE_SIZE = 1024 * 1024;
const WASM_PAGE = 64 * 1024;
const writeAsync = promisify(write);

// Node has no aligned allocation; WebAssembly memory is mapped with the page allocator, so it
// starts on a page boundary. @types/node does not declare WebAssembly.
declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer } };

function pageAlignedBuffer(size: number): Buffer | undefined {
  try {
    const pages = size / WASM_PAGE;
    return Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer);
  } catch {
    // Address space limits (ulimit -v) can refuse the mapping; the page cache path still works.
    return undefined;
  }
}

/** Stages filled in turn: one fills while the other's write is on its way to the disk. */
const STAGE_COUNT = 2;

interface Stage {
  buf: Buffer;
  /** The stage's write in flight; it never rejects (failures land in DirectWrites.failure). */
  writing?: Promise<void>;
}

/**
 * Writes data with O_DIRECT, past the page cache. Why: a base is written once and then read by
 * VMs through their own caches, so copying 1+ GiB into the page cache costs CPU on the core the
 * decoder shares (and on VMs whose fresh memory faults in slowly, most of the write time), and
 * flushing it for durability costs journal commits while the decoder runs. A direct write has
 * reached the device when it returns; the final fsync still flushes the device's write cache and
 * commits the metadata, and stays what makes the base durable.
 *
 * Data is copied into aligned staging buffers, positioned so that memory and file offsets agree
 * modulo DIRECT_ALIGN. The aligned middle of each staged run goes out directly, on a pool thread,
 * while the next stage fills: a disk that waited for this thread to scan and copy between writes
 * would sit idle for part of every request. A partial block at either end of a run goes through the
 * page cache (`edges`), which the same final fsync covers. If the kernel refuses a direct write
 * (EINVAL: an alignment it wants that we do not meet), the rest of the file goes through the page
 * cache.
 */
export class DirectWrites {
  /** Bytes written with O_DIRECT. */
  bytes = 0;
  private readonly stages: Stage[];
  private current = 0;
  private refused = false;
  private failure: unknown;
  /** File offset of the first staged byte. */
  private stagedAt = 0;
  /** Where in the current stage the first staged byte sits: stagedAt modulo DIRECT_ALIGN. */
  private stageOffset = 0;
  private stagedBytes = 0;

  private constructor(private readonly directFd: number, memory: Buffer, private readonly edges: PageCacheWrites) {
    this.stages = Array.from({ length: STAGE_COUNT }, (_, i) => ({ buf: memory.subarray(i * STAGE_SIZE, (i + 1) * STAGE_SIZE) }));
  }

  /**
   * A second descriptor with O_DIRECT on the file that `edges` writes, or undefined where the
   * filesystem or the process cannot do direct I/O (then the page cache does it all).
   */
  static open(path: string, edges: PageCacheWrites): DirectWrites | undefined {
    const memory = pageAlignedBuffer(STAGE_COUNT * STAGE_SIZE);
    if (!memory) return undefined;
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_DIRECT);
    } catch {
      return undefined;
    }
    return new DirectWrites(fd, memory, edges);
  }

  /** Takes buf[start, end) for file offset `position`; buf may be reused once this resolves. */
  async write(buf: Buffer, start: number, end: number, position: number): Promise<void> {
    this.throwIfFailed();
    if (this.refused) return this.edges.write(buf, start, end, position);
    while (start < end) {
      const stageFull = this.stageOffset + this.stagedBytes === STAGE_SIZE;
      if (this.stagedBytes > 0 && (stageFull || position !== this.stagedAt + this.stagedBytes)) await this.flush();
      if (this.stagedBytes === 0) {
        this.stagedAt = position;
        this.stageOffset = position % DIRECT_ALIGN;
      }
      const take = Math.min(end - start, STAGE_SIZE - this.stageOffset - this.stagedBytes);
      buf.copy(this.stages[this.current].buf, this.stageOffset + this.stagedBytes, start, start + take);
      this.stagedBytes += take;
      start += take;
      position += take;
    }
  }

  /** Writes everything staged and waits for it; call before the final fsync. */
  async finish(): Promise<void> {
    if (this.stagedBytes > 0) await this.flush();
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for the writes in flight, whatever their outcome. */
  async settle(): Promise<void> {
    await Promise.all(this.stages.map((stage) => stage.writing));
  }

  /** Closes the descriptor, once; settle() first, so that no write in flight outlives it. */
  close(): void {
    closeSync(this.directFd);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Sends the staged run on its way: its aligned middle directly, a partial first or last block
   * through the page cache (a full stage ends aligned, so only a run's true ends do). Then waits
   * until the next stage's previous write is done, so that it is free to fill.
   */
  private async flush(): Promise<void> {
    const stage = this.stages[this.current];
    const from = this.stageOffset;
    const to = from + this.stagedBytes;
    const head = from === 0 ? 0 : Math.min(to, DIRECT_ALIGN);
    const tail = Math.max(head, to - (to % DIRECT_ALIGN));
    const fileOffset = (at: number): number => this.stagedAt + (at - from);
    if (head > from || to > tail) {
      // A page cache write would queue for the inode lock behind a direct write in flight (ext4
      // holds it through an extending direct write) and block the event loop meanwhile.
      await this.settle();
      this.throwIfFailed();
      if (head > from) this.edges.write(stage.buf, from, head, fileOffset(from));
      if (to > tail) this.edges.write(stage.buf, tail, to, fileOffset(tail));
    }
    if (tail > head) {
      stage.writing = this.writeDirect(stage.buf, head, tail, fileOffset(head)).catch((error: unknown) => {
        this.failure ??= error;
      });
    }
    this.stagedBytes = 0;
    this.current = (this.current + 1) % STAGE_COUNT;
    await this.stages[this.current].writing;
    this.throwIfFailed();
  }

  private async writeDirect(buf: Buffer, start: number, end: number, position: number): Promise<void> {
    let done = 0;
    while (start + done < end && !this.refused) {
      let written: number;
      try {
        ({ bytesWritten: written } = await writeAsync(this.directFd, buf, start + done, end - start - done, position + done));
      } catch (error) {
        if (errnoCode(error) !== 'EINVAL') throw error;
        this.refused = true;
        break;
      }
      if (written === 0) throw new Error(`direct write at offset ${position + done} made no progress`);
      done += written;
      this.bytes += written;
      // A short write that ends off alignment cannot be continued directly.
      if (written % DIRECT_ALIGN !== 0) break;
    }
    // Rare (a refused or short direct write): a synchronous write of at most one stage.
    if (start + done < end) this.edges.write(buf, start + done, end, position + done);
  }
}
