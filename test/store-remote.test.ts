// The store's side of the remote cache (L2): under the key's lock after the local store missed,
// an entry is restored, checked and published as l2; anything wrong with it is a warning and a miss.
import assert from 'node:assert/strict';
import { copyFileSync, createReadStream, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { encodePlanFrame } from '../src/core/entry/format.js';
import { readEntryIndex } from '../src/core/entry/read.js';
import { writeEntry } from '../src/core/entry/write.js';
import { RemoteTransferError, type RemoteCache, type StreamLookup } from '../src/core/remote/remote-cache.js';
import { ensureBase } from '../src/core/store/ensure-base.js';
import { readSidecar } from '../src/core/store/sidecar.js';
import type { Warning } from '../src/core/warnings.js';
import { allocatedBytes, makeSparseFile, sha256File, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const dir = tempDir('basecow-remote-');

/** A remote cache holding entry files on this machine: the adapter interface, not a service. */
function folderRemote(entries: Map<string, string>, calls: string[]): RemoteCache {
  return {
    name: 'test',
    async restore(key) {
      calls.push(key);
      const stored = entries.get(key);
      if (!stored) return undefined;
      // The adapter hands over its own copy, which the store disposes of.
      const copy = join(dir, `restored-${calls.length}.zst`);
      copyFileSync(stored, copy);
      return { path: copy, dispose: () => rm(copy, { force: true }) };
    },
  };
}

async function prepared(name: string): Promise<{ raw: string; image: string; entry: string }> {
  const raw = join(dir, `${name}.img`);
  await makeSparseFile(raw, 70 * MiB, [{ offset: MiB, length: 3 * MiB }, { offset: 33 * MiB, length: 2 * MiB }]);
  const image = join(dir, `${name}.img.zst`);
  execFileSync('zstd', ['-q', raw, '-o', image]);
  const entry = join(dir, `${name}.entry.zst`);
  await writeEntry(raw, entry, {});
  return { raw, image, entry };
}

test('an entry in the remote cache is restored as l2: byte-identical, sparse, digest in the sidecar; the source is never read', async () => {
  const { raw, entry } = await prepared('good');
  const calls: string[] = [];
  const warnings: Warning[] = [];
  const cacheDir = join(dir, 'store-good');
  // The source does not exist: an l2 hit must not need it.
  const result = await ensureBase({ source: join(dir, 'missing.img.zst'), key: 'k-good', cacheDir, remote: folderRemote(new Map([['k-good', entry]]), calls), onWarning: (w) => warnings.push(w) });
  assert.equal(result.cacheHit, 'l2');
  assert.equal(result.origin, 'remote');
  assert.deepEqual(warnings, []);
  assert.deepEqual(calls, ['k-good']);
  assert.equal(await sha256File(result.base), await sha256File(raw));
  assert.ok(allocatedBytes(result.base) <= allocatedBytes(raw));
  const sidecar = await readSidecar(result.sidecar);
  assert.equal(sidecar.rawDigest, (await readEntryIndex(entry)).rawDigest);
  assert.equal(sidecar.origin, 'remote');
  // A later call finds it locally and does not ask the remote again.
  const again = await ensureBase({ source: join(dir, 'missing.img.zst'), key: 'k-good', cacheDir, remote: folderRemote(new Map(), calls) });
  assert.equal(again.cacheHit, 'l1');
  assert.deepEqual(calls, ['k-good']);
});

test('an entry whose frames decode but whose recorded digest differs is not used: one warning, the base made from its source', async () => {
  const { raw, image, entry } = await prepared('swapped');
  const index = await readEntryIndex(entry);
  // Rewrite the plan with another digest (its own checksum kept right): every frame still decodes.
  const bytes = readFileSync(entry);
  const tableBytes = 8 + (index.frames.length + 2) * 8 + 9;
  const plan = encodePlanFrame(0x0123456789abcdefn, index.frames.map((f) => f.kind));
  const planAt = bytes.length - tableBytes - plan.length;
  const tampered = join(dir, 'tampered.entry.zst');
  writeFileSync(tampered, Buffer.concat([bytes.subarray(0, planAt), plan, bytes.subarray(planAt + plan.length)]));
  assert.notEqual((await readEntryIndex(tampered)).rawDigest, index.rawDigest, 'the tampered entry still reads as an entry');
  const warnings: Warning[] = [];
  const cacheDir = join(dir, 'store-swapped');
  const result = await ensureBase({ source: image, key: 'k-swapped', cacheDir, remote: folderRemote(new Map([['k-swapped', tampered]]), []), onWarning: (w) => warnings.push(w) });
  assert.equal(result.cacheHit, 'miss');
  assert.equal(result.origin, 'extracted');
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.equal(warnings[0].code, 'remote-entry-unusable');
  assert.match(warnings[0].message, /digest/);
  assert.equal(await sha256File(result.base), await sha256File(raw));
  assert.deepEqual(readdirSync(join(cacheDir, 'v1', 'tmp')), [], 'nothing of the entry left in tmp/');
});

test('a remote that throws, and a file that is not an entry: each one warning and a miss, never a failure', async () => {
  const { raw, image } = await prepared('failing');
  const warnings: Warning[] = [];
  const throwing: RemoteCache = { name: 'test', restore: async () => { throw new Error('service unavailable'); } };
  const first = await ensureBase({ source: image, key: 'k-throws', cacheDir: join(dir, 'store-throws'), remote: throwing, onWarning: (w) => warnings.push(w) });
  assert.equal(first.cacheHit, 'miss');
  assert.deepEqual(warnings.map((w) => w.code), ['remote-restore-failed']);
  assert.match(warnings[0].message, /service unavailable/);

  const notEntry = join(dir, 'not-an-entry.zst');
  copyFileSync(image, notEntry);
  const second: Warning[] = [];
  const result = await ensureBase({ source: image, key: 'k-foreign', cacheDir: join(dir, 'store-foreign'), remote: folderRemote(new Map([['k-foreign', notEntry]]), []), onWarning: (w) => second.push(w) });
  assert.equal(result.cacheHit, 'miss');
  assert.deepEqual(second.map((w) => w.code), ['remote-entry-unusable']);
  assert.equal(await sha256File(result.base), await sha256File(raw));
  assert.equal(existsSync(join(dir, 'restored-1.zst')), false);
});

/**
 * A remote that streams its entry files (as the Actions cache does on most runners), and restores
 * them as files too: `way` says how its stream answers.
 */
function streamingRemote(entries: Map<string, string>, calls: string[], way: { breakAfter?: number; unsupported?: boolean } = {}): RemoteCache & { cancelled: number } {
  const files = folderRemote(entries, calls);
  const remote = {
    ...files,
    cancelled: 0,
    async stream(key: string): Promise<StreamLookup> {
      calls.push(`stream ${key}`);
      if (way.unsupported) return { kind: 'unsupported', why: 'not here' };
      const stored = entries.get(key);
      if (!stored) return { kind: 'absent' };
      async function* bytes(): AsyncGenerator<Buffer> {
        let sent = 0;
        for await (const chunk of createReadStream(stored!, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
          if (way.breakAfter !== undefined && sent + chunk.length > way.breakAfter) throw new RemoteTransferError('the connection was reset');
          sent += chunk.length;
          yield chunk;
        }
      }
      return { kind: 'entry', entry: { bytes: bytes(), cancel: () => void remote.cancelled++ } };
    },
  };
  return remote;
}

test('a remote that streams: l2 from the stream alone; a broken transfer falls back to restore() with one warning; a bad entry is a miss, not fetched again', async () => {
  const { raw, image, entry } = await prepared('streamed');
  const entries = new Map([['k-stream', entry]]);
  const run = async (name: string, remote: RemoteCache) => {
    const warnings: Warning[] = [];
    const cacheDir = join(dir, `store-${name}`);
    const result = await ensureBase({ source: image, key: 'k-stream', cacheDir, remote, onWarning: (w) => warnings.push(w) });
    assert.equal(await sha256File(result.base), await sha256File(raw), name);
    assert.deepEqual(readdirSync(join(cacheDir, 'v1', 'tmp')), [], `${name}: nothing left in tmp/`);
    return { result, warnings };
  };

  const calls: string[] = [];
  const streaming = streamingRemote(entries, calls);
  const streamed = await run('stream', streaming);
  assert.equal(streamed.result.cacheHit, 'l2');
  assert.equal(streamed.result.timings.entryDecoding?.when, 'streamed');
  assert.deepEqual(streamed.warnings, []);
  assert.deepEqual(calls, ['stream k-stream'], 'restore() is not asked when the stream gave the entry');
  assert.equal(streaming.cancelled, 1, 'the transfer is ended');
  assert.ok(allocatedBytes(streamed.result.base) <= allocatedBytes(raw), 'no hole filled');

  const brokenCalls: string[] = [];
  const broken = await run('broken', streamingRemote(entries, brokenCalls, { breakAfter: 300 * 1024 }));
  assert.equal(broken.result.cacheHit, 'l2');
  assert.deepEqual(broken.warnings.map((w) => w.code), ['remote-stream-failed']);
  assert.match(broken.warnings[0].message, /the connection was reset/);
  assert.deepEqual(brokenCalls, ['stream k-stream', 'k-stream'], 'then restored as a file');
  assert.notEqual(broken.result.timings.entryDecoding?.when, 'streamed');

  const unsupportedCalls: string[] = [];
  const unsupported = await run('unsupported', streamingRemote(entries, unsupportedCalls, { unsupported: true }));
  assert.equal(unsupported.result.cacheHit, 'l2');
  assert.deepEqual(unsupported.warnings, []);
  assert.deepEqual(unsupportedCalls, ['stream k-stream', 'k-stream']);

  const absentCalls: string[] = [];
  const absent = await run('absent', streamingRemote(new Map(), absentCalls));
  assert.equal(absent.result.cacheHit, 'miss');
  assert.deepEqual(absent.warnings, []);
  assert.deepEqual(absentCalls, ['stream k-stream'], 'an entry the stream did not find is not looked for again');

  // A byte changed in the middle of a data frame: refused as it streams, and not fetched again.
  const bytes = readFileSync(entry);
  const index = await readEntryIndex(entry);
  const frame = index.frames.find((f) => f.kind === 'data')!;
  bytes[frame.compressedOffset + Math.floor(frame.compressedSize / 2)] ^= 0x5a;
  const damaged = join(dir, 'damaged.entry.zst');
  writeFileSync(damaged, bytes);
  const damagedCalls: string[] = [];
  const refused = await run('damaged', streamingRemote(new Map([['k-stream', damaged]]), damagedCalls));
  assert.equal(refused.result.cacheHit, 'miss');
  assert.deepEqual(refused.warnings.map((w) => w.code), ['remote-entry-unusable']);
  assert.deepEqual(damagedCalls, ['stream k-stream']);
});
