// The floor under any Node process that extracts a zstd file: `node decode-floor.js <file>` decodes
// it on one thread with the decoder basecow's pipelined decoder makes (newDecoder: zstd-napi, the
// largest window, frame checksums left to the caller), and throws the output away: no writes, no
// holes, no hashing, no store. Timed as a whole process, its start-up included, it shows how close a
// goal stated against `zstd -d -o` or `tar -xf` can come before basecow does anything of its own.
import { openSync, readSync } from 'node:fs';
import { newDecoder } from '../src/core/extract/zstd/decoder.js';

const INPUT_SIZE = 1024 * 1024;
/** Small enough to stay in the CPU's cache, as the decoder's recycled slots do. */
const OUTPUT_SIZE = 512 * 1024;

const path = process.argv[2];
if (!path) throw new Error('usage: decode-floor.js <file.zst>');
const dctx = newDecoder(true);
const fd = openSync(path, 'r');
const input = Buffer.allocUnsafe(INPUT_SIZE);
const output = Buffer.allocUnsafe(OUTPUT_SIZE);
const empty = Buffer.alloc(0);
let position = 0;
let decoded = 0;
for (;;) {
  const bytesRead = readSync(fd, input, 0, INPUT_SIZE, position);
  if (bytesRead === 0) break;
  position += bytesRead;
  let src = input.subarray(0, bytesRead);
  while (src.length > 0) {
    const [, produced, used] = dctx.decompressStream(output, src);
    decoded += produced;
    src = src.subarray(used);
  }
  // Output the decoder still holds once this input is used up.
  for (;;) {
    const [, produced] = dctx.decompressStream(output, empty);
    if (produced === 0) break;
    decoded += produced;
  }
}
if (decoded === 0) throw new Error(`${path}: decoded to nothing`);
