// The store's side of the remote cache (L2): under the key's lock after the local store missed,
// an entry is restored, checked and published as l2; anything wrong with it is a warning and a miss.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { encodePlanFrame } from '../src/core/entry/format.js';
import { readEntryIndex } from '../src/core/entry/read.js';
import { writeEntry } from '../src/core/entry/write.js';
import type { RemoteCache } from '../src/core/remote/remote-cache.js';
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
