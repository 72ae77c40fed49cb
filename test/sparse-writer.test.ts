import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { extractToRaw } from '../src/core/extract/index.js';
import { SparseWriter } from '../src/core/extract/write/sparse-writer.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { allocatedBytes, directIoWorksIn, isRoot, makeSparseFile, tempDir } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The comparisons below mean something only where O_DIRECT works: elsewhere both writers go through
 * the page cache and would compare it with itself. As root, the tests get an ext4 filesystem of
 * their own on a loop device, whatever the temp dir's filesystem is (tmpfs refuses O_DIRECT);
 * otherwise they run in the temp dir, and skip, saying why, where it refuses direct I/O.
 */
async function directIoDir(): Promise<string> {
  if (!isRoot()) return tempDir();
  const scratch = mkdtempSync(join(tmpdir(), 'basecow-ext4-'));
  const image = join(scratch, 'fs.img');
  const mount = join(scratch, 'mnt');
  let mounted = false;
  // Unmounting a `mount -o loop` also detaches its loop device (autoclear).
  const cleanup = async (): Promise<void> => {
    if (mounted) await runTool(['umount', mount]);
    mounted = false;
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    mkdirSync(mount);
    await runTool(['truncate', '-s', '256M', image]);
    await runTool(['mkfs.ext4', '-q', image]);
    await runTool(['mount', '-o', 'loop', image, mount]);
    mounted = true;
  } catch (error) {
    await cleanup();
    throw error;
  }
  after(cleanup);
  return mount;
}

const dir = await directIoDir();
let files = 0;

/**
 * A disk image whose data starts and ends off block boundaries, with whole zero blocks (holes to
 * be), zero bytes inside data blocks, and data after a zero stretch longer than the write stage.
 */
function sampleImage(): Buffer {
  const image = Buffer.alloc(7 * MiB + 1234);
  randomBytes(300 * KiB + 17).copy(image, 100);
  randomBytes(5).copy(image, 400 * KiB + 4095);
  randomBytes(2 * MiB + 3000).copy(image, 1 * MiB + 512);
  image.fill(0, 2 * MiB, 2 * MiB + 8 * KiB);
  randomBytes(1000).copy(image, 7 * MiB + 234);
  return image;
}

/** Bytes in the 4 KiB blocks that hold any non-zero byte: what a sparse copy must allocate at most. */
function dataBlockBytes(image: Buffer): number {
  let bytes = 0;
  for (let at = 0; at < image.length; at += 4096) {
    if (image.subarray(at, Math.min(image.length, at + 4096)).some((b) => b !== 0)) bytes += 4096;
  }
  return bytes;
}

/** Feeds `image` to a writer in pieces of the given sizes, in turn, at consecutive offsets. */
async function writeInPieces(image: Buffer, sizes: number[], directIo: boolean): Promise<{ path: string; written: { direct: number; pageCache: number } }> {
  const path = join(dir, `out-${++files}.img`);
  const writer = await SparseWriter.create(path, { directIo });
  for (let at = 0, i = 0; at < image.length; i++) {
    const end = Math.min(image.length, at + sizes[i % sizes.length]);
    await writer.write(image.subarray(at, end), at);
    at = end;
  }
  await writer.finish(image.length);
  return { path, written: writer.writtenBytes };
}

const directIo = directIoWorksIn(dir);
// As root the filesystem is ours, and ext4 takes O_DIRECT: not taking it there is a failure.
if (isRoot()) assert.ok(directIo, `O_DIRECT refused on the loop-mounted ext4 at ${dir}`);
const skip = !directIo && 'the test directory does not take O_DIRECT (run as root to test on a loop-mounted ext4)';

for (const sizes of [[512 * KiB], [1000, 7, 65536 + 3], [3 * MiB + 5]]) {
  test(`direct and page-cache writes give the same bytes and holes (pieces of ${sizes.join(', ')} bytes)`, { skip }, async () => {
    const image = sampleImage();
    const direct = await writeInPieces(image, sizes, true);
    const buffered = await writeInPieces(image, sizes, false);
    for (const { path } of [direct, buffered]) {
      assert.ok(readFileSync(path).equals(image), `${path} differs from the image`);
      assert.ok(allocatedBytes(path) <= dataBlockBytes(image), `${path} allocates ${allocatedBytes(path)} bytes, data blocks hold ${dataBlockBytes(image)}`);
    }
    assert.equal(buffered.written.direct, 0);
    // Non-zero pieces of blocks, as written: the same total whichever way they went.
    assert.equal(direct.written.direct + direct.written.pageCache, buffered.written.pageCache);
    assert.ok(direct.written.direct > 0.9 * buffered.written.pageCache, `only ${direct.written.direct} of ${buffered.written.pageCache} bytes went out directly`);
  });
}

test('writes at scattered, unaligned offsets land right through direct I/O', { skip }, async () => {
  const path = join(dir, 'scattered.img');
  const size = 9 * MiB;
  const expected = Buffer.alloc(size);
  const writer = await SparseWriter.create(path);
  // Off alignment, with a run that starts and ends inside one block; out of order too, which the
  // writer allows although tar's sparse maps are checked to be in order.
  for (const [offset, length] of [[6 * MiB + 333, 70 * KiB], [5 * MiB + 1000, 10], [4096, 8192], [1 * MiB - 100, 2 * MiB + 200], [8 * MiB, 1]]) {
    const data = randomBytes(length);
    data.copy(expected, offset);
    await writer.write(data, offset);
  }
  await writer.finish(size);
  assert.ok(readFileSync(path).equals(expected));
  assert.ok(allocatedBytes(path) <= dataBlockBytes(expected) + 4096);
  assert.ok(writer.writtenBytes.direct > 2 * MiB, `${writer.writtenBytes.direct} bytes went out directly`);
});

test('a file given a short length is written through the page cache, a long one past it', { skip }, async () => {
  for (const [length, way] of [[512 * 1024, 'pageCache'], [4 * MiB, 'direct']] as const) {
    const path = join(dir, `length-${length}.img`);
    const writer = await SparseWriter.create(path);
    writer.setLength(length);
    const data = randomBytes(length);
    await writer.write(data, 0);
    await writer.finish(length);
    assert.ok(readFileSync(path).equals(data));
    assert.equal(writer.writtenBytes[way], length);
  }
});

test('a .img.zst extraction writes its data past the page cache where the filesystem allows', { skip }, async () => {
  const disk = join(dir, 'disk.img');
  await makeSparseFile(disk, 24 * MiB + 100, [
    { offset: 0, length: 3 * MiB },
    { offset: 9 * MiB + 5, length: 4 * MiB },
    { offset: 24 * MiB - 4000, length: 4100 },
  ]);
  await runTool(['zstd', '-q', '-f', disk, '-o', `${disk}.zst`]);
  const out = join(dir, 'from-zstd.img');
  const { written } = await extractToRaw(`${disk}.zst`, out);
  assert.ok(readFileSync(out).equals(readFileSync(disk)));
  // All of it, the partial last block too (filled out with zeros, then cut back by the truncate).
  assert.equal(written.pageCache, 0);
  assert.equal(written.direct + written.pageCache, 3 * MiB + (4 * MiB + 4096) + 4096 + 100);
});
