import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { SourceError } from '../src/core/errors.js';
import { writeEntry } from '../src/core/entry/write.js';
import { readEntryIndex } from '../src/core/entry/read.js';
import { dropSpareWorkers, extractToRaw, prestartWorkers, type ExtractResult } from '../src/core/extract/index.js';
import { spareWorkerCount } from '../src/core/extract/parallel/index.js';
import { computeRawDigest } from '../src/core/extract/raw-digest.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { allocatedBytes, listDir, makeSparseFile, sha256File, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const BIN = fileURLToPath(new URL('../../bin/basecow.js', import.meta.url));
const EXTRACT_CHILD = fileURLToPath(new URL('./fixtures/extract-child.js', import.meta.url));
/** A preload that makes every direct write report its completion late: a disk slower than the decoders. */
const SLOW_DISK = fileURLToPath(new URL('../../test/fixtures/slow-direct-writes.cjs', import.meta.url));
const dir = tempDir();
const disk = join(dir, 'disk.img');
await makeSparseFile(disk, 150 * MiB, [
  { offset: 0, length: 3 * MiB },
  { offset: 31 * MiB + 100, length: 5 * MiB + 7 },
  { offset: 60 * MiB, length: 24 * MiB },
  { offset: 120 * MiB - 4096, length: 8 * MiB },
]);
const diskSha = await sha256File(disk);
const diskDigest = await computeRawDigest(disk);

/** Cuts the disk into pieces at the given MiB offsets and compresses each with zstd. */
async function concatenatedFrames(name: string, cuts: number[], zstdArgs: string[] = []): Promise<string> {
  const content = readFileSync(disk);
  const bounds = [0, ...cuts.map((c) => c * MiB), content.length];
  const frames: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = join(dir, `${name}-${i}.part`);
    writeFileSync(piece, content.subarray(bounds[i], bounds[i + 1]));
    await runTool(['zstd', '-q', '-f', ...zstdArgs, piece, '-o', `${piece}.zst`]);
    frames.push(readFileSync(`${piece}.zst`));
  }
  const out = join(dir, `${name}.img.zst`);
  writeFileSync(out, Buffer.concat(frames));
  return out;
}

async function checkAgainstZstd(source: string, name: string, maxWorkers?: number, durable?: boolean): Promise<ExtractResult> {
  const ref = join(dir, `${name}.ref`);
  await runTool(['zstd', '-q', '-d', '-f', source, '-o', ref]);
  const out = join(dir, `${name}.out`);
  const result = await extractToRaw(source, out, { maxWorkers, durable });
  assert.equal(await sha256File(out), await sha256File(ref), name);
  assert.equal(await sha256File(out), diskSha, name);
  assert.ok(allocatedBytes(out) <= allocatedBytes(ref), `${name}: ours ${allocatedBytes(out)} > zstd's ${allocatedBytes(ref)}`);
  assert.equal(result.rawDigest, diskDigest, name);
  return result;
}

test('frames made by zstd (concatenated, off the 32 MiB grid, --no-check, --long) decode in parallel like zstd -d', async () => {
  assert.equal((await checkAgainstZstd(await concatenatedFrames('plain', [10, 45, 46, 100]), 'plain', 2)).workers, 2);
  assert.equal((await checkAgainstZstd(await concatenatedFrames('nocheck', [64], ['--no-check', '-1']), 'nocheck', 2)).workers, 2);
  assert.equal((await checkAgainstZstd(await concatenatedFrames('long', [33, 70], ['--long=27']), 'long', 3)).workers, 3);
  // Pieces of a pipe carry no content size: only the sequential decoder knows where they go.
  const piped = join(dir, 'piped.img.zst');
  await runTool(['bash', '-c', `head -c ${70 * MiB} '${disk}' | zstd -q > '${piped}' && tail -c +${70 * MiB + 1} '${disk}' | zstd -q >> '${piped}'`]);
  assert.equal((await checkAgainstZstd(piped, 'piped', 2)).workers, 1);
  // One frame keeps the pipelined decoder.
  const single = join(dir, 'single.img.zst');
  await runTool(['zstd', '-q', '-f', disk, '-o', single]);
  assert.equal((await checkAgainstZstd(single, 'single')).workers, 1);
});

test('frames that do not all state their size, and one frame with a skippable frame after it, go to the sequential decoder', async () => {
  // Two frames that state their sizes, then a frame from a pipe: the probe of the first 16 MiB
  // sees the second frame begin, the whole walk meets the third and finds no plan.
  const mixed = join(dir, 'mixed.img.zst');
  const first = 20 * MiB;
  const second = 50 * MiB;
  await runTool([
    'bash',
    '-c',
    `head -c ${first} '${disk}' | zstd -q --stream-size=${first} > '${mixed}' && ` +
      `tail -c +${first + 1} '${disk}' | head -c ${second} | zstd -q --stream-size=${second} >> '${mixed}' && ` +
      `tail -c +${first + second + 1} '${disk}' | zstd -q >> '${mixed}'`,
  ]);
  assert.equal((await checkAgainstZstd(mixed, 'mixed', 2)).workers, 1);
  // A skippable frame after the only data frame (a seek table, say) is no second frame.
  const single = join(dir, 'single-skippable.img.zst');
  await runTool(['zstd', '-q', '-f', disk, '-o', single]);
  const skippable = Buffer.alloc(8 + 16, 0xab);
  skippable.writeUInt32LE(0x184d2a5e, 0);
  skippable.writeUInt32LE(16, 4);
  writeFileSync(single, Buffer.concat([readFileSync(single), skippable]));
  assert.equal((await checkAgainstZstd(single, 'single-skippable', 2)).workers, 1);
});

test('a first frame longer than the probe: the sequential head start gives way to the parallel decoder, or starts again', async () => {
  // 20 MiB of random bytes compress to more than the 16 MiB the probe walks, so the sequential
  // decoder starts first and is stopped when the second frame shows up. The third frame starts
  // past the 32 MiB grid, so a plan has two tasks.
  const random = join(dir, 'random.bin');
  writeFileSync(random, randomBytes(40 * MiB));
  const head = `head -c ${20 * MiB} '${random}' | zstd -q --stream-size=${20 * MiB}`;
  const middle = `tail -c +${20 * MiB + 1} '${random}' | head -c ${15 * MiB} | zstd -q --stream-size=${15 * MiB}`;
  const sizedTail = `tail -c +${35 * MiB + 1} '${random}' | zstd -q --stream-size=${5 * MiB}`;
  const pipedTail = `tail -c +${35 * MiB + 1} '${random}' | zstd -q`;
  const expected = await sha256File(random);
  for (const [name, tail, workers] of [
    ['head-start-parallel', sizedTail, 2],
    ['head-start-again', pipedTail, 1],
  ] as const) {
    const source = join(dir, `${name}.img.zst`);
    await runTool(['bash', '-c', `(${head}; ${middle}; ${tail}) > '${source}'`]);
    const out = join(dir, `${name}.out`);
    const result = await extractToRaw(source, out, { maxWorkers: 2 });
    assert.equal(await sha256File(out), expected, name);
    assert.equal(result.workers, workers, name);
    assert.equal(result.rawDigest, await computeRawDigest(random), name);
  }
});

test("basecow's entries decode with 1 and with several workers, holes left as holes", async () => {
  const entry = join(dir, 'disk.entry');
  await writeEntry(disk, entry);
  assert.equal((await checkAgainstZstd(entry, 'entry-1', 1)).workers, 1);
  assert.equal((await checkAgainstZstd(entry, 'entry-4', 4)).workers, 4);
});

test('an entry decoded for a base nobody waits to see on the disk (durable off): the same bytes and holes, each data block written once, directly or copied', async () => {
  const entry = join(dir, 'deferred.entry');
  await writeEntry(disk, entry);
  const waited = await checkAgainstZstd(entry, 'entry-durable', 2);
  const deferred = await checkAgainstZstd(entry, 'entry-deferred', 2, false);
  assert.equal(deferred.written.direct + deferred.written.pageCache, waited.written.direct + waited.written.pageCache);
  assert.ok(waited.written.direct > 0, 'a durable base goes out directly');
});

test('a disk slower than the decoders (durable off): the windows it keeps waiting are copied through the page cache, bytes and holes intact; a durable base never copies', async () => {
  const entry = join(dir, 'slow-disk.entry');
  await writeEntry(disk, entry);
  const decode = async (name: string, durable: boolean): Promise<ExtractResult> => {
    const out = join(dir, `${name}.out`);
    const run = await runTool([process.execPath, '--require', SLOW_DISK, EXTRACT_CHILD, entry, out, JSON.stringify({ maxWorkers: 2, durable })], { env: { ...process.env, SLOW_DIRECT_MS: '200' } });
    assert.equal(await sha256File(out), diskSha, name);
    assert.ok(allocatedBytes(out) <= allocatedBytes(disk), `${name}: ${allocatedBytes(out)} > ${allocatedBytes(disk)}`);
    return JSON.parse(run.stdout) as ExtractResult;
  };
  const deferred = await decode('slow-deferred', false);
  const durable = await decode('slow-durable', true);
  assert.ok(deferred.written.pageCache > 0, `nothing was copied: ${JSON.stringify(deferred.written)}`);
  assert.ok(deferred.written.direct > 0, `nothing went out directly: ${JSON.stringify(deferred.written)}`);
  assert.equal(durable.written.pageCache, 0);
  assert.equal(deferred.written.direct + deferred.written.pageCache, durable.written.direct);
  assert.equal(deferred.rawDigest, diskDigest);
});

test('workers started ahead of an entry decode it, and the ones it did not take can be ended', async () => {
  const entry = join(dir, 'disk.prestarted.entry');
  await writeEntry(disk, entry);
  prestartWorkers(3);
  assert.equal(spareWorkerCount(), 3);
  // Two workers are taken and decode the whole entry like zstd -d; the third stays spare.
  assert.equal((await checkAgainstZstd(entry, 'prestarted-2', 2)).workers, 2);
  assert.equal(spareWorkerCount(), 1);
  dropSpareWorkers();
  assert.equal(spareWorkerCount(), 0);
  // Nothing spare left: the next decoding starts its own.
  assert.equal((await checkAgainstZstd(entry, 'prestarted-none', 2)).workers, 2);
});

test('damage in one frame fails the whole parallel extraction and leaves nothing', async () => {
  const source = await concatenatedFrames('damaged', [20, 40, 60, 80, 100, 120]);
  const bytes = readFileSync(source);
  // Flip a byte near the end of the fourth frame's compressed data: its checksum (or its blocks) no longer fit.
  const starts: number[] = [];
  for (let at = bytes.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); at >= 0; at = bytes.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), at + 1)) starts.push(at);
  const damaged = Buffer.from(bytes);
  damaged[starts[4] - 10] ^= 0x20;
  const flipped = join(dir, 'flipped.img.zst');
  writeFileSync(flipped, damaged);
  await assert.rejects(extractToRaw(flipped, join(dir, 'flipped.out'), { maxWorkers: 3 }), (e: Error) => e instanceof SourceError && e.message.startsWith(flipped) && /corrupt/.test(e.message));
  assert.equal(existsSync(join(dir, 'flipped.out')), false);

  const entry = join(dir, 'damaged.entry');
  await writeEntry(disk, entry);
  const index = await readEntryIndex(entry);
  const frame = index.frames.filter((f) => f.kind === 'data')[3];
  const entryBytes = readFileSync(entry);
  entryBytes[frame.compressedOffset + frame.compressedSize - 6] ^= 0x01;
  writeFileSync(entry, entryBytes);
  await assert.rejects(extractToRaw(entry, join(dir, 'entry.out'), { maxWorkers: 2 }), (e: Error) => e.message.startsWith(entry) && /corrupt|checksum/.test(e.message));
  assert.equal(existsSync(join(dir, 'entry.out')), false);
});

test('SIGTERM during a parallel decode: exit 143, nothing in tmp or bases', async () => {
  const big = join(dir, 'big.img');
  await makeSparseFile(big, 640 * MiB, [{ offset: 0, length: 600 * MiB }]);
  const entry = join(dir, 'big.img.zst');
  await writeEntry(big, entry);
  const store = join(dir, 'store');
  const child = spawn(process.execPath, [BIN, 'prepare', '--image', entry, '--key', 'parallel-interrupted', '--cache-dir', store, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let ended = false;
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c))).finally(() => (ended = true));
  const tmp = join(store, 'v1', 'tmp');
  while (!ended && !(existsSync(tmp) && listDir(tmp).some((name) => name.endsWith('.img')))) await new Promise((r) => setTimeout(r, 10));
  assert.equal(ended, false, `prepare ended before the signal: ${stderr}`);
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGTERM');
  assert.equal(await exited, 143, stderr);
  assert.deepEqual(listDir(tmp), [], 'temp files removed');
  assert.deepEqual(listDir(join(store, 'v1', 'bases')), [], 'nothing published');
});
