// Compresses segments of a base into entry frames on a thread of its own: it reads its segment,
// hashes it for the raw digest, finds the zero runs that become hole frames and compresses the rest
// into independent zstd frames. Several of these run at once, one segment each; the main thread only
// puts their output in order. Protocol: see CompressRequest and CompressReply in write.ts.
import { open } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import binding from 'zstd-napi/binding.js';
import { BufferHasher } from '../extract/raw-digest.js';
import { isZero } from '../extract/zero-blocks.js';
import type { CompressInit, CompressReply, CompressRequest, SegmentRun } from './write.js';

const BLOCK = 4096;
const port = parentPort!;

/** Data and hole runs of buf[0, length): zero runs of at least minHole bytes are holes, shorter ones stay in the data. */
export function planRuns(buf: Buffer, length: number, minHole: number): { kind: 'data' | 'hole'; offset: number; length: number }[] {
  const runs: { kind: 'data' | 'hole'; offset: number; length: number }[] = [];
  let dataStart = -1;
  let zeroStart = -1;
  const closeZeros = (end: number, last: boolean): void => {
    if (end - zeroStart >= minHole || (last && dataStart < 0)) {
      if (dataStart >= 0) runs.push({ kind: 'data', offset: dataStart, length: zeroStart - dataStart });
      runs.push({ kind: 'hole', offset: zeroStart, length: end - zeroStart });
      dataStart = -1;
    } else if (dataStart < 0) {
      dataStart = zeroStart;
    }
    zeroStart = -1;
  };
  for (let at = 0; at < length; at += BLOCK) {
    const end = Math.min(length, at + BLOCK);
    if (isZero(buf, at, end)) {
      if (zeroStart < 0) zeroStart = at;
    } else {
      if (zeroStart >= 0) closeZeros(at, false);
      if (dataStart < 0) dataStart = at;
    }
  }
  if (zeroStart >= 0) closeZeros(length, true);
  if (dataStart >= 0) runs.push({ kind: 'data', offset: dataStart, length: length - dataStart });
  return runs;
}

function main(init: CompressInit): void {
  const hasher = new BufferHasher(init.segmentSize);
  const input = hasher.extra;
  const cctx = new binding.CCtx();
  cctx.setParameter(binding.CParameter.compressionLevel, init.level);
  cctx.setParameter(binding.CParameter.checksumFlag, 1);
  cctx.setParameter(binding.CParameter.contentSizeFlag, 1);
  // Worst case of zstd's compressBound for one segment, with room to spare.
  const output = Buffer.allocUnsafe(init.segmentSize + (init.segmentSize >> 7) + 65536);
  const fileOpened = open(init.path, 'r');

  port.on('message', (request: CompressRequest) => {
    void (async () => {
      const file = await fileOpened;
      let filled = 0;
      while (filled < request.length) {
        const { bytesRead } = await file.read(input, filled, request.length - filled, request.start + filled);
        if (bytesRead === 0) throw new Error(`${init.path} ended at ${request.start + filled} while it was read (it is ${request.length + request.start} bytes or more)`);
        filled += bytesRead;
      }
      const segment = input.subarray(0, request.length);
      hasher.reset();
      hasher.update(segment);
      const runs: SegmentRun[] = [];
      let produced = 0;
      for (const run of planRuns(segment, request.length, init.minHole)) {
        let compressedSize = 0;
        if (run.kind === 'data') {
          compressedSize = cctx.compress2(output.subarray(produced), segment.subarray(run.offset, run.offset + run.length));
          produced += compressedSize;
        }
        runs.push({ ...run, offset: request.start + run.offset, compressedSize });
      }
      // A copy of what was produced goes to the main thread; the output buffer stays here for the next segment.
      const frames = new Uint8Array(produced);
      frames.set(output.subarray(0, produced));
      port.postMessage({ kind: 'done', index: request.index, hash: hasher.digest(), runs, frames } satisfies CompressReply, [frames.buffer]);
    })().catch((error: unknown) => {
      port.postMessage({ kind: 'failed', index: request.index, message: (error as Error).message } satisfies CompressReply);
    });
  });
}

port.once('message', main);
