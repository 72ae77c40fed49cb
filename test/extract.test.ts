import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SourceError } from '../src/core/errors.js';
import { detectFormat, extractToRaw } from '../src/core/extract/index.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { allocatedBytes, makeSparseFile, sha256File, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const dir = tempDir();
const disk = join(dir, 'disk.img');
// Regions straddle 4 KiB boundaries on purpose, and the file ends in a hole.
await makeSparseFile(disk, 96 * MiB, [
  { offset: 0, length: 1 * MiB },
  { offset: 5 * MiB + 100, length: 3 * MiB + 7 },
  { offset: 20 * MiB, length: 64 * 1024 },
  { offset: 47 * MiB - 4096, length: 8 * MiB },
]);
const diskDigest = await sha256File(disk);

/** Runs `make` the first time it is asked for, so that each test that uses its output also runs alone. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

const diskZst = once(async () => {
  const zst = join(dir, 'disk.img.zst');
  await runTool(['zstd', '-q', '-3', '-f', disk, '-o', zst]);
  return zst;
});

const TAR_FORMATS = { gnu: ['--format=gnu'], pax1: ['--format=posix', '--sparse-version=1.0'] } as const;

/** The disk with a member before it, in a sparse tar of the given format, and that tar compressed. */
const tarSource = once(async () => {
  const src = join(dir, 'tar-src');
  mkdirSync(src);
  writeFileSync(join(src, 'notes.txt'), 'x'.repeat(700_000));
  await runTool(['cp', '--sparse=always', disk, join(src, 'disk.img')]);
  for (const [name, format] of Object.entries(TAR_FORMATS)) {
    const tar = join(dir, `${name}.tar`);
    await runTool(['tar', '--sparse', ...format, '-C', src, '-cf', tar, 'notes.txt', 'disk.img']);
    await runTool(['zstd', '-q', '-f', tar, '-o', `${tar}.zst`]);
  }
  return (name: keyof typeof TAR_FORMATS) => join(dir, `${name}.tar`);
});

async function zstdReference(input: string, name: string): Promise<string> {
  const out = join(dir, `${name}.ref`);
  await runTool(['zstd', '-q', '-d', '-f', input, '-o', out]);
  return out;
}

test('.img.zst extracts byte-identical to zstd -d, with no more allocation', async () => {
  const zst = await diskZst();
  const ref = await zstdReference(zst, 'single');
  const out = join(dir, 'single.img');
  const result = await extractToRaw(zst, out);
  assert.equal(result.format, 'zstd');
  assert.equal(result.size, 96 * MiB);
  assert.equal(await sha256File(out), await sha256File(ref));
  assert.equal(await sha256File(out), diskDigest);
  assert.ok(allocatedBytes(out) <= allocatedBytes(ref), `ours ${allocatedBytes(out)} > zstd's ${allocatedBytes(ref)}`);
  // The 96 MiB disk holds about 12 MiB of data: holes must survive.
  assert.ok(allocatedBytes(out) < 14 * MiB, `allocated ${allocatedBytes(out)}`);
});

test('multi-frame zstd (concatenated frames, a skippable frame between) extracts every frame', async () => {
  const first = join(dir, 'part1.img');
  const second = join(dir, 'part2.img');
  writeFileSync(first, readFileSync(disk).subarray(0, 40 * MiB));
  writeFileSync(second, readFileSync(disk).subarray(40 * MiB));
  await runTool(['zstd', '-q', '-f', first, '-o', `${first}.zst`]);
  await runTool(['zstd', '-q', '-f', second, '-o', `${second}.zst`]);
  const skippable = Buffer.alloc(8 + 5);
  skippable.writeUInt32LE(0x184d2a53, 0);
  skippable.writeUInt32LE(5, 4);
  const multi = join(dir, 'multi.img.zst');
  writeFileSync(multi, Buffer.concat([readFileSync(`${first}.zst`), skippable, readFileSync(`${second}.zst`)]));
  const ref = await zstdReference(multi, 'multi');
  const out = join(dir, 'multi.img');
  await extractToRaw(multi, out);
  assert.equal(await sha256File(out), diskDigest);
  assert.equal(await sha256File(ref), diskDigest);
  assert.ok(allocatedBytes(out) <= allocatedBytes(ref));
});

test('a frame with a 2 GiB window (zstd --long=31 from a pipe) extracts like zstd -d --long=31', async () => {
  const zst = join(dir, 'long.img.zst');
  // Reading a pipe, zstd cannot size its input, so the frame keeps the whole window it was given.
  await runTool(['bash', '-c', `zstd -q --long=31 -c < '${disk}' > '${zst}'`]);
  const { stdout } = await runTool(['zstd', '-lv', zst]);
  assert.match(stdout, /Window Size: 2\.00 GiB/);
  const ref = join(dir, 'long.ref');
  await runTool(['zstd', '-q', '-d', '--long=31', '-f', zst, '-o', ref]);
  const out = join(dir, 'long.img');
  await extractToRaw(zst, out);
  assert.equal(await sha256File(out), diskDigest);
  assert.equal(await sha256File(ref), diskDigest);
  assert.ok(allocatedBytes(out) <= allocatedBytes(ref));
});

test('.tar.zst (GNU sparse and PAX 1.0 members, other members around) matches GNU tar -x', async () => {
  const tarOf = await tarSource();
  for (const name of ['gnu', 'pax1'] as const) {
    const tar = tarOf(name);
    const ref = join(dir, `${name}-ref`);
    mkdirSync(ref);
    await runTool(['tar', '-xf', `${tar}.zst`, '-C', ref]);
    const out = join(dir, `${name}.img`);
    const result = await extractToRaw(`${tar}.zst`, out);
    assert.equal(result.format, 'tar+zstd');
    assert.equal(await sha256File(out), diskDigest, name);
    assert.equal(await sha256File(join(ref, 'disk.img')), diskDigest);
    assert.ok(allocatedBytes(out) <= allocatedBytes(join(ref, 'disk.img')), `${name}: ours ${allocatedBytes(out)} > tar's ${allocatedBytes(join(ref, 'disk.img'))}`);
  }
});

test('raw .img copies keep holes and content', async () => {
  const out = join(dir, 'raw-copy.img');
  const result = await extractToRaw(disk, out);
  assert.equal(result.format, 'raw');
  assert.equal(await sha256File(out), diskDigest);
  assert.ok(allocatedBytes(out) <= allocatedBytes(disk), `copy ${allocatedBytes(out)} > source ${allocatedBytes(disk)}`);
});

test('a raw image whose zero blocks were allocated comes out with them as holes', async () => {
  const dense = join(dir, 'dense.raw');
  const data = Buffer.alloc(8 * MiB);
  data.fill(7, 3 * MiB, 3 * MiB + 10);
  writeFileSync(dense, data);
  const out = join(dir, 'dense-copy.img');
  await extractToRaw(dense, out);
  assert.deepEqual(readFileSync(out), data);
  assert.ok(allocatedBytes(out) <= 8192, `allocated ${allocatedBytes(out)}`);
});

test('format is checked against content, and mislabelled or unusable files fail clearly', async () => {
  const fake = join(dir, 'fake.img.zst');
  writeFileSync(fake, 'not zstd at all');
  await assert.rejects(detectFormat(fake), (e: Error) => e instanceof SourceError && e.message.includes(fake) && /zstd frame/.test(e.message));
  const qcow = join(dir, 'disk.qcow2');
  await runTool(['qemu-img', 'create', '-q', '-f', 'qcow2', qcow, '16M']);
  await assert.rejects(detectFormat(qcow), (e: Error) => e.message.includes(qcow) && /qcow2/.test(e.message));
  const missing = join(dir, 'nope.img.zst');
  await assert.rejects(detectFormat(missing), (e: Error) => e.message.includes(missing) && /ENOENT|no such file/i.test(e.message));
  // A name that states no format leaves it to the content; when decoding then fails, the error says why it was decoded.
  const lookalike = join(dir, 'lookalike.img');
  writeFileSync(lookalike, Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(8192, 0xa5)]));
  assert.equal(await detectFormat(lookalike), 'zstd');
  await assert.rejects(extractToRaw(lookalike, join(dir, 'lookalike.out')), (e: Error) => {
    assert.ok(e instanceof SourceError && e.message.startsWith(lookalike), e.message);
    assert.match(e.message, /read as zstd because that is how its content starts; its name does not say/);
    return true;
  });
  assert.equal(existsSync(join(dir, 'lookalike.out')), false);
});

test('truncated and corrupt zstd fail naming the file, and leave no output behind', async () => {
  const bytes = readFileSync(await diskZst());
  const truncated = join(dir, 'truncated.img.zst');
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const out1 = join(dir, 'truncated.out');
  await assert.rejects(extractToRaw(truncated, out1), (e: Error) => e instanceof SourceError && e.message.startsWith(truncated) && /truncated/.test(e.message));
  assert.throws(() => readFileSync(out1), /ENOENT/);

  const corrupt = Buffer.from(bytes);
  for (let i = 0; i < 64; i++) corrupt[Math.floor(corrupt.length / 3) + i * 101] ^= 0x5a;
  const corruptPath = join(dir, 'corrupt.img.zst');
  writeFileSync(corruptPath, corrupt);
  const out2 = join(dir, 'corrupt.out');
  await assert.rejects(extractToRaw(corruptPath, out2), (e: Error) => e instanceof SourceError && e.message.startsWith(corruptPath) && /corrupt|checksum/i.test(e.message));
  assert.throws(() => readFileSync(out2), /ENOENT/);

  const trailing = join(dir, 'trailing.img.zst');
  writeFileSync(trailing, Buffer.concat([bytes, Buffer.from('not a frame at all')]));
  await assert.rejects(extractToRaw(trailing, join(dir, 'trailing.out')), (e: Error) => {
    assert.ok(e instanceof SourceError && e.message.startsWith(trailing), e.message);
    assert.match(e.message, new RegExp(`from compressed byte ${bytes.length} on, after a complete zstd frame, is not another frame`));
    return true;
  });
  assert.equal(existsSync(join(dir, 'trailing.out')), false);

  // A small frame that the decoder takes in one call, damaged inside its only block: corruption in
  // that frame, not bytes that fail to be a frame.
  const tiny = (await runTool(['bash', '-c', 'head -c 1023 /dev/zero | zstd -q -6 --no-check -c | base64 -w0'])).stdout;
  const damagedTiny = Buffer.from(tiny, 'base64');
  damagedTiny[14] ^= 0x20;
  const lastFrameDamaged = join(dir, 'last-frame-damaged.img.zst');
  writeFileSync(lastFrameDamaged, Buffer.concat([bytes, damagedTiny]));
  await assert.rejects(extractToRaw(lastFrameDamaged, join(dir, 'last-frame-damaged.out')), (e: Error) => {
    assert.ok(e instanceof SourceError && e.message.startsWith(lastFrameDamaged), e.message);
    assert.match(e.message, new RegExp(`corrupt zstd data near compressed byte ${bytes.length}: `));
    return true;
  });
  assert.equal(existsSync(join(dir, 'last-frame-damaged.out')), false);

  const empty = join(dir, 'empty.img.zst');
  writeFileSync(empty, '');
  await assert.rejects(extractToRaw(empty, join(dir, 'empty.out')), (e: Error) => e.message.startsWith(empty));
});

test('.tar.zst whose PAX header data crosses a decompressed-buffer boundary matches GNU tar -x', async () => {
  // PAX sparse 0.1 keeps the whole map in the 'x' header's data: 200 regions make it several blocks
  // long. A pad member in front moves that data across the 512 KiB mark where one decompressed
  // buffer ends and the next begins, so reading it takes bytes from two buffers.
  const src = join(dir, 'pax-boundary');
  mkdirSync(src);
  const regions = Array.from({ length: 200 }, (_, i) => ({ offset: i * 64 * 1024 + 4096, length: 100 }));
  await makeSparseFile(join(src, 'disk.img'), 16 * MiB, regions);
  const digest = await sha256File(join(src, 'disk.img'));
  const tar = join(dir, 'pax01.tar');
  const build = async (padBytes: number): Promise<Buffer> => {
    writeFileSync(join(src, 'pad.bin'), Buffer.alloc(padBytes, 7));
    await runTool(['tar', '--sparse', '--format=posix', '--sparse-version=0.1', '--pax-option=delete=atime,delete=ctime', '-C', src, '-cf', tar, 'pad.bin', 'disk.img']);
    return readFileSync(tar);
  };
  /** Offset of the 'x' header in front of disk.img's own header. */
  const paxHeaderOfDisk = (archive: Buffer): number => {
    let lastPax = -1;
    for (let at = 0; at + 512 <= archive.length; ) {
      const name = archive.toString('latin1', at, at + 100).replace(/\0.*$/s, '');
      if (!name) break;
      const type = String.fromCharCode(archive[at + 156]);
      const size = parseInt(archive.toString('latin1', at + 124, at + 136).replace(/\0.*$/s, '').trim(), 8);
      if (type === 'x') lastPax = at;
      else if (name.endsWith('disk.img')) return lastPax;
      at += 512 + Math.ceil(size / 512) * 512;
    }
    throw new Error('no x header before disk.img');
  };
  const BOUNDARY = 512 * 1024;
  const first = paxHeaderOfDisk(await build(100 * 1024));
  const archive = await build(100 * 1024 + (BOUNDARY - 1024 - first));
  const header = paxHeaderOfDisk(archive);
  const dataSize = parseInt(archive.toString('latin1', header + 124, header + 136).replace(/\0.*$/, '').trim(), 8);
  assert.equal(header + 512, BOUNDARY - 512, 'the header data starts one block before the boundary');
  assert.ok(dataSize > 512, `the map (${dataSize} bytes) reaches past the boundary`);
  await runTool(['zstd', '-q', '-f', tar, '-o', `${tar}.zst`]);
  const out = join(dir, 'pax01.img');
  await extractToRaw(`${tar}.zst`, out);
  assert.equal(await sha256File(out), digest);
  const ref = join(dir, 'pax01-ref');
  mkdirSync(ref);
  await runTool(['tar', '-xf', tar, '-C', ref]);
  assert.equal(await sha256File(join(ref, 'disk.img')), digest);
  assert.ok(allocatedBytes(out) <= allocatedBytes(join(ref, 'disk.img')));
});

test('an aborted signal stops extraction of every format before it writes, and removes the partial output', async () => {
  const gnuTar = (await tarSource())('gnu');
  const sources = [await diskZst(), `${gnuTar}.zst`, gnuTar, disk];
  for (const source of sources) {
    assert.ok(existsSync(source), source);
    const out = join(dir, `aborted-${sources.indexOf(source)}.img`);
    const reason = new Error(`stop ${source}`);
    await assert.rejects(extractToRaw(source, out, { signal: AbortSignal.abort(reason) }), (e: unknown) => e === reason);
    assert.equal(existsSync(out), false, `${out} removed`);
  }
});
