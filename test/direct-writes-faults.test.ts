import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs, { existsSync, readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { directIoWorksIn, tempDir } from './helpers.js';

// A direct write that the kernel refuses (EINVAL), cuts short or fails for lack of space cannot be
// provoked on demand, so this file wraps fs.write and fs.read, which DirectWrites alone uses, before
// it loads the writer. Everything else (the file, the page cache writes, the kernel) is real.
type Fault = (call: number) => { code?: string; written?: number; delayMs?: number } | undefined;
let fault: Fault | undefined;
let calls = 0;
const realWrite = fs.write;
type WriteCallback = (error: NodeJS.ErrnoException | null, written: number, buffer: Buffer) => void;
function faultyWrite(fd: number, buf: Buffer, offset: number, length: number, position: number, callback: WriteCallback): void {
  const injected = fault?.(++calls);
  if (injected?.code) {
    const error = Object.assign(new Error(`${injected.code}: injected by the test`), { code: injected.code });
    setTimeout(() => callback(error, 0, buf), 2);
    return;
  }
  if (injected?.written !== undefined && injected.written < length) {
    // A real short write: only the first `written` bytes reach the file. The kernel refuses an
    // unaligned length on the O_DIRECT descriptor, so they go through a second descriptor on the
    // same file opened without O_DIRECT. What lies past them must then come from the writer's own
    // handling of the short count, or the file will not match.
    const plain = fs.openSync(`/proc/self/fd/${fd}`, 'r+');
    try {
      const written = fs.writeSync(plain, buf, offset, injected.written, position);
      const after = Buffer.alloc(length - written);
      fs.readSync(plain, after, 0, after.length, position + written);
      shortWrites.push({ asked: length, written, restUnwritten: after.every((b) => b === 0) });
      setTimeout(() => callback(null, written, buf), 2);
    } catch (error) {
      setTimeout(() => callback(error as NodeJS.ErrnoException, 0, buf), 2);
    } finally {
      fs.closeSync(plain);
    }
    return;
  }
  if (injected?.delayMs !== undefined) {
    // A disk slower than the data: the write lands, and is reported that much later.
    realWrite(fd, buf, offset, length, position, (error, written, buffer) => setTimeout(() => callback(error, written, buffer), injected.delayMs));
    return;
  }
  realWrite(fd, buf, offset, length, position, callback);
}
/** Each injected short write: what was asked, what it wrote, and whether the rest of the file range was still untouched. */
const shortWrites: { asked: number; written: number; restUnwritten: boolean }[] = [];
Object.assign(faultyWrite, {
  [promisify.custom]: (fd: number, buf: Buffer, offset: number, length: number, position: number) =>
    new Promise((resolve, reject) => faultyWrite(fd, buf, offset, length, position, (error, bytesWritten, buffer) => (error ? reject(error) : resolve({ bytesWritten, buffer })))),
});
(fs as { write: unknown }).write = faultyWrite;

/** Read-backs (of a block a run shares with data written before) fail with this code where it says so. */
let readFault: ((call: number) => string | undefined) | undefined;
let reads = 0;
const realRead = fs.read;
type ReadCallback = (error: NodeJS.ErrnoException | null, bytesRead: number, buffer: Buffer) => void;
function faultyRead(fd: number, buf: Buffer, offset: number, length: number, position: number, callback: ReadCallback): void {
  const code = readFault?.(++reads);
  if (code) {
    setTimeout(() => callback(Object.assign(new Error(`${code}: injected by the test`), { code }), 0, buf), 2);
    return;
  }
  realRead(fd, buf, offset, length, position, callback);
}
Object.assign(faultyRead, {
  [promisify.custom]: (fd: number, buf: Buffer, offset: number, length: number, position: number) =>
    new Promise((resolve, reject) => faultyRead(fd, buf, offset, length, position, (error, bytesRead, buffer) => (error ? reject(error) : resolve({ bytesRead, buffer })))),
});
(fs as { read: unknown }).read = faultyRead;
syncBuiltinESMExports();
const { SparseWriter } = await import('../src/core/extract/write/sparse-writer.js');

const MiB = 1024 * 1024;
const dir = tempDir();
let files = 0;

const skip = !directIoWorksIn(dir) && 'the test directory does not take O_DIRECT';

/** 6 MiB of data with a hole in the middle, written in 512 KiB pieces under the given fault. */
async function writeWith(injected: Fault, options: { durable?: boolean } = {}): Promise<{ path: string; image: Buffer; written: { direct: number; pageCache: number } }> {
  const image = randomBytes(6 * MiB);
  image.fill(0, 3 * MiB, 3 * MiB + 64 * 1024);
  const path = join(dir, `out-${++files}.img`);
  calls = 0;
  fault = injected;
  try {
    const writer = await SparseWriter.create(path, options);
    for (let at = 0; at < image.length; at += 512 * 1024) await writer.write(image.subarray(at, at + 512 * 1024), at);
    await writer.finish(image.length);
    return { path, image, written: writer.writtenBytes };
  } finally {
    fault = undefined;
  }
}

test('a direct write refused with EINVAL: the rest goes through the page cache, bytes intact', { skip }, async () => {
  const { path, image, written } = await writeWith((call) => (call === 2 ? { code: 'EINVAL' } : undefined));
  assert.ok(readFileSync(path).equals(image));
  assert.equal(written.direct + written.pageCache, 6 * MiB - 64 * 1024);
  // The refused stage, and everything after the stage already in flight, went the other way.
  assert.ok(written.direct >= 1 * MiB && written.direct <= 2 * MiB, `${written.direct} bytes went out directly`);
  assert.ok(calls <= 3, `${calls} direct writes were tried; none may start after the refusal is known`);
});

test('a direct write cut short off alignment: its remainder goes through the page cache, later stages directly', { skip }, async () => {
  shortWrites.length = 0;
  const { path, image, written } = await writeWith((call) => (call === 1 ? { written: 8192 + 100 } : undefined));
  // The first stage (1 MiB) was asked for, 8292 bytes of it reached the file, and nothing beyond.
  assert.deepEqual(shortWrites, [{ asked: 1 * MiB, written: 8192 + 100, restUnwritten: true }]);
  assert.ok(readFileSync(path).equals(image));
  assert.equal(written.pageCache, 1 * MiB - 8292);
  assert.equal(written.direct + written.pageCache, 6 * MiB - 64 * 1024);
});

test('direct writes all refused, runs sharing blocks: the filling never covers data written meanwhile', { skip }, async () => {
  // The second run ends inside the block where the third begins. Its refused write must not put
  // its filling (zeros past its end) through the page cache after the third run's data went there.
  const image = Buffer.alloc(128 * 1024);
  const runs = [
    { at: 0, length: 4096 },
    { at: 65536, length: 5120 },
    { at: 71168, length: 3000 },
  ];
  for (const { at, length } of runs) randomBytes(length).copy(image, at);
  const path = join(dir, 'all-refused.img');
  calls = 0;
  fault = () => ({ code: 'EINVAL' });
  try {
    const writer = await SparseWriter.create(path);
    for (const { at, length } of runs) await writer.write(image.subarray(at, at + length), at);
    await writer.finish(image.length);
    assert.ok(readFileSync(path).equals(image));
    assert.deepEqual(writer.writtenBytes, { direct: 0, pageCache: 4096 + 5120 + 3000 });
  } finally {
    fault = undefined;
  }
});

/**
 * 2 MiB in three runs: the second starts inside the block where the first ends (as tar's 512-byte
 * sparse regions do), the third shares no block.
 */
function blockSharingRuns(): { image: Buffer; runs: { at: number; length: number }[] } {
  const image = Buffer.alloc(2 * MiB);
  const runs = [
    { at: 0, length: 5120 },
    { at: 5632, length: 3000 },
    { at: MiB, length: MiB },
  ];
  for (const { at, length } of runs) randomBytes(length).copy(image, at);
  return { image, runs };
}

test('a read-back refused with EINVAL: that run and the rest go through the page cache, bytes intact', { skip }, async () => {
  // Filling the second run out to whole blocks reads back the block it shares with the first.
  const { image, runs } = blockSharingRuns();
  const path = join(dir, 'read-refused.img');
  reads = 0;
  readFault = (call) => (call === 1 ? 'EINVAL' : undefined);
  try {
    const writer = await SparseWriter.create(path);
    for (const { at, length } of runs) await writer.write(image.subarray(at, at + length), at);
    await writer.finish(image.length);
    assert.ok(readFileSync(path).equals(image));
    assert.equal(reads, 1);
    assert.deepEqual(writer.writtenBytes, { direct: 5120, pageCache: 3000 + MiB });
  } finally {
    readFault = undefined;
  }
});

test('a disk slower than the data, base not waited for (durable off): the runs it keeps waiting go through the page cache, bytes and hole intact', { skip }, async () => {
  const { path, image, written } = await writeWith(() => ({ delayMs: 40 }), { durable: false });
  assert.ok(readFileSync(path).equals(image));
  assert.equal(written.direct + written.pageCache, 6 * MiB - 64 * 1024);
  // The first stage found the disk free; the next ones found it busy for longer than a copy takes.
  assert.ok(written.direct >= 1 * MiB, `${written.direct} bytes went out directly`);
  assert.ok(written.pageCache >= 2 * MiB, `${written.pageCache} bytes were copied through the page cache`);
  assert.ok(fs.statSync(path).blocks * 512 < 6 * MiB - 32 * 1024, 'the 64 KiB zero run is still a hole');
});

test('the same slow disk with a durable base: every run waits for it and goes out directly', { skip }, async () => {
  const { path, image, written } = await writeWith(() => ({ delayMs: 40 }));
  assert.ok(readFileSync(path).equals(image));
  assert.deepEqual(written, { direct: 6 * MiB - 64 * 1024, pageCache: 0 });
});

test('a slow disk, durable off: a run sharing a block with a write still on its way waits for it instead of being copied', { skip }, async () => {
  // Copied through the page cache while the first run's write (whose filling covers the rest of
  // the block they share) is on its way, the second could be overwritten by that filling. The
  // third shares nothing and may be copied.
  const { image, runs } = blockSharingRuns();
  const path = join(dir, 'slow-shared-block.img');
  fault = () => ({ delayMs: 40 });
  try {
    const writer = await SparseWriter.create(path, { durable: false });
    for (const { at, length } of runs) await writer.write(image.subarray(at, at + length), at);
    await writer.finish(image.length);
    assert.ok(readFileSync(path).equals(image));
    assert.deepEqual(writer.writtenBytes, { direct: 5120 + 3000, pageCache: MiB });
  } finally {
    fault = undefined;
  }
});

test('a direct write failing with ENOSPC fails the extraction, and discard leaves nothing', { skip }, async () => {
  const path = join(dir, 'nospace.img');
  const writer = await SparseWriter.create(path);
  calls = 0;
  fault = (call) => (call === 2 ? { code: 'ENOSPC' } : undefined);
  try {
    const data = randomBytes(512 * 1024);
    await assert.rejects(
      (async () => {
        for (let at = 0; at < 16 * MiB; at += data.length) await writer.write(data, at);
        await writer.finish(16 * MiB);
      })(),
      (error: NodeJS.ErrnoException) => error.code === 'ENOSPC',
    );
  } finally {
    fault = undefined;
  }
  await writer.discard();
  assert.equal(existsSync(path), false);
});
