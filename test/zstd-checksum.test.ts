import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SourceError } from '../src/core/errors.js';
import { extractToRaw } from '../src/core/extract/index.js';
import { Xxh64, XXH64_STATE_BYTES } from '../src/core/extract/zstd/xxh64.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { sha256File, tempDir } from './helpers.js';

const KiB = 1024;
const dir = tempDir();

/** Compresses `data` with the zstd CLI (content checksum on unless told otherwise). */
async function zstdFrame(data: Buffer, name: string, ...options: string[]): Promise<Buffer> {
  const raw = join(dir, `${name}.bin`);
  writeFileSync(raw, data);
  await runTool(['zstd', '-q', '-f', ...options, raw, '-o', `${raw}.zst`]);
  return readFileSync(`${raw}.zst`);
}

/** Hashes `data` through a shared memory the way ZstdStream does, in pieces cut at `cuts`. */
function hashInPieces(data: Buffer, cuts: number[]): bigint {
  const dataAt = 64 * KiB;
  const pages = Math.ceil((dataAt + data.length + 1) / (64 * KiB));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  Buffer.from(memory.buffer).set(data, dataAt);
  const hash = new Xxh64(memory, 8);
  assert.ok(8 + XXH64_STATE_BYTES <= dataAt);
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < data.length).sort((a, b) => a - b), data.length]) {
    hash.update(dataAt + from, cut - from);
    from = cut;
  }
  return hash.digest();
}

test('Xxh64 gives the published XXH64 values', () => {
  assert.equal(hashInPieces(Buffer.from(''), []), 0xef46db3751d8e999n);
  assert.equal(hashInPieces(Buffer.from('a'), []), 0xd24ec4f1a98c6e5bn);
  assert.equal(hashInPieces(Buffer.from('abc'), [1, 2]), 0x44bc2cf5ad770999n);
});

test('Xxh64 agrees with the checksum zstd writes, whatever the pieces the data comes in', async () => {
  for (const length of [1, 4, 7, 8, 12, 31, 32, 33, 63, 64, 65, 100, 1000, 4096, 100_003]) {
    const data = randomBytes(length);
    const frame = await zstdFrame(data, `xxh-${length}`);
    const expected = frame.readUInt32LE(frame.length - 4);
    const pieces = [[], [1], [length - 1], [31, 32, 33], Array.from({ length: 20 }, () => Math.floor(Math.random() * length))];
    for (const cuts of pieces) {
      const low32 = Number(hashInPieces(data, cuts) & 0xffffffffn);
      assert.equal(low32, expected, `length ${length}, cut at ${cuts.join(',')}`);
    }
  }
});

test('content damaged where only the checksum can tell is refused, like zstd -d does', async () => {
  // Random data is stored in raw blocks: a flipped byte inside one decodes without complaint.
  const data = randomBytes(2 * 1024 * KiB);
  const frame = await zstdFrame(data, 'raw-blocks');
  const damaged = Buffer.from(frame);
  damaged[5000] ^= 0x40;
  const source = join(dir, 'damaged.img.zst');
  writeFileSync(source, damaged);
  await assert.rejects(runTool(['zstd', '-q', '-d', '-f', source, '-o', join(dir, 'damaged.ref')]), /checksum/);
  const out = join(dir, 'damaged.img');
  await assert.rejects(extractToRaw(source, out), (e: Error) => {
    assert.ok(e instanceof SourceError && e.message.startsWith(source), e.message);
    // Our own words, not libzstd's ("checksum wrong"): the decoder honoured ZSTD_d_forceIgnoreChecksum
    // (parameter 1002) and the main thread's check is what refused the frame.
    assert.doesNotMatch(e.message, /checksum wrong|doesn't match checksum/i);
    assert.match(e.message, new RegExp(`the frame that ends at compressed byte ${damaged.length} decodes to content that does not match its checksum`));
    return true;
  });
  assert.equal(existsSync(out), false);

  // Without a checksum there is nothing to check: zstd -d writes what the frame says, and so do we.
  const unchecked = Buffer.from(await zstdFrame(data, 'raw-blocks-no-check', '--no-check'));
  unchecked[5000] ^= 0x40;
  const uncheckedSource = join(dir, 'unchecked.img.zst');
  writeFileSync(uncheckedSource, unchecked);
  const ref = join(dir, 'unchecked.ref');
  await runTool(['zstd', '-q', '-d', '-f', uncheckedSource, '-o', ref]);
  const uncheckedOut = join(dir, 'unchecked.img');
  await extractToRaw(uncheckedSource, uncheckedOut);
  assert.equal(await sha256File(uncheckedOut), await sha256File(ref));
  assert.notEqual(await sha256File(uncheckedOut), await sha256File(join(dir, 'raw-blocks.bin')));
});

test('every frame is checked on its own: frames ending on a 512 KiB output boundary, an empty frame, damage in the last', async () => {
  // 512 KiB is the size of the decoder's output slots: frame ends fall exactly on slot boundaries.
  const parts = [randomBytes(512 * KiB), Buffer.alloc(0), Buffer.alloc(1024 * KiB, 0), randomBytes(512 * KiB + 17), randomBytes(300 * KiB)];
  const frames = await Promise.all(parts.map((part, i) => zstdFrame(part, `part-${i}`)));
  const good = join(dir, 'frames.img.zst');
  writeFileSync(good, Buffer.concat(frames));
  const out = join(dir, 'frames.img');
  await extractToRaw(good, out);
  assert.ok(readFileSync(out).equals(Buffer.concat(parts)));

  for (const damagedFrame of [0, parts.length - 1]) {
    const copies = frames.map((frame) => Buffer.from(frame));
    copies[damagedFrame][1000] ^= 0x01;
    const source = join(dir, `frames-damaged-${damagedFrame}.img.zst`);
    writeFileSync(source, Buffer.concat(copies));
    const frameEnd = copies.slice(0, damagedFrame + 1).reduce((sum, frame) => sum + frame.length, 0);
    await assert.rejects(extractToRaw(source, join(dir, 'frames-damaged.img')), new RegExp(`frame that ends at compressed byte ${frameEnd} decodes to content that does not match its checksum`));
    assert.equal(existsSync(join(dir, 'frames-damaged.img')), false);
  }
});

test('a bad checksum is reported as such even when more damage follows the frame', async () => {
  const first = Buffer.from(await zstdFrame(randomBytes(700 * KiB), 'before-truncation'));
  first[3000] ^= 0x10;
  const second = await zstdFrame(randomBytes(300 * KiB), 'truncated');
  for (const [what, tail] of [['a truncated frame', second.subarray(0, 1000)], ['garbage', Buffer.from('not a frame')]] as const) {
    const source = join(dir, `checksum-then-${what.replace(/ /g, '-')}.img.zst`);
    writeFileSync(source, Buffer.concat([first, tail]));
    await assert.rejects(extractToRaw(source, join(dir, 'checksum-then.img')), new RegExp(`frame that ends at compressed byte ${first.length} decodes to content that does not match its checksum`), what);
  }
});

test('frame headers and checksums that straddle the 4 MiB input reads are read right', async () => {
  const READ = 4 * 1024 * KiB;
  const lead = await zstdFrame(randomBytes(3 * 1024 * KiB), 'lead');
  const middle = await zstdFrame(randomBytes(100 * KiB), 'middle');
  const after = await zstdFrame(randomBytes(50 * KiB), 'after');
  /** A skippable frame of `length` bytes in all. */
  const pad = (length: number): Buffer => {
    const frame = Buffer.alloc(length, 0x5a);
    frame.writeUInt32LE(0x184d2a51, 0);
    frame.writeUInt32LE(length - 8, 4);
    return frame;
  };
  // First the middle frame's checksum, then the next frame's header, cut by the read boundary.
  for (const [what, padLength] of [['checksum', READ + 2 - lead.length - middle.length], ['header', READ - 2 - lead.length - middle.length]] as const) {
    const frames = [lead, pad(padLength), middle, after];
    const source = join(dir, `straddle-${what}.img.zst`);
    writeFileSync(source, Buffer.concat(frames));
    const out = join(dir, `straddle-${what}.img`);
    await extractToRaw(source, out);
    const ref = join(dir, `straddle-${what}.ref`);
    await runTool(['zstd', '-q', '-d', '-f', source, '-o', ref]);
    assert.ok(readFileSync(out).equals(readFileSync(ref)), what);

    const damaged = frames.map((frame) => Buffer.from(frame));
    damaged[2][500] ^= 0x01;
    writeFileSync(source, Buffer.concat(damaged));
    const middleEnd = lead.length + padLength + middle.length;
    await assert.rejects(extractToRaw(source, `${out}.damaged`), new RegExp(`frame that ends at compressed byte ${middleEnd} decodes`), what);
  }
});
