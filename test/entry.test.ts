import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SourceError } from '../src/core/errors.js';
import { writeEntry } from '../src/core/entry/write.js';
import { readEntryIndex } from '../src/core/entry/read.js';
import { extractToRaw } from '../src/core/extract/index.js';
import { RAW_DIGEST_SEGMENT, RawDigest, computeRawDigest } from '../src/core/extract/raw-digest.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { allocatedBytes, makeSparseFile, sha256File, tempDir, type Region } from './helpers.js';

const MiB = 1024 * 1024;
const dir = tempDir();

interface Shape {
  name: string;
  size: number;
  regions: Region[];
}

const shapes: Shape[] = [
  // Data straddles the 32 MiB grid and 4 KiB blocks, ends in a hole.
  { name: 'few-large-extents', size: 100 * MiB, regions: [{ offset: 0, length: MiB }, { offset: 30 * MiB + 100, length: 5 * MiB + 7 }, { offset: 70 * MiB, length: 3 * MiB }] },
  // Many extents: holes of 1.5 MiB (frames) and of 60 KiB (kept in data frames) alternate.
  {
    name: 'many-small-extents',
    size: 48 * MiB,
    regions: Array.from({ length: 40 }, (_, i) => ({ offset: i * (MiB + 512 * 1024) + (i % 2) * 4096, length: 8192 + (i % 3) * 100 })).concat(
      Array.from({ length: 60 }, (_, i) => ({ offset: 40 * MiB + i * 64 * 1024, length: 4096 })),
    ),
  },
  { name: 'all-hole', size: 1100 * MiB, regions: [] },
  { name: 'no-hole', size: 40 * MiB, regions: [{ offset: 0, length: 40 * MiB }] },
  { name: 'odd-size', size: 3 * MiB + 4097 + 13, regions: [{ offset: MiB, length: 2 * MiB + 4097 + 13 }] },
  { name: 'empty', size: 0, regions: [] },
];

async function zstdDecode(input: string, name: string): Promise<string> {
  const out = join(dir, `${name}.zstd-d`);
  await runTool(['zstd', '-q', '-d', '-f', input, '-o', out]);
  return out;
}

for (const shape of shapes) {
  test(`entry round trip: ${shape.name}`, async () => {
    const base = join(dir, `${shape.name}.img`);
    await makeSparseFile(base, shape.size, shape.regions);
    const baseSha = await sha256File(base);
    const entry = join(dir, `${shape.name}.entry`);
    const written = await writeEntry(base, entry);
    assert.equal(written.bytes, statSync(entry).size);
    // Plain zstd reads it as a multi-frame file and gets the base back.
    assert.equal(await sha256File(await zstdDecode(entry, shape.name)), baseSha);
    const index = await readEntryIndex(entry);
    assert.equal(index.apparentSize, shape.size);
    assert.equal(index.frames.length, written.frames);
    assert.equal(index.rawDigest, written.rawDigest);
    const out = join(dir, `${shape.name}.restored`);
    const restored = await extractToRaw(entry, out);
    assert.equal(await sha256File(out), baseSha);
    assert.ok(allocatedBytes(out) <= allocatedBytes(base), `restored ${allocatedBytes(out)} > base ${allocatedBytes(base)}`);
    // The digest three ways: while writing the entry, while extracting it, and over the file.
    assert.equal(restored.rawDigest, written.rawDigest);
    assert.equal(await computeRawDigest(base), written.rawDigest);
    // Long zero runs are recorded, not encoded: a GiB of hole costs tens of KiB.
    if (shape.name === 'all-hole') {
      assert.ok(index.frames.every((frame) => frame.kind === 'hole'));
      assert.ok(written.bytes < 64 * 1024, `${written.bytes} bytes`);
      assert.equal(allocatedBytes(out), 0);
    }
    if (shape.name === 'many-small-extents') assert.ok(index.frames.some((frame) => frame.kind === 'hole'));
  });
}

test('an entry of a realistic image is within 1.10 x of a single-frame zstd -3', async () => {
  // Program files compress about as a root filesystem does; random data and holes around them.
  const base = join(dir, 'realistic.img');
  const libs = readdirSync('/usr/lib/x86_64-linux-gnu')
    .filter((name) => name.endsWith('.so') || /\.so\.\d/.test(name))
    .sort()
    .map((name) => join('/usr/lib/x86_64-linux-gnu', name));
  const fd = openSync(base, 'wx');
  let at = 0;
  for (const lib of libs) {
    if (at >= 56 * MiB) break;
    try {
      const bytes = readFileSync(lib);
      writeSync(fd, bytes, 0, bytes.length, at);
      at += Math.ceil(bytes.length / 4096) * 4096 + (at % 3 === 0 ? 2 * MiB : 0);
    } catch {
      // Not a readable regular file.
    }
  }
  writeSync(fd, randomBytes(4 * MiB), 0, 4 * MiB, at + MiB);
  closeSync(fd);
  await runTool(['truncate', '-s', `${at + 8 * MiB}`, base]);
  const zst = join(dir, 'realistic.img.zst');
  await runTool(['zstd', '-q', '-3', '-f', base, '-o', zst]);
  const entry = join(dir, 'realistic.entry');
  const written = await writeEntry(base, entry);
  const ratio = written.bytes / statSync(zst).size;
  assert.ok(ratio <= 1.1, `entry ${written.bytes} bytes is ${ratio.toFixed(3)} x zstd -3's ${statSync(zst).size}`);
  assert.equal(await sha256File(await zstdDecode(entry, 'realistic')), await sha256File(base));
});

test('damaged, truncated, foreign and future entries fail naming the file and the cause, leaving nothing', async () => {
  const base = join(dir, 'damage.img');
  await makeSparseFile(base, 80 * MiB, [{ offset: 0, length: 20 * MiB }, { offset: 40 * MiB, length: 30 * MiB }]);
  const entry = join(dir, 'damage.entry');
  await writeEntry(base, entry);
  const bytes = readFileSync(entry);
  const index = await readEntryIndex(entry);

  const truncated = join(dir, 'truncated.entry');
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(readEntryIndex(truncated), (e: Error) => e instanceof SourceError && e.message.startsWith(truncated) && /truncated/.test(e.message));
  const cutInFrame = join(dir, 'cut-in-frame.entry');
  writeFileSync(cutInFrame, bytes.subarray(0, index.frames[1].compressedOffset + 1000));
  await assert.rejects(readEntryIndex(cutInFrame), (e: Error) => e.message.startsWith(cutInFrame) && /truncated/.test(e.message));
  await assert.rejects(extractToRaw(cutInFrame, join(dir, 'cut.out')), (e: Error) => e.message.startsWith(cutInFrame) && /truncated/.test(e.message));
  assert.equal(existsSync(join(dir, 'cut.out')), false);

  // A flipped byte in the middle of a data frame: its content checksum no longer matches.
  const data = index.frames.find((frame) => frame.kind === 'data' && frame.compressedSize > 100_000)!;
  const flipped = join(dir, 'flipped.entry');
  const copy = Buffer.from(bytes);
  copy[data.compressedOffset + Math.floor(data.compressedSize / 2)] ^= 0x40;
  writeFileSync(flipped, copy);
  await assert.rejects(extractToRaw(flipped, join(dir, 'flipped.out')), (e: Error) => e.message.startsWith(flipped) && /corrupt|checksum/.test(e.message));
  assert.equal(existsSync(join(dir, 'flipped.out')), false);

  const future = join(dir, 'future.entry');
  const newer = Buffer.from(bytes);
  newer.writeUInt32LE(2, 8 + 16);
  writeFileSync(future, newer);
  await assert.rejects(readEntryIndex(future), (e: Error) => e.message.startsWith(future) && /version 2 is not supported/.test(e.message));

  const foreign = join(dir, 'foreign.zst');
  await runTool(['zstd', '-q', '-f', base, '-o', foreign]);
  await assert.rejects(readEntryIndex(foreign), (e: Error) => e.message.startsWith(foreign) && /not a basecow entry/.test(e.message));

  const planDamaged = join(dir, 'plan.entry');
  const plan = Buffer.from(bytes);
  const planAt = index.frames.at(-1)!.compressedOffset + index.frames.at(-1)!.compressedSize;
  plan[planAt + 8 + 28] ^= 1;
  writeFileSync(planDamaged, plan);
  await assert.rejects(readEntryIndex(planDamaged), (e: Error) => e.message.startsWith(planDamaged) && /plan/.test(e.message));
});

test('writing an entry stops on abort and leaves no temp file', async () => {
  const base = join(dir, 'abort.img');
  await makeSparseFile(base, 64 * MiB, [{ offset: 0, length: 64 * MiB }]);
  const sub = join(dir, 'abort');
  await runTool(['mkdir', '-p', sub]);
  const controller = new AbortController();
  const reason = new Error('stop');
  const writing = writeEntry(base, join(sub, 'abort.entry'), { signal: controller.signal, onProgress: () => controller.abort(reason) });
  await assert.rejects(writing, (e: unknown) => e === reason);
  assert.deepEqual(readdirSync(sub), []);
  await assert.rejects(writeEntry(join(dir, 'missing.img'), join(sub, 'x.entry')), (e: Error) => e.message.startsWith(join(dir, 'missing.img')));
  assert.deepEqual(readdirSync(sub), []);
});

test('the raw digest is the same whichever way the bytes arrive, and changes with one byte', async () => {
  const base = join(dir, 'digest.img');
  await makeSparseFile(base, 2 * RAW_DIGEST_SEGMENT + 5000, [{ offset: 100, length: 3 * MiB }, { offset: RAW_DIGEST_SEGMENT - 10, length: 20 }, { offset: 2 * RAW_DIGEST_SEGMENT + 1, length: 4000 }]);
  const whole = await computeRawDigest(base);
  // Only the data, at its offsets (holes are zeros), in uneven pieces.
  const content = readFileSync(base);
  const sparse = new RawDigest();
  for (const [from, to] of [[100, 1000], [1000, 3 * MiB + 100], [RAW_DIGEST_SEGMENT - 10, RAW_DIGEST_SEGMENT + 10], [2 * RAW_DIGEST_SEGMENT + 1, 2 * RAW_DIGEST_SEGMENT + 4001]]) {
    sparse.update(content.subarray(from, to), from);
  }
  assert.equal(sparse.finish(content.length), whole);
  const entry = join(dir, 'digest.entry');
  assert.equal((await writeEntry(base, entry, { workers: 3 })).rawDigest, whole);
  assert.equal((await extractToRaw(entry, join(dir, 'digest.out'))).rawDigest, whole);
  // From a different source format: a zstd file made by zstd.
  await runTool(['zstd', '-q', '-f', base, '-o', `${base}.zst`]);
  assert.equal((await extractToRaw(`${base}.zst`, join(dir, 'digest-zstd.out'))).rawDigest, whole);

  const changed = join(dir, 'digest-changed.img');
  const other = Buffer.from(content);
  other[RAW_DIGEST_SEGMENT + 12345] = 1;
  writeFileSync(changed, other);
  assert.notEqual(await computeRawDigest(changed), whole);
  // One more zero byte at the end is another image too.
  writeFileSync(changed, Buffer.concat([content, Buffer.alloc(1)]));
  assert.notEqual(await computeRawDigest(changed), whole);
});
