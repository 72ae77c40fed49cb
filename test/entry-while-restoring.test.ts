// An L2 entry decoded while the remote cache is still restoring it: the cache hands the store the
// archive it is downloading (a zstd-compressed tar holding the entry, as the GitHub Actions cache
// restores one), written here in segments out of order with pauses between, as the client's
// concurrent download writes it. The base decoded from it is used only when it is the entry the
// restore returns; anything else falls back to decoding the restored file, with no warning.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GrowingArchive } from '../src/core/entry/archive-feed.js';
import { EntryTaskStream } from '../src/core/entry/stream.js';
import { writeEntry } from '../src/core/entry/write.js';
import { planFromEntry } from '../src/core/extract/parallel/plan.js';
import type { RemoteCache } from '../src/core/remote/remote-cache.js';
import { readGrowingFile } from '../src/core/remote/growing-file.js';
import { ensureBase } from '../src/core/store/ensure-base.js';
import type { Warning } from '../src/core/warnings.js';
import { allocatedBytes, makeSparseFile, sha256File, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const SEGMENT = 256 * 1024;
const dir = tempDir('basecow-early-');
const MEMBER = '.basecow-l2/k.zst';

/** A raw image with data in several 32 MiB segments and holes between, and its entry. */
async function prepared(name: string, seed = 0): Promise<{ raw: string; image: string; entry: string }> {
  const raw = join(dir, `${name}.img`);
  await makeSparseFile(raw, 150 * MiB, [
    { offset: MiB + seed * 4096, length: 5 * MiB },
    { offset: 40 * MiB, length: 30 * MiB },
    { offset: 100 * MiB, length: 2 * MiB },
    { offset: 140 * MiB, length: 10 * MiB },
  ]);
  const image = join(dir, `${name}.img.zst`);
  execFileSync('zstd', ['-q', '-f', raw, '-o', image]);
  const entry = join(dir, `${name}.entry.zst`);
  await writeEntry(raw, entry, {});
  return { raw, image, entry };
}

/** The archive the Actions cache would download for `entry`: tar (as the client writes it) through zstd. */
function archiveOf(entry: string, name: string): string {
  const root = join(dir, `${name}-tree`);
  mkdirSync(join(root, '.basecow-l2'), { recursive: true });
  copyFileSync(entry, join(root, MEMBER));
  const archive = join(dir, `${name}.tzst`);
  execFileSync('tar', ['--posix', '-cf', archive, '-P', '-C', root, '--use-compress-program', 'zstdmt', MEMBER]);
  return archive;
}

/** Writes `source` into `dest` in SEGMENT-sized pieces, each window of four in reverse order, pausing between. */
async function writeOutOfOrder(source: string, dest: string): Promise<void> {
  const bytes = readFileSync(source);
  const fd = openSync(dest, 'w');
  try {
    const count = Math.ceil(bytes.length / SEGMENT);
    for (let window = 0; window < count; window += 4) {
      for (let i = Math.min(count, window + 4) - 1; i >= window; i--) {
        writeSync(fd, bytes, i * SEGMENT, Math.min(SEGMENT, bytes.length - i * SEGMENT), i * SEGMENT);
        await sleep(1);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A remote cache that restores `entry` after "downloading" `archive` (out of order, as above) and
 * handing it to the store meanwhile; `hit` false makes the restore a miss after the download.
 */
function downloadingRemote(archive: string, entry: string, options: { hit?: boolean } = {}): RemoteCache & { archives: number } {
  const remote = {
    name: 'test',
    archives: 0,
    async restore(_key: string, { onArchive }: { onArchive?: (archive: GrowingArchive) => void }) {
      const download = join(dir, `download-${Date.now()}-${Math.random()}.tzst`);
      closeSync(openSync(download, 'w'));
      let done!: () => void;
      const complete = new Promise<void>((resolve) => (done = resolve));
      if (onArchive) {
        remote.archives++;
        onArchive({ path: download, member: MEMBER, segmentBytes: SEGMENT, complete });
      }
      try {
        await writeOutOfOrder(archive, download);
      } finally {
        done();
      }
      await rm(download, { force: true });
      if (options.hit === false) return undefined;
      const copy = join(dir, `restored-${Date.now()}.zst`);
      copyFileSync(entry, copy);
      return { path: copy, dispose: () => rm(copy, { force: true }) };
    },
  };
  return remote;
}

test('an entry read as it arrives gives the tasks the entry file plans, with the frames bytes attached', async () => {
  const { entry } = await prepared('tasks');
  const plan = (await planFromEntry(entry))!;
  const bytes = readFileSync(entry);
  // Chunks of odd sizes, so that headers and frames straddle them.
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = 0, size = 1; at < bytes.length; at += size, size = (size * 7 + 13) % (3 * MiB) + 1) yield bytes.subarray(at, at + size);
  }
  const stream = new EntryTaskStream(chunks(), entry);
  const tasks = [];
  for (let task = await stream.next(); task; task = await stream.next()) {
    for (const frame of task.frames.filter((f) => f.kind === 'data')) {
      const from = frame.compressedOffset - task.inputAt!;
      assert.ok(Buffer.from(task.input!.subarray(from, from + frame.compressedSize)).equals(bytes.subarray(frame.compressedOffset, frame.compressedOffset + frame.compressedSize)));
    }
    tasks.push({ rawStart: task.rawStart, rawEnd: task.rawEnd, frames: task.frames });
  }
  assert.deepEqual(tasks, plan.tasks.map(({ rawStart, rawEnd, frames }) => ({ rawStart, rawEnd, frames })));
  assert.equal(stream.result().rawDigest, plan.expectedRawDigest);
});

test('an entry cut short, or whose seek table lies about its frames, is refused by name', async () => {
  const { entry } = await prepared('bad-stream');
  const bytes = readFileSync(entry);
  const drain = async (data: Buffer): Promise<void> => {
    const stream = new EntryTaskStream((async function* () { yield data; })(), 'the-entry');
    while (await stream.next());
  };
  await assert.rejects(drain(bytes.subarray(0, bytes.length - 100)), /the-entry: .*(truncated|damaged)/);
  const lying = Buffer.from(bytes);
  // The seek table's entry for the first data frame: one byte more than the frame has.
  const count = lying.readUInt32LE(lying.length - 9);
  const firstData = lying.length - 9 - count * 8 + 8;
  lying.writeUInt32LE(lying.readUInt32LE(firstData) + 1, firstData);
  await assert.rejects(drain(lying), /the-entry: .*damaged basecow entry/);
});

test('a file written in segments out of order is read in order, byte for byte, a segment once its write has ended', async () => {
  const { entry } = await prepared('growing');
  const target = join(dir, 'growing.out');
  closeSync(openSync(target, 'w'));
  let complete = false;
  const writing = writeOutOfOrder(entry, target).finally(() => (complete = true));
  const pieces: Buffer[] = [];
  const fd = openSync(target, 'r');
  for await (const piece of readGrowingFile(fd, target, { segmentBytes: SEGMENT, complete: () => complete, pollMs: 1 })) pieces.push(Buffer.from(piece));
  await writing;
  closeSync(fd);
  assert.ok(Buffer.concat(pieces).equals(readFileSync(entry)));
  // Every piece but the last is a whole segment: nothing was taken before its segment was written.
  assert.ok(pieces.slice(0, -1).every((piece) => piece.length === SEGMENT));
});

test('decoded while it downloads: l2, byte-identical and sparse, and the restored file is not decoded again', async () => {
  const { raw, entry } = await prepared('early');
  const remote = downloadingRemote(archiveOf(entry, 'early'), entry);
  const warnings: Warning[] = [];
  const cacheDir = join(dir, 'store-early');
  const result = await ensureBase({ source: join(dir, 'missing.img.zst'), key: 'k', cacheDir, remote, onWarning: (w) => warnings.push(w) });
  assert.equal(result.cacheHit, 'l2');
  assert.deepEqual(warnings, []);
  assert.equal(remote.archives, 1);
  assert.deepEqual(result.timings.entryDecoding, { when: 'while-restoring' });
  assert.equal(await sha256File(result.base), await sha256File(raw));
  assert.ok(allocatedBytes(result.base) <= allocatedBytes(raw), 'holes kept');
  assert.deepEqual(readdirSync(join(cacheDir, 'v1', 'tmp')), []);
});

test('an archive that cannot be followed, or that holds another entry, is dropped: the restored file is decoded, no warning', async () => {
  const { raw, entry } = await prepared('fallback');
  // Not zstd at all.
  const garbage = join(dir, 'garbage.tzst');
  writeFileSync(garbage, randomBytes(3 * MiB));
  // A good archive, but of another base's entry.
  const other = await prepared('other', 7);
  for (const [name, archive, reason] of [
    ['garbage', garbage, /zstd/],
    ['other', archiveOf(other.entry, 'other'), /not the entry the restore left/],
  ] as const) {
    const warnings: Warning[] = [];
    const cacheDir = join(dir, `store-${name}`);
    const result = await ensureBase({ source: join(dir, 'missing.img.zst'), key: 'k', cacheDir, remote: downloadingRemote(archive, entry), onWarning: (w) => warnings.push(w) });
    assert.equal(result.cacheHit, 'l2', name);
    assert.deepEqual(warnings, [], name);
    assert.equal(result.timings.entryDecoding?.when, 'after-restore', name);
    assert.match(result.timings.entryDecoding?.note ?? '', reason, name);
    assert.equal(await sha256File(result.base), await sha256File(raw), name);
    assert.deepEqual(readdirSync(join(cacheDir, 'v1', 'tmp')), [], name);
  }
});

test('a byte changed in the downloading archive is caught by the raw digest (no checksum is checked while following it): the restored file is decoded', async () => {
  const { raw, entry } = await prepared('damaged');
  const archive = archiveOf(entry, 'damaged');
  const bytes = readFileSync(archive);
  // Most of the archive is the entry's random data, which both zstd layers store in raw blocks: a
  // byte changed there decodes, to other content, without complaint from zstd.
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(archive, bytes);
  const warnings: Warning[] = [];
  const cacheDir = join(dir, 'store-damaged');
  const result = await ensureBase({ source: join(dir, 'missing.img.zst'), key: 'k', cacheDir, remote: downloadingRemote(archive, entry), onWarning: (w) => warnings.push(w) });
  assert.equal(result.cacheHit, 'l2');
  assert.deepEqual(warnings, []);
  assert.equal(result.timings.entryDecoding?.when, 'after-restore');
  assert.match(result.timings.entryDecoding?.note ?? '', /does not match the entry's raw digest/);
  assert.equal(await sha256File(result.base), await sha256File(raw));
  assert.deepEqual(readdirSync(join(cacheDir, 'v1', 'tmp')), []);
});

test('a restore that misses after its download began leaves nothing decoded behind, and the base is made from its source', async () => {
  const { raw, image, entry } = await prepared('missing');
  const cacheDir = join(dir, 'store-missing');
  const result = await ensureBase({ source: image, key: 'k', cacheDir, remote: downloadingRemote(archiveOf(entry, 'missing'), entry, { hit: false }) });
  assert.equal(result.cacheHit, 'miss');
  assert.equal(await sha256File(result.base), await sha256File(raw));
  assert.deepEqual(readdirSync(join(cacheDir, 'v1', 'tmp')), []);
});
