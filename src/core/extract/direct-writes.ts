import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import { PageCacheWrites } from './page-cache-writes.js';

/**
 * Direct I/O needs memory address, file offset and length aligned to the device's logical block;
 * a page covers both 512-byte and 4 KiB sector disks.
 */
export const DIRECT_ALIGN = 4096;
/**
 * Contiguous data is gathered up to this much per write. On the bench image, 1, 2 and 4 MiB were
 * alike within the noise; the smallest blocks the event loop least (about 1 ms per write).
 */
const STAGE_SIZE = 1024 * 1024;
const WASM_PAGE = 64 * 1024;

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

/**
 * Writes data with O_DIRECT, past the page cache. Why: a base is written once and then read by
 * VMs through their own caches, so copying 1+ GiB into the page cache costs CPU on the core the
 * decoder shares (and on VMs whose fresh memory faults in slowly, most of the write time), and
 * flushing it for durability costs journal commits while the decoder runs. A direct write is on the
 * device when it returns; the final fsync only commits metadata.
 *
 * Data is copied into one aligned staging buffer, positioned so that memory and file offsets agree
 * modulo DIRECT_ALIGN. The aligned middle of each staged run goes out directly; a partial block at
 * either end of a run goes through the page cache (`edges`), which the same final fsync covers.
 * If the kernel refuses a direct write (EINVAL: an alignment it wants that we do not meet), the
 * rest of the file goes through the page cache.
 */
export class DirectWrites {
  /** Bytes written with O_DIRECT. */
  bytes = 0;
  private stage: Buffer;
  private directFd: number | undefined;
  /** File offset of the first staged byte. */
  private stagedAt = 0;
  /** Where in `stage` the first staged byte sits: stagedAt modulo DIRECT_ALIGN. */
  private stageOffset = 0;
  private stagedBytes = 0;

  private constructor(directFd: number, stage: Buffer, readonly edges: PageCacheWrites) {
    this.directFd = directFd;
    this.stage = stage;
  }

  /**
   * A second descriptor with O_DIRECT on the file that `edges` writes, or undefined where the
   * filesystem or the process cannot do direct I/O (then the page cache does it all).
   */
  static open(path: string, edges: PageCacheWrites): DirectWrites | undefined {
    const stage = pageAlignedBuffer(STAGE_SIZE);
    if (!stage) return undefined;
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_DIRECT);
    } catch {
      return undefined;
    }
    return new DirectWrites(fd, stage, edges);
  }

  write(buf: Buffer, start: number, end: number, position: number): void {
    if (this.directFd === undefined) return this.edges.write(buf, start, end, position);
    while (start < end) {
      const stageFull = this.stageOffset + this.stagedBytes === this.stage.length;
      if (this.stagedBytes > 0 && (stageFull || position !== this.stagedAt + this.stagedBytes)) this.flush();
      if (this.stagedBytes === 0) {
        this.stagedAt = position;
        this.stageOffset = position % DIRECT_ALIGN;
      }
      const take = Math.min(end - start, this.stage.length - this.stageOffset - this.stagedBytes);
      buf.copy(this.stage, this.stageOffset + this.stagedBytes, start, start + take);
      this.stagedBytes += take;
      start += take;
      position += take;
    }
  }

  /** Writes everything staged; call before the final fsync. */
  finish(): void {
    if (this.stagedBytes > 0) this.flush();
  }

  close(): void {
    if (this.directFd === undefined) return;
    const fd = this.directFd;
    this.directFd = undefined;
    closeSync(fd);
  }

  /**
   * Writes the staged run: its aligned middle directly, a partial first or last block through the
   * page cache. A full stage ends aligned, so only a run's true ends take the page cache path.
   */
  private flush(): void {
    const from = this.stageOffset;
    const to = from + this.stagedBytes;
    const head = from === 0 ? 0 : Math.min(to, DIRECT_ALIGN);
    const tail = Math.max(head, to - (to % DIRECT_ALIGN));
    const fileOffset = (at: number): number => this.stagedAt + (at - from);
    if (head > from) this.edges.write(this.stage, from, head, fileOffset(from));
    if (tail > head) this.writeDirect(head, tail, fileOffset(head));
    if (to > tail) this.edges.write(this.stage, tail, to, fileOffset(tail));
    this.stagedBytes = 0;
  }

  private writeDirect(start: number, end: number, position: number): void {
    let done = 0;
    while (start + done < end) {
      let written: number;
      try {
        written = writeSync(this.directFd!, this.stage, start + done, end - start - done, position + done);
      } catch (error) {
        if (errnoCode(error) !== 'EINVAL') throw error;
        this.close();
        break;
      }
      done += written;
      this.bytes += written;
      // A short write that ends off alignment cannot be continued directly.
      if (written % DIRECT_ALIGN !== 0) break;
    }
    if (start + done < end) this.edges.write(this.stage, start + done, end, position + done);
  }
}
