// Decodes tasks of independent zstd frames whose raw offsets are known and writes their data in
// place with positional writes: several of these threads fill one file at once. Output goes through
// two 32 MiB windows aligned on the raw digest's grid: one is decoded into while the other's writes
// are on their way to the disk, across task boundaries too: the next task starts decoding while
// the last one's writes finish, and a task is reported done only once its writes have landed. When
// the base may reach the disk after it is published (`spill`) and the other window is still on its
// way, a window may be copied through the page cache instead of waiting (see SpillPolicy). All-
// zero 4 KiB blocks are never written (holes), hole frames are not decoded at all, and every
// segment a task covers whole is hashed here. Frames are read from the source file, or come with
// their task (an entry still downloading), whose input goes back with the reply to be filled again.
// Protocol: see DecodeInit, DecodeRequest and DecodeReply in parallel/index.ts.
import { closeSync, constants, openSync, write } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parentPort } from 'node:worker_threads';
import binding from 'zstd-napi/binding.js';
import { BufferHasher, RAW_DIGEST_SEGMENT, zeroSegmentHash } from '../raw-digest.js';
import { isZero } from '../zero-blocks.js';
import { writeFully } from '../write/page-cache-writes.js';
import { SpillPolicy, settlesWithin } from '../write/spill-policy.js';
import { newDecoder } from '../zstd/decoder.js';
import { runInBackground } from '../../shared/thread-priority.js';
import type { DecodeTask, PlannedFrame } from './plan.js';
import type { DecodeInit, DecodeReply, DecodeRequest, FrameFailure } from './index.js';

const BLOCK = 4096;
/**
 * A frame that fits here is read whole, and zstd then decodes it in one pass straight into the
 * window (frames of basecow's entries compress 32 MiB to a few MiB); a longer one streams through
 * it, and zstd copies its output out of its own window (about 4% more CPU on the bench entry).
 */
const INPUT_SIZE = 16 * 1024 * 1024;
const writeAsync = promisify(write);
const port = parentPort!;

class FrameError extends Error {
  constructor(readonly failure: FrameFailure) {
    super(failure.message);
  }
}

interface Window {
  buf: Buffer;
  /** Raw offset of buf[0]: a multiple of the segment size. */
  at: number;
  /** The writes of this window's previous use. */
  writing: Promise<void>;
}

async function main(init: DecodeInit): Promise<void> {
  if (init.background) runInBackground();
  const hasher = new BufferHasher(2 * RAW_DIGEST_SEGMENT);
  const windows: Window[] = [0, 1].map((i) => ({ buf: hasher.extra.subarray(i * RAW_DIGEST_SEGMENT, (i + 1) * RAW_DIGEST_SEGMENT), at: 0, writing: Promise.resolve() }));
  const input = Buffer.allocUnsafe(INPUT_SIZE);
  const source: FileHandle | undefined = init.source === undefined ? undefined : await open(init.source, 'r');
  const cachedFd = openSync(init.dest, 'r+');
  let directFd: number | undefined;
  if (init.directIo) {
    try {
      directFd = openSync(init.dest, constants.O_WRONLY | constants.O_DIRECT);
    } catch {
      directFd = undefined;
    }
  }
  // Where the caller checks every decoded byte against a digest it trusts (an entry's raw digest),
  // libzstd's frame checksums would hash the same bytes a second time.
  const dctx = newDecoder(init.frameChecksums === false);

  /** Writes buf[from, to) at file offset `position`: directly when aligned, else through the page cache. */
  const writeRun = async (buf: Buffer, from: number, to: number, position: number): Promise<void> => {
    let fd = cachedFd;
    if (directFd !== undefined && (to - from) % BLOCK === 0) fd = directFd;
    for (let done = 0; done < to - from; ) {
      try {
        const { bytesWritten } = await writeAsync(fd, buf, from + done, to - from - done, position + done);
        done += bytesWritten;
        if (fd === directFd) written.direct += bytesWritten;
        else written.pageCache += bytesWritten;
      } catch (error) {
        // The kernel refused direct I/O here: everything goes through the page cache from now on.
        if (fd !== directFd || (error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
        closeSync(directFd);
        directFd = undefined;
        fd = cachedFd;
      }
    }
  };
  const written = { direct: 0, pageCache: 0 };
  const spills = init.spill ? new SpillPolicy() : undefined;

  /** Copies the runs of a window through the page cache; the window is free again once this returns. */
  const copyThroughPageCache = (buf: Buffer, runs: [number, number][], at: number): void => {
    for (const [from, to] of runs) {
      writeFully(cachedFd, buf, from, to, at + from);
      written.pageCache += to - from;
    }
  };

  // The main thread keeps two tasks queued here, so that decoding never waits for a round trip;
  // they are decoded one after the other, in the order they came.
  let decoding: Promise<unknown> = Promise.resolve();
  port.on('message', (request: DecodeRequest) => {
    const decoded = decoding.then(() => runTask(request.task));
    decoding = decoded.catch(() => undefined);
    decoded
      .then(async ({ landed, ...reply }) => {
        await landed;
        // The task's input goes back, for the feed to fill again: memory it has already touched.
        const input = request.task.input;
        port.postMessage({ kind: 'done', id: request.id, ...reply, written: { ...written }, input } satisfies DecodeReply, input ? [input.buffer as ArrayBuffer] : []);
      })
      .catch((error: unknown) => {
        const failure = error instanceof FrameError ? error.failure : { message: (error as Error).message };
        port.postMessage({ kind: 'failed', id: request.id, failure } satisfies DecodeReply);
      });
  });

  /** Which window is decoded into next; it carries over from one task to the next. */
  let turn = 0;

  /** Decodes a task and issues its writes; `landed` settles once every one of them has completed. */
  async function runTask(task: DecodeTask): Promise<{ segments: { index: number; hash: bigint }[]; partial: { from: number; to: number }[]; landed: Promise<void> }> {
    const segments: { index: number; hash: bigint }[] = [];
    const partial: { from: number; to: number }[] = [];
    const writes: Promise<void>[] = [];
    let window = windows[turn];
    // The previous task's last writes may still be reading this window.
    await window.writing;
    /** Raw bytes of the current window filled so far: [filledFrom, position). */
    let filledFrom = task.rawStart;
    let position = task.rawStart;
    const segmentAt = (raw: number): number => raw - (raw % RAW_DIGEST_SEGMENT);
    window.at = segmentAt(task.rawStart);

    // A task made only of holes over a whole segment needs no memory: its hash is a constant.
    const holeOnly = task.frames.every((frame) => frame.kind === 'hole');
    if (holeOnly && task.rawStart % RAW_DIGEST_SEGMENT === 0 && (task.rawEnd - task.rawStart === RAW_DIGEST_SEGMENT)) {
      return { segments: [{ index: task.rawStart / RAW_DIGEST_SEGMENT, hash: zeroSegmentHash() }], partial, landed: Promise.resolve() };
    }

    /** Hands the window's filled part to the disk and to the digest, and moves on to the other window. */
    const flush = async (): Promise<void> => {
      const { buf, at } = window;
      const from = filledFrom - at;
      const to = position - at;
      const segmentEnd = Math.min(at + RAW_DIGEST_SEGMENT, init.size);
      if (filledFrom === at && position === segmentEnd) {
        hasher.reset();
        hasher.update(buf.subarray(0, to));
        segments.push({ index: at / RAW_DIGEST_SEGMENT, hash: hasher.digest() });
      } else if (to > from) {
        partial.push({ from: filledFrom, to: position });
      }
      const runs: [number, number][] = [];
      let runStart = -1;
      for (let block = from; block < to; block += BLOCK) {
        const end = Math.min(to, block + BLOCK);
        if (isZero(buf, block, end)) {
          if (runStart >= 0) runs.push([runStart, block]);
          runStart = -1;
        } else if (runStart < 0) {
          runStart = block;
        }
      }
      if (runStart >= 0) runs.push([runStart, to]);
      const bytes = runs.reduce((sum, [start, end]) => sum + end - start, 0);
      // The other window's writes are still on their way: the disk is behind. Wait for it only as
      // long as the copy would take, then copy, and go on decoding into this window.
      if (spills && directFd !== undefined && bytes > 0 && !(await settlesWithin(windows[turn ^ 1].writing, spills.patienceMs(bytes)))) {
        spills.timeCopy(bytes, () => copyThroughPageCache(buf, runs, at));
        window.at = segmentAt(position);
        filledFrom = position;
        return;
      }
      const windowWrites = runs.map(([start, end]) => writeRun(buf, start, end, at + start));
      // Failures surface through Promise.all below and at the window's next use, not as unhandled rejections.
      for (const pending of windowWrites) pending.catch(() => undefined);
      writes.push(...windowWrites);
      window.writing = Promise.all(windowWrites).then(() => undefined);
      // Whoever uses the window next awaits this and sees a failure; the task's `landed` reports
      // it too, so a last window nobody reuses must not surface it again as an unhandled rejection.
      window.writing.catch(() => undefined);
      turn ^= 1;
      window = windows[turn];
      await window.writing;
      window.at = segmentAt(position);
      filledFrom = position;
    };

    const fillZeros = async (length: number): Promise<void> => {
      for (let left = length; left > 0; ) {
        const take = Math.min(left, window.at + RAW_DIGEST_SEGMENT - position);
        window.buf.fill(0, position - window.at, position - window.at + take);
        position += take;
        left -= take;
        if (position === window.at + RAW_DIGEST_SEGMENT) await flush();
      }
    };

    /** The frame's bytes from `read` on: from the task's own input whole, or a piece read from the source. */
    const readFrame = async (frame: PlannedFrame, read: number): Promise<Buffer> => {
      if (task.input) {
        const bytes = Buffer.from(task.input.buffer, task.input.byteOffset, task.input.byteLength);
        const from = frame.compressedOffset - (task.inputAt ?? 0);
        return bytes.subarray(from + read, from + frame.compressedSize);
      }
      const { bytesRead } = await source!.read(input, 0, Math.min(INPUT_SIZE, frame.compressedSize - read), frame.compressedOffset + read);
      return input.subarray(0, bytesRead);
    };

    const decodeFrame = async (frame: PlannedFrame): Promise<void> => {
      const where = `the zstd frame at compressed bytes ${frame.compressedOffset}-${frame.compressedOffset + frame.compressedSize}`;
      dctx.reset(binding.ResetDirective.sessionOnly);
      const frameEnd = frame.rawOffset + frame.rawLength;
      let read = 0;
      let open = true;
      let leftover = 0;
      while (read < frame.compressedSize) {
        let src = await readFrame(frame, read);
        if (src.length === 0) throw new FrameError({ message: `truncated zstd data: the file ends inside ${where}`, compressedOffset: frame.compressedOffset });
        read += src.length;
        while (src.length > 0 || (open && position < frameEnd && read === frame.compressedSize)) {
          if (position === window.at + RAW_DIGEST_SEGMENT) await flush();
          const room = Math.min(window.at + RAW_DIGEST_SEGMENT, frameEnd) - position;
          let result: [number, number, number];
          try {
            // Output beyond the frame's stated size has no room: zstd then reports it as an error.
            result = dctx.decompressStream(window.buf.subarray(position - window.at, position - window.at + room), src);
          } catch (error) {
            const message = (error as Error).message;
            // Worded as the sequential decoder words it, which checks checksums itself.
            const reason = /checksum/i.test(message)
              ? `the frame that ends at compressed byte ${frame.compressedOffset + frame.compressedSize} decodes to content that does not match its checksum`
              : `${where}: ${message}`;
            throw new FrameError({ message: `corrupt zstd data: ${reason}`, compressedOffset: frame.compressedOffset });
          }
          const [hint, produced, used] = result;
          position += produced;
          src = src.subarray(used);
          open = hint !== 0;
          if (!open || (produced === 0 && used === 0)) break;
        }
        leftover = src.length;
        if (!open) break;
      }
      if (open || leftover > 0 || position !== frameEnd || read !== frame.compressedSize) {
        throw new FrameError({ message: `corrupt zstd data: ${where} does not decode to the ${frame.rawLength} bytes it states`, compressedOffset: frame.compressedOffset });
      }
      if (position === window.at + RAW_DIGEST_SEGMENT) await flush();
    };

    for (const frame of task.frames) {
      if (frame.kind === 'hole') await fillZeros(frame.rawLength);
      else await decodeFrame(frame);
    }
    if (position > filledFrom) await flush();
    const landed = Promise.all(writes).then(() => undefined);
    // A failed write is reported through `landed`, not as an unhandled rejection meanwhile.
    landed.catch(() => undefined);
    return { segments, partial, landed };
  }
}

port.once('message', (init: DecodeInit) => {
  main(init).catch((error: unknown) => port.postMessage({ kind: 'failed', id: -1, failure: { message: (error as Error).message } } satisfies DecodeReply));
});
