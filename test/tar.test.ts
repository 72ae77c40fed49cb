import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { SourceError } from '../src/core/errors.js';
import { readChunks } from '../src/core/extract/chunks.js';
import { SparseWriter } from '../src/core/extract/write/sparse-writer.js';
import { extractTarMember } from '../src/core/extract/tar.js';
import { allocatedBytes, diskUsageBytes, makeSparseFile, tempDir, type Region } from './helpers.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Seven data regions: more than the four an old GNU sparse header holds, one of them not block-aligned. */
const DISK_REGIONS: Region[] = [
  { offset: 0, length: 5000 },
  { offset: 1 * MiB, length: 4096 },
  { offset: 3 * MiB, length: 70_000 },
  { offset: 5 * MiB + 123, length: 9999 },
  { offset: 8 * MiB, length: 12_288 },
  { offset: 12 * MiB, length: 100 },
  { offset: 14 * MiB, length: 65_536 },
];
const DISK_SIZE = 16 * MiB;
const DEEP_DIR = `${'a'.repeat(60)}/${'b'.repeat(60)}`;
const LONG_NAME = `images/${'p'.repeat(120)}.img`;

const dir = tempDir('basecow-tar-');
const src = path.join(dir, 'src');
let outputs = 0;

before(async () => {
  fs.mkdirSync(path.join(src, DEEP_DIR), { recursive: true });
  fs.mkdirSync(path.join(src, 'images'));
  await makeSparseFile(path.join(src, 'disk.img'), DISK_SIZE, DISK_REGIONS);
  fs.writeFileSync(path.join(src, 'notes.txt'), 'not the image\n');
  // Zeros written out explicitly: GNU tar extracts them as data, the writer as a hole.
  const plain = Buffer.concat([randomBytes(100_000), Buffer.alloc(200_000), randomBytes(50_000)]);
  fs.writeFileSync(path.join(src, DEEP_DIR, 'plain.img'), plain);
  fs.writeFileSync(path.join(src, LONG_NAME), plain);
});

function tar(args: string[], cwd = dir): void {
  execFileSync('tar', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function createArchive(name: string, args: string[], members: string[]): string {
  const archive = path.join(dir, name);
  tar([...args, '-cf', archive, '-C', src, ...members]);
  return archive;
}

/** GNU tar's own extraction, the reference for content and allocation. */
function gnuExtract(archive: string): string {
  const target = fs.mkdtempSync(path.join(dir, 'ref-'));
  tar(['-xf', archive, '-C', target]);
  return target;
}

async function* slices(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < data.length; i++) {
    const end = at + sizes[i % sizes.length];
    yield data.subarray(at, end);
    at = end;
  }
}

/** Odd chunk sizes, so headers and sparse maps straddle chunks. */
function oddChunks(archive: string): AsyncGenerator<Buffer> {
  return slices(fs.readFileSync(archive), [1000, 7]);
}

async function extract(archive: string, member: string, chunks = oddChunks(archive)): Promise<{ out: string; size: number }> {
  const out = path.join(dir, `out-${++outputs}.img`);
  const writer = await SparseWriter.create(out);
  try {
    const { size } = await extractTarMember(chunks, member, writer, archive);
    await writer.finish(size);
    return { out, size };
  } catch (error) {
    await writer.discard();
    throw error;
  }
}

function assertSameAsGnu(ours: string, reference: string): void {
  assert.ok(fs.readFileSync(ours).equals(fs.readFileSync(reference)), `${ours} differs from ${reference}`);
  assert.ok(allocatedBytes(ours) <= allocatedBytes(reference), `ours allocates ${allocatedBytes(ours)} bytes, GNU tar ${allocatedBytes(reference)}`);
}

async function assertFails(archive: string, member: string, pattern: RegExp): Promise<void> {
  await assert.rejects(extract(archive, member), (error: unknown) => {
    assert.ok(error instanceof SourceError, String(error));
    assert.ok(error.message.startsWith(`${archive}: `), error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

function writeArchive(name: string, data: Buffer): string {
  const archive = path.join(dir, name);
  fs.writeFileSync(archive, data);
  return archive;
}

/** Finds the first old GNU sparse header, to check the archive really uses extension blocks. */
function oldGnuSparseHeader(data: Buffer): number {
  for (let at = 0; at + 512 <= data.length; at += 512) {
    if (data[at + 156] === 'S'.charCodeAt(0) && data.toString('latin1', at + 257, at + 265) === 'ustar  \0') return at;
  }
  return -1;
}

const formats: { title: string; args: string[]; members: string[]; member: string; source: string }[] = [
  { title: 'old GNU sparse, archived as .', args: ['--format=gnu', '--sparse'], members: ['.'], member: 'disk.img', source: 'disk.img' },
  ...['0.0', '0.1', '1.0'].map((version) => ({
    title: `PAX sparse ${version}`,
    args: ['--format=posix', '--sparse', `--sparse-version=${version}`],
    members: ['notes.txt', 'disk.img'],
    member: 'disk.img',
    source: 'disk.img',
  })),
  { title: 'ustar with a prefix field', args: ['--format=ustar'], members: [`${DEEP_DIR}/plain.img`], member: `${DEEP_DIR}/plain.img`, source: `${DEEP_DIR}/plain.img` },
  { title: 'GNU long name', args: ['--format=gnu'], members: ['notes.txt', LONG_NAME], member: LONG_NAME, source: LONG_NAME },
  { title: 'PAX long path', args: ['--format=posix'], members: [LONG_NAME, 'notes.txt'], member: LONG_NAME, source: LONG_NAME },
];

for (const [i, format] of formats.entries()) {
  test(`extracts like GNU tar: ${format.title}`, async () => {
    const archive = createArchive(`format-${i}.tar`, format.args, format.members);
    const reference = path.join(gnuExtract(archive), format.member);
    const { out, size } = await extract(archive, format.member);
    assert.equal(size, fs.statSync(path.join(src, format.source)).size);
    assertSameAsGnu(out, reference);
  });
}

test('sparse regions on 512-byte boundaries (tar --hole-detection=raw): no more allocation than GNU tar', async () => {
  // Each pair of regions shares a 4 KiB block: runs start and end inside blocks. Written partly
  // past the page cache and partly through it, such runs used to split into twice GNU tar's 200
  // extents, which took another block of extent tree (a leaf holds 340): du, not only the data
  // blocks, must not exceed GNU tar's.
  const name = 'raw-holes.img';
  const groups = Array.from({ length: 200 }, (_, i) => i * 64 * 1024);
  await makeSparseFile(path.join(src, name), 13 * MiB, groups.flatMap((at) => [{ offset: at, length: 5120 }, { offset: at + 5632, length: 3000 }]));
  for (const format of [['--format=gnu'], ['--format=posix', '--sparse-version=1.0']]) {
    const archive = createArchive(`raw-holes-${format.length}.tar`, [...format, '--sparse', '--hole-detection=raw'], [name]);
    const reference = path.join(gnuExtract(archive), name);
    const { out } = await extract(archive, name, readChunks(archive));
    assertSameAsGnu(out, reference);
    assert.ok(diskUsageBytes(out) <= diskUsageBytes(reference), `du: ours ${diskUsageBytes(out)} bytes, GNU tar's ${diskUsageBytes(reference)}`);
  }
});

test('old GNU sparse archive has extension blocks and reads in 4 MiB chunks', async () => {
  const archive = createArchive('gnu-sparse.tar', ['--format=gnu', '--sparse'], ['disk.img']);
  const header = oldGnuSparseHeader(fs.readFileSync(archive));
  assert.ok(header >= 0 && fs.readFileSync(archive)[header + 482] === 1, 'expected an extended old GNU sparse header');
  const { out } = await extract(archive, './disk.img', readChunks(archive));
  assertSameAsGnu(out, path.join(gnuExtract(archive), 'disk.img'));
});

test('sparse maps spanning several blocks: many extension blocks, a 1.0 map across block boundaries', async () => {
  const regions = Array.from({ length: 300 }, (_, i) => ({ offset: i * 64 * 1024 + (i % 7) * 512, length: 1000 + i }));
  await makeSparseFile(path.join(src, 'many.img'), 300 * 64 * 1024 + 4096, regions);
  const variants = [['--format=gnu'], ...['0.0', '0.1', '1.0'].map((version) => ['--format=posix', `--sparse-version=${version}`])];
  for (const [i, args] of variants.entries()) {
    const archive = createArchive(`many-${i}.tar`, [...args, '--sparse'], ['many.img']);
    const { out } = await extract(archive, 'many.img');
    assertSameAsGnu(out, path.join(gnuExtract(archive), 'many.img'));
  }
});

test('old GNU sparse member over 8 GiB (base-256 size field)', async () => {
  const huge = path.join(src, 'huge.img');
  const regions = [{ offset: 0, length: 4096 }, { offset: 8 * GiB + 4096, length: 10_000 }];
  await makeSparseFile(huge, 9 * GiB, regions);
  try {
    const archive = createArchive('huge.tar', ['--format=gnu', '--sparse'], ['huge.img']);
    const header = oldGnuSparseHeader(fs.readFileSync(archive));
    assert.ok(header >= 0 && fs.readFileSync(archive)[header + 483] === 0x80, 'expected a base-256 realsize');
    const reference = path.join(gnuExtract(archive), 'huge.img');
    const { out, size } = await extract(archive, 'huge.img');
    assert.equal(size, 9 * GiB);
    assert.equal(fs.statSync(out).size, 9 * GiB);
    assert.ok(allocatedBytes(out) <= allocatedBytes(reference));
    for (const { offset, length } of regions) {
      assert.ok(readAt(out, offset, length).equals(readAt(reference, offset, length)), `region at ${offset} differs`);
    }
  } finally {
    fs.rmSync(huge);
  }
});

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

test('accepts a missing end-of-archive marker and ignores data after it', async () => {
  const archive = createArchive('plain.tar', ['--format=ustar'], [`${DEEP_DIR}/plain.img`]);
  const data = fs.readFileSync(archive);
  const plain = fs.readFileSync(path.join(src, DEEP_DIR, 'plain.img'));
  const memberEnd = 512 + Math.ceil(plain.length / 512) * 512;
  for (const variant of [data.subarray(0, memberEnd), Buffer.concat([data, randomBytes(3000)])]) {
    const { out } = await extract(writeArchive(`variant-${++outputs}.tar`, variant), `${DEEP_DIR}/plain.img`);
    assert.ok(fs.readFileSync(out).equals(plain));
  }
});

test('missing member: names the archive, the member and what was seen', async () => {
  const archive = createArchive('missing.tar', ['--format=gnu'], ['notes.txt', 'disk.img']);
  await assertFails(archive, 'other.img', /member 'other\.img' not found.*notes\.txt, disk\.img/);
});

test('member that is a symbolic link', async () => {
  const links = path.join(dir, 'links');
  fs.mkdirSync(links);
  fs.symlinkSync('notes.txt', path.join(links, 'disk.img'));
  const archive = path.join(dir, 'symlink.tar');
  tar(['-cf', archive, '-C', links, 'disk.img']);
  await assertFails(archive, 'disk.img', /symbolic link to 'notes\.txt', expected a regular file/);
});

test('unsafe requested member', async () => {
  const archive = createArchive('safe.tar', ['--format=gnu'], ['disk.img']);
  await assertFails(archive, '../disk.img', /unsafe path/);
  await assertFails(archive, '/disk.img', /unsafe path/);
});

test('archive entry with .. in its name', async () => {
  const sub = path.join(dir, 'evil', 'sub');
  fs.mkdirSync(sub, { recursive: true });
  fs.writeFileSync(path.join(dir, 'evil', 'disk.img'), 'escapes\n');
  const archive = path.join(dir, 'evil.tar');
  tar(['-cf', archive, '-P', '../disk.img'], sub);
  await assertFails(archive, 'disk.img', /member '\.\.\/disk\.img' has an unsafe path/);
});

test('truncated archive: inside member data and inside a header', async () => {
  const data = fs.readFileSync(createArchive('whole.tar', ['--format=posix', '--sparse', '--sparse-version=1.0'], ['disk.img']));
  await assertFails(writeArchive('cut-data.tar', data.subarray(0, 5000)), 'disk.img', /ends inside member 'disk\.img' \(got \d+ of \d+ bytes\)/);
  await assertFails(writeArchive('cut-header.tar', data.subarray(0, 1024 + 300)), 'disk.img', /ends inside a header at byte 1024/);
});

test('header with a flipped byte fails its checksum', async () => {
  const data = fs.readFileSync(createArchive('flip.tar', ['--format=gnu'], ['notes.txt', 'disk.img']));
  data[1024 + 2] ^= 0x01;
  await assertFails(writeArchive('flipped.tar', data), 'disk.img', /checksum mismatch at byte 1024/);
});

test('member appearing twice', async () => {
  const archive = createArchive('dup.tar', ['--format=gnu'], ['disk.img']);
  tar(['-rf', archive, '-C', src, 'disk.img']);
  await assertFails(archive, 'disk.img', /appears more than once/);
});

test('sparse map out of order', async () => {
  const data = fs.readFileSync(createArchive('map.tar', ['--format=posix', '--sparse', '--sparse-version=0.1'], ['disk.img']));
  const text = data.toString('latin1');
  const map = /GNU\.sparse\.map=(\d+,\d+),(\d+,\d+),/.exec(text);
  assert.ok(map, 'expected a GNU.sparse.map record');
  // Swapping two pairs keeps the record length, so only the map's order changes.
  const swapped = text.replace(map[0], `GNU.sparse.map=${map[2]},${map[1]},`);
  await assertFails(writeArchive('map-swapped.tar', Buffer.from(swapped, 'latin1')), 'disk.img', /out of order or overlapping/);
});
