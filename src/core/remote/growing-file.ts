import { fstat, read } from 'node:fs';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { isZero } from '../extract/zero-blocks.js';

export interface GrowingFileOptions {
  /**
   * The writer fills the file in segments of this many bytes, aligned on multiples of it, each with
   * one write that goes forward, in any order (or all in order).
   */
  segmentBytes: number;
  /** True once the writer is done: everything below the file's size is then final. */
  complete: () => boolean;
  /** How often to look again while the next segment is not there. */
  pollMs?: number;
}

const readAsync = promisify(read);
const fstatAsync = promisify(fstat);

/** The bytes a segment's write ends with: once they are no longer zero, the whole segment is there. */
const TAIL_BYTES = 8;

/**
 * Reads a file, in order, while a downloader is still writing it. Bytes below the file's size are
 * not final while segments land out of order (the ones not written yet read as zeros), so a
 * segment is taken once its last bytes are not all zero: its one forward write has then passed
 * every byte before them. A segment that really ends in zeros, and the last, shorter one, wait
 * until the writer is done. Callers check what they read (a checksum), since this rests on how
 * the writer writes: misjudging it costs a failed check, never unchecked bytes. Each yielded
 * buffer is valid until the next one is asked for. `fd` is the file open for reading (opened as
 * soon as it appears: a downloader may remove it once it is done with it), which the caller
 * closes; `path` names it in errors.
 */
export async function* readGrowingFile(fd: number, path: string, options: GrowingFileOptions): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(options.segmentBytes);
  const tail = Buffer.alloc(TAIL_BYTES);
  let position = 0;
  for (;;) {
    // Asked before the size is read: once the writer is done, the size read after is final.
    const complete = options.complete();
    const { size } = await fstatAsync(fd);
    const segmentEnd = (Math.floor(position / options.segmentBytes) + 1) * options.segmentBytes;
    let end: number | undefined;
    if (complete) {
      if (position >= size) return;
      end = Math.min(size, segmentEnd);
    } else if (size >= segmentEnd) {
      const { bytesRead } = await readAsync(fd, tail, 0, TAIL_BYTES, segmentEnd - TAIL_BYTES);
      if (bytesRead === TAIL_BYTES && !isZero(tail, 0, TAIL_BYTES)) end = segmentEnd;
    }
    if (end === undefined) {
      await sleep(options.pollMs ?? 10);
      continue;
    }
    let got = 0;
    while (got < end - position) {
      const { bytesRead } = await readAsync(fd, buf, got, end - position - got, position + got);
      if (bytesRead === 0) throw new Error(`${path} became shorter while it was read`);
      got += bytesRead;
    }
    position = end;
    yield buf.subarray(0, got);
  }
}
