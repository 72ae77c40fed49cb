import { closeSync, constants, openSync, read, write } from 'node:fs';
import { promisify } from 'node:util';
import { errnoCode } from '../../errors.js';
import { PageCacheWrites } from './page-cache-writes.js';
import { SpillPolicy, settlesWithin } from './spill-policy.js';
import { WASM_PAGE, wasmMemory } from '../wasm-memory.js';

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
const writeAsync = promisify(write);
const readAsync = promisify(read);

function pageAlignedBuffer(size: number): Buffer | undefined {
  try {
    return Buffer.from(wasmMemory(size).buffer);
  } catch {
    // Address space limits (ulimit -v) can refuse the mapping; the page cache path still works.
    return undefined;
  }
}

/** Stages filled in turn: one fills while the other's write is on its way to the disk. */
const STAGE_COUNT = 2;
/** The stages, and one block after them for reading back (WebAssembly memory comes in 64 KiB pages). */
const MEMORY_SIZE = STAGE_COUNT * STAGE_SIZE + WASM_PAGE;

interface Stage {
  buf: Buffer;
  /** The stage's write in flight; it never rejects (failures land in DirectWrites.failure). */
  writing?: Promise<void>;
  /** The file's blocks that write covers, filling included: [start, end). */
  blocks?: [number, number];
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
 * modulo DIRECT_ALIGN. Each staged run goes out directly, on a pool thread, while the next stage
 * fills: a disk that waited for this thread to scan and copy between writes would sit idle for
 * part of every request. A run that starts or ends inside a block is written with the whole block,
 * filled out with what the file holds there: zeros where no data reached yet (nothing to read),
 * else the block read back directly. So each run is one write and one allocation. Writing partial blocks through the page cache instead leaves their allocation to
 * writeback, after the direct writes around them took the neighbouring disk blocks: runs that end
 * mid-block (tar's 512-byte sparse regions) then split into extra extents, and the file takes more
 * space than GNU tar's. If the kernel refuses direct I/O (EINVAL: an alignment it wants that we do
 * not meet), the rest of the file goes through the page cache (`fallback`), which the same final
 * fsync covers.
 *
 * With `spills` (a file that may reach the disk after it is published), data goes through the page
 * cache where copies have proven cheap (see SpillPolicy.prefersCopy), and otherwise directly, but a
 * staged run that finds the other stage's write still on its way may be copied instead of waiting,
 * and one now and then is, to measure a copy again. Never while a write in flight covers one of the
 * run's blocks: its filling could then land over the copy.
 */
export class DirectWrites {
  /** Data bytes written with O_DIRECT (not counting the filling around runs). */
  bytes = 0;
  private readonly stages: Stage[];
  /** One aligned block, for reading back what the file holds around a run. */
  private readonly block: Buffer;
  private current = 0;
  private refused = false;
  private failure: unknown;
  /** End of the furthest data sent to the file so far: beyond it, the file holds only zeros. */
  private dataEnd = 0;
  /** File offset of the first staged byte. */
  private stagedAt = 0;
  /** Where in the current stage the first staged byte sits: stagedAt modulo DIRECT_ALIGN. */
  private stageOffset = 0;
  private stagedBytes = 0;

  private constructor(
    private readonly directFd: number,
    memory: Buffer,
    private readonly fallback: PageCacheWrites,
    private readonly spills: SpillPolicy | undefined,
  ) {
    this.stages = Array.from({ length: STAGE_COUNT }, (_, i) => ({ buf: memory.subarray(i * STAGE_SIZE, (i + 1) * STAGE_SIZE) }));
    this.block = memory.subarray(STAGE_COUNT * STAGE_SIZE, STAGE_COUNT * STAGE_SIZE + DIRECT_ALIGN);
  }

  /**
   * A second descriptor with O_DIRECT on the file that `fallback` writes, or undefined where the
   * filesystem or the process cannot do direct I/O (then the page cache does it all).
   */
  static open(path: string, fallback: PageCacheWrites, options: { spill?: boolean } = {}): DirectWrites | undefined {
    const memory = pageAlignedBuffer(MEMORY_SIZE);
    if (!memory) return undefined;
    let fd: number;
    try {
      // Read and write: a run is filled out to whole blocks with what the file holds around it.
      fd = openSync(path, constants.O_RDWR | constants.O_DIRECT);
    } catch {
      return undefined;
    }
    return new DirectWrites(fd, memory, fallback, options.spill ? new SpillPolicy() : undefined);
  }

  /** Takes buf[start, end) for file offset `position`; buf may be reused once this resolves. */
  async write(buf: Buffer, start: number, end: number, position: number): Promise<void> {
    this.throwIfFailed();
    if (this.refused) {
      await this.writeThroughPageCache(buf, start, end, position);
      return;
    }
    // Where a copy is the cheaper way, what is staged is copied, and the data goes straight from
    // the caller's buffer.
    if (this.spills?.prefersCopy()) {
      if (this.stagedBytes > 0) {
        const runAt = this.stagedAt;
        const staged = this.stagedBytes;
        this.stagedBytes = 0;
        await this.settleOverlapping(runAt, runAt + staged);
        this.copy(this.stages[this.current].buf, this.stageOffset, this.stageOffset + staged, runAt);
      }
      await this.settleOverlapping(position, position + (end - start));
      this.copy(buf, start, end, position);
      return;
    }
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
   * Sends the staged run on its way as one write of whole blocks: a partial block at either end
   * (a full stage ends aligned, so only a run's true ends are partial) is filled out with what the
   * file holds around the run. Then waits until the next stage's previous write is done, so that
   * it is free to fill.
   */
  private async flush(): Promise<void> {
    const stage = this.stages[this.current];
    const from = this.stageOffset;
    const to = from + this.stagedBytes;
    const blocksEnd = Math.ceil(to / DIRECT_ALIGN) * DIRECT_ALIGN;
    const runAt = this.stagedAt;
    const runEnd = runAt + this.stagedBytes;
    if (await this.copyInstead(runAt, runEnd)) {
      this.stagedBytes = 0;
      this.copy(stage.buf, from, to, runAt);
      return;
    }
    if (from > 0 && !this.refused) await this.fillAround(stage.buf, 0, from, runAt - from);
    if (blocksEnd > to && !this.refused) await this.fillAround(stage.buf, to, blocksEnd, runEnd);
    this.stagedBytes = 0;
    if (this.refused) {
      await this.writeThroughPageCache(stage.buf, from, to, runAt);
      return;
    }
    this.dataEnd = Math.max(this.dataEnd, runEnd);
    stage.blocks = [runAt - from, runAt - from + blocksEnd];
    stage.writing = this.writeDirect(stage.buf, from, to, blocksEnd, runAt - from).then(
      (direct) => {
        this.bytes += direct;
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    this.current = (this.current + 1) % STAGE_COUNT;
    await this.stages[this.current].writing;
    this.throwIfFailed();
  }

  /**
   * Whether the staged run [runAt, runEnd) goes through the page cache: because a copy is due to
   * measure its cost again, or because the disk is behind (the other stage's write is still on its
   * way after as long as the copy would take). Never while that write covers one of the run's blocks.
   */
  private async copyInstead(runAt: number, runEnd: number): Promise<boolean> {
    if (!this.spills || this.refused) return false;
    const other = this.stages[(this.current + 1) % STAGE_COUNT];
    if (other.blocks && runAt < other.blocks[1] && runEnd > other.blocks[0]) return false;
    if (this.spills.sampleDue()) return true;
    if (!other.writing) return false;
    return !(await settlesWithin(other.writing, this.spills.patienceMs(runEnd - runAt)));
  }

  /** Waits for the direct writes in flight that cover a block of [from, to): their filling could land over a copy. */
  private async settleOverlapping(from: number, to: number): Promise<void> {
    for (const stage of this.stages) {
      if (stage.blocks && from < stage.blocks[1] && to > stage.blocks[0]) await stage.writing;
    }
    this.throwIfFailed();
  }

  /** Copies buf[start, end) to file offset `position` through the page cache, timing the copy for the policy. */
  private copy(buf: Buffer, start: number, end: number, position: number): void {
    this.spills!.timeCopy(end - start, () => this.fallback.write(buf, start, end, position));
    this.dataEnd = Math.max(this.dataEnd, position + (end - start));
  }

  /**
   * Puts into buf[start, end) what the file holds at `position` and on (all within one block):
   * zeros when no data was written that far yet, else the block read back directly, once every
   * write in flight has landed.
   */
  private async fillAround(buf: Buffer, start: number, end: number, position: number): Promise<void> {
    if (position >= this.dataEnd) {
      buf.fill(0, start, end);
      return;
    }
    await this.settle();
    this.throwIfFailed();
    const blockAt = position - (position % DIRECT_ALIGN);
    let bytesRead: number;
    try {
      ({ bytesRead } = await readAsync(this.directFd, this.block, 0, DIRECT_ALIGN, blockAt));
    } catch (error) {
      if (errnoCode(error) !== 'EINVAL') throw error;
      this.refused = true;
      return;
    }
    this.block.fill(0, bytesRead);
    this.block.copy(buf, start, position - blockAt, position - blockAt + (end - start));
  }

  /**
   * Past a refusal, data goes through the page cache as it comes, without filling; but only once
   * the direct writes in flight have landed, or one of them could put its filling over it.
   */
  private async writeThroughPageCache(buf: Buffer, start: number, end: number, position: number): Promise<void> {
    await this.settle();
    this.throwIfFailed();
    this.fallback.write(buf, start, end, position);
  }

  /**
   * Writes the whole blocks buf[0, blocksEnd) at file offset `at`, of which buf[from, to) is data
   * and the rest filling. Returns how many data bytes went out directly. What a refused or short
   * write leaves goes through the page cache, data only: the filling is what the file holds there
   * already, and writing it again could cover data that a later write has put there meanwhile.
   */
  private async writeDirect(buf: Buffer, from: number, to: number, blocksEnd: number, at: number): Promise<number> {
    let done = 0;
    while (done < blocksEnd && !this.refused) {
      let written: number;
      try {
        ({ bytesWritten: written } = await writeAsync(this.directFd, buf, done, blocksEnd - done, at + done));
      } catch (error) {
        if (errnoCode(error) !== 'EINVAL') throw error;
        this.refused = true;
        break;
      }
      if (written === 0) throw new Error(`direct write at offset ${at + done} made no progress`);
      done += written;
      // A short write that ends off alignment cannot be continued directly.
      if (written % DIRECT_ALIGN !== 0) break;
    }
    // Rare (a refused or short direct write): a synchronous write of at most one stage.
    const rest = Math.max(done, from);
    if (rest < to) this.fallback.write(buf, rest, to, at + rest);
    return Math.max(0, Math.min(done, to) - from);
  }
}
