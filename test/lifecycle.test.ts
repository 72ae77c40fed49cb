import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, watch, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeEntry } from '../src/core/entry/write.js';
import { BasecowError } from '../src/core/errors.js';
import type { RemoteCache } from '../src/core/remote/remote-cache.js';
import { computeRawDigest } from '../src/core/extract/raw-digest.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { ensureBase, type BaseResult } from '../src/core/store/ensure-base.js';
import { gc, listStore, removeBase } from '../src/core/store/gc.js';
import { basePath, lockPath, storeLayout, usedPath } from '../src/core/store/layout.js';
import { acquireLease, readLeases, releaseLease } from '../src/core/store/lease.js';
import { currentBootId } from '../src/core/store/durability.js';
import { readSidecar, type BaseSidecar } from '../src/core/store/sidecar.js';
import { tryLock } from '../src/core/shared/lock.js';
import { writeManifest, type Manifest } from '../src/core/testnet/manifest.js';
import type { Warning } from '../src/core/warnings.js';
import { isRoot, listDir, makeSparseFile, sha256File, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const FAST_LOCK = { staleMs: 2000, pollMs: 50 };
const CHILD = fileURLToPath(new URL('./fixtures/lifecycle-child.js', import.meta.url));

const dir = tempDir();

/** A zstd image of `dataMiB` of random data (incompressible, so its size bounds its allocation). */
async function image(name: string, dataMiB: number, sizeMiB = 16): Promise<{ raw: string; zst: string; sha: string }> {
  const raw = join(dir, `${name}.img`);
  await makeSparseFile(raw, sizeMiB * MiB, [{ offset: MiB, length: dataMiB * MiB }]);
  const zst = `${raw}.zst`;
  await runTool(['zstd', '-q', '-f', raw, '-o', zst]);
  return { raw, zst, sha: await sha256File(raw) };
}

const small = await image('small', 2);
const other = await image('other', 3);

function child(request: object): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; pid: number; line: (wanted: string) => Promise<void>; kill: () => void } {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { wanted: string; resolve: () => void }[] = [];
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters) if (stdout.split('\n').includes(w.wanted)) w.resolve();
  });
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    done,
    pid: proc.pid!,
    line: (wanted) =>
      new Promise<void>((resolve, reject) => {
        if (stdout.split('\n').includes(wanted)) return resolve();
        waiters.push({ wanted, resolve });
        void done.then((o) => reject(new Error(`child ended before '${wanted}': ${o.stderr}`)));
      }),
    kill: () => proc.kill('SIGKILL'),
  };
}
const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as T;

const prepare = (cacheDir: string, key: string, extra: object = {}) => ensureBase({ source: small.zst, cacheDir, key, lockTiming: FAST_LOCK, ...extra });

/** Sets a base's last use to `seconds` after the epoch (the store's own record of use, used/<key>). */
function usedAt(cacheDir: string, key: string, seconds: number): void {
  utimesSync(usedPath(storeLayout(cacheDir), key), seconds, seconds);
}

test('gc removes the least recently used bases first, until the store fits its budget', async () => {
  const cacheDir = join(dir, 'lru');
  for (const key of ['a', 'b', 'c', 'd']) await prepare(cacheDir, key);
  // Use order, oldest first: c, a, d, b. Key order and creation order say otherwise.
  usedAt(cacheDir, 'c', 1_000_000);
  usedAt(cacheDir, 'a', 2_000_000);
  usedAt(cacheDir, 'd', 3_000_000);
  usedAt(cacheDir, 'b', 4_000_000);
  const listing = await listStore({ cacheDir });
  assert.deepEqual(listing.bases.map((b) => b.key), ['c', 'a', 'd', 'b'], 'ls lists least recently used first');
  const each = listing.bases[0].allocatedBytes;
  assert.ok(each >= 2 * MiB, `allocated bytes are counted (${each})`);
  assert.ok(listing.bases[0].apparentBytes === 16 * MiB);

  const dry = await gc({ cacheDir, budgetBytes: 2 * each, dryRun: true });
  assert.deepEqual(dry.removed.map((r) => r.key), ['c', 'a']);
  assert.equal(listDir(storeLayout(cacheDir).bases).length, 8, 'a dry run removes nothing');

  const result = await gc({ cacheDir, budgetBytes: 2 * each });
  assert.deepEqual(result.removed.map((r) => r.key), ['c', 'a']);
  assert.ok(result.afterBytes <= 2 * each);
  assert.deepEqual(listDir(storeLayout(cacheDir).bases), ['b.img', 'b.json', 'd.img', 'd.json']);
  assert.deepEqual(listDir(storeLayout(cacheDir).used), ['b', 'd']);
  // Using a base makes it the most recent: d is now newer than b, so b goes next.
  await prepare(cacheDir, 'd');
  const next = await gc({ cacheDir, budgetBytes: each });
  assert.deepEqual(next.removed.map((r) => r.key), ['b']);

  // --max-age removes what has not been used for that long, whatever the budget.
  usedAt(cacheDir, 'd', Date.now() / 1000 - 3 * 86_400);
  assert.deepEqual((await gc({ cacheDir, budgetBytes: 1e12, maxAgeMs: 2 * 86_400_000 })).removed.map((r) => [r.key, r.reason]), [['d', 'max-age']]);
});

test("a lease protects its base, also from another process's gc; once its holder is gone it is ignored and swept", async () => {
  const cacheDir = join(dir, 'lease');
  const holder = child({ op: 'ensure', options: { source: small.zst, cacheDir, key: 'held', lockTiming: FAST_LOCK, lease: {} }, hold: true });
  after(() => holder.kill());
  await holder.line('leased');
  await prepare(cacheDir, 'free');
  const leases = await readLeases(storeLayout(cacheDir), 'held');
  assert.equal(leases.length, 1);
  assert.equal(leases[0].lease.pid, holder.pid);
  assert.equal(leases[0].stale, undefined);

  const collector = child({ op: 'gc', options: { cacheDir, budgetBytes: 0, lockTiming: FAST_LOCK } });
  const outcome = await collector.done;
  assert.equal(outcome.code, 0, outcome.stderr);
  const result = lastJson<{ removed: { key: string }[]; kept: { key: string; reason: string }[] }>(outcome.stdout);
  assert.deepEqual(result.removed.map((r) => r.key), ['free']);
  assert.deepEqual(result.kept, [{ key: 'held', reason: 'leased' }]);
  assert.ok(existsSync(basePath(storeLayout(cacheDir), 'held')));

  holder.kill();
  await holder.done;
  const swept = await gc({ cacheDir, budgetBytes: 0, lockTiming: FAST_LOCK });
  assert.deepEqual(swept.removed.map((r) => r.key), ['held'], 'the dead holder’s lease is ignored');
  assert.equal(swept.swept.leases, 1, 'and swept');
  assert.deepEqual(listDir(storeLayout(cacheDir).leases), []);
});

test('lease staleness: a testnet outlives its up; a work dir whose manifest moved on or is gone with its process releases it', async () => {
  const cacheDir = join(dir, 'stale');
  const layout = storeLayout(cacheDir);
  await prepare(cacheDir, 'k');
  const deadPid = await new Promise<number>((resolve) => {
    const p = spawn(process.execPath, ['-e', '0']);
    p.on('close', () => resolve(p.pid!));
  });
  const manifestFor = (workDir: string, key: string): Manifest =>
    ({ schema: 'basecow.manifest/v1', key, base: basePath(layout, key), cacheHit: 'l1', group: 'g', workDir, domainType: 'qemu', connect: 'qemu:///system', started: false, vms: [] });
  const live = join(dir, 'wd-live');
  const movedOn = join(dir, 'wd-moved');
  const gone = join(dir, 'wd-gone');
  const preparing = join(dir, 'wd-preparing');
  for (const wd of [live, movedOn]) mkdirSync(wd, { recursive: true });
  await writeManifest(manifestFor(live, 'k'));
  await writeManifest(manifestFor(movedOn, 'other-key'));
  await acquireLease(layout, 'k', { workDir: live, pid: deadPid });
  await acquireLease(layout, 'k', { workDir: movedOn, pid: process.pid });
  await acquireLease(layout, 'k', { workDir: gone, pid: deadPid });
  await acquireLease(layout, 'k', { workDir: preparing, pid: process.pid });
  await acquireLease(layout, 'k', { pid: deadPid });
  // This very process's pid, but recorded with another start time (a reused pid) or boot.
  const forge = async (field: 'pidStart' | 'bootId', jobId: string) => {
    const { path, lease } = await acquireLease(layout, 'k', { pid: process.pid, jobId });
    assert.ok(lease[field], `${field} is recorded`);
    writeFileSync(path, JSON.stringify({ ...lease, [field]: `${lease[field]}1` }));
  };
  await forge('pidStart', 'reused-pid');
  await forge('bootId', 'other-boot');
  const judged = new Map((await readLeases(layout, 'k')).filter((l) => !l.lease.jobId).map((s) => [`${s.lease.workDir ?? 'none'}:${s.lease.pid === deadPid ? 'dead' : 'alive'}`, s.stale !== undefined]));
  assert.deepEqual(Object.fromEntries(judged), {
    [`${live}:dead`]: false, // the testnet is up, its up process long gone
    [`${movedOn}:alive`]: true, // the work dir now holds a testnet over another base
    [`${gone}:dead`]: true, // torn down (or never made) and its process gone
    [`${preparing}:alive`]: false, // an up still preparing: no manifest yet, process alive
    'none:dead': true,
  });
  const byJob = new Map((await readLeases(layout, 'k')).filter((l) => l.lease.jobId).map((l) => [l.lease.jobId, l.stale !== undefined]));
  assert.deepEqual(Object.fromEntries(byJob), { 'reused-pid': true, 'other-boot': true }, 'a pid now running another process holds nothing');
  // While one lease holds, gc keeps the base and sweeps only the stale ones.
  const result = await gc({ cacheDir, budgetBytes: 0, lockTiming: FAST_LOCK });
  assert.deepEqual(result.removed, []);
  assert.equal(result.swept.leases, 5);
  assert.equal((await readLeases(layout, 'k')).length, 2);
});

test('a base removed while another process waits on its lock is made again by that waiter, never half-used', async () => {
  const cacheDir = join(dir, 'remove-wait');
  const layout = storeLayout(cacheDir);
  const first = await prepare(cacheDir, 'k');
  const digest = (await readSidecar(first.sidecar)).rawDigest;
  const lock = await tryLock(lockPath(layout, 'k'), FAST_LOCK, layout.tmp);
  assert.ok(lock);
  // A leasing caller goes through the lock whenever it is held (gc removes only under it).
  const waiter = child({ op: 'ensure', options: { source: small.zst, cacheDir, key: 'k', lockTiming: FAST_LOCK, lease: {} } });
  try {
    await waiter.line('waiting');
    assert.equal(await removeBase(layout, 'k', lock), true);
    assert.equal(existsSync(first.base), false);
    assert.deepEqual(listDir(layout.tmp).filter((n) => n.endsWith('.removed')), [], 'the removed bytes are gone');
  } finally {
    await lock.release();
  }
  const outcome = await waiter.done;
  assert.equal(outcome.code, 0, outcome.stderr);
  const result = lastJson<BaseResult>(outcome.stdout);
  assert.equal(result.cacheHit, 'miss', 'the waiter made the base again');
  assert.equal(await sha256File(result.base), small.sha);
  assert.equal(await computeRawDigest(result.base), digest);
  assert.equal((await readLeases(layout, 'k')).length, 1, 'and holds its lease on the new one');
});

test('a tampered base is detected (verify changed/always), quarantined, made again, and the job told once', async () => {
  const cacheDir = join(dir, 'tamper');
  const layout = storeLayout(cacheDir);
  const first = await prepare(cacheDir, 'k');
  const warnings: Warning[] = [];
  const onWarning = (w: Warning) => warnings.push(w);
  // Unchanged: no re-hash on the hot path.
  assert.equal((await prepare(cacheDir, 'k', { onWarning })).verified, undefined);
  assert.equal((await prepare(cacheDir, 'k', { onWarning, verify: 'always' })).verified, true, "'always' re-hashes even an unchanged base");

  // Same file, same size, mtime put back exactly (touch -r copies nanoseconds): only ctime tells.
  const reference = join(dir, 'tamper-times');
  writeFileSync(reference, '');
  await runTool(['touch', '-r', first.base, reference]);
  chmodSync(first.base, 0o644);
  const bytes = readFileSync(first.base);
  bytes[MiB + 4096] ^= 0xff;
  writeFileSync(first.base, bytes);
  chmodSync(first.base, 0o444);
  await runTool(['touch', '-r', reference, first.base]);
  assert.equal(statSync(first.base, { bigint: true }).mtimeNs, statSync(reference, { bigint: true }).mtimeNs);
  const unchecked = await prepare(cacheDir, 'k', { onWarning, verify: 'never' });
  assert.equal(unchecked.cacheHit, 'l1');
  assert.notEqual(await sha256File(unchecked.base), small.sha, "'never' trusts the store (the tamper is real)");

  const checked = await prepare(cacheDir, 'k', { onWarning });
  assert.equal(checked.cacheHit, 'miss', 'made again from its source');
  assert.equal(await sha256File(checked.base), small.sha);
  assert.deepEqual(warnings.map((w) => w.code), ['base-corrupt']);
  assert.match(warnings[0].message, /base k failed verification .*digest .*quarantine/);
  assert.equal(listDir(layout.quarantine).length, 1);
  assert.equal((await prepare(cacheDir, 'k', { onWarning })).verified, undefined, 'the new base is trusted again');
  assert.equal(warnings.length, 1);

  // A sidecar from before identities were recorded counts as changed: checked once, then recorded.
  const sidecar = await readSidecar(checked.sidecar);
  delete sidecar.identity;
  writeFileSync(checked.sidecar, JSON.stringify(sidecar));
  assert.equal((await prepare(cacheDir, 'k')).verified, true);
  assert.equal((await prepare(cacheDir, 'k')).verified, undefined);
  // The next gc clears the quarantine.
  assert.equal((await gc({ cacheDir, budgetBytes: 1e12 })).swept.quarantined, 1);
  assert.deepEqual(listDir(layout.quarantine), []);
});

test('a base published before its data reached the disk: used at once in this boot, verified after a reboot (in every verify mode), recorded as on the disk once settled', async () => {
  const cacheDir = join(dir, 'durability');
  const layout = storeLayout(cacheDir);
  const boot = currentBootId();
  assert.ok(boot, 'the kernel gives a boot id here');
  const warnings: Warning[] = [];
  const onWarning = (w: Warning) => warnings.push(w);
  const editSidecar = (path: string, change: (sidecar: BaseSidecar) => void): void => {
    const sidecar = JSON.parse(readFileSync(path, 'utf8')) as BaseSidecar;
    change(sidecar);
    writeFileSync(path, JSON.stringify(sidecar));
  };

  // Waiting for the disk first leaves no mark; deferring (the default here) records this boot.
  const synced = await prepare(join(dir, 'durability-synced'), 'k', { durability: 'before-publish' });
  assert.equal((await readSidecar(synced.sidecar)).unsyncedInBoot, undefined);
  const first = await prepare(cacheDir, 'k', { onWarning });
  assert.equal(first.cacheHit, 'miss');
  assert.equal(await sha256File(first.base), small.sha);
  assert.equal((await readSidecar(first.sidecar)).unsyncedInBoot, boot);
  // Used again within the same boot while fresh: not hashed, and the mark stays (no fsync on the hot path).
  const again = await prepare(cacheDir, 'k', { onWarning, verify: 'never' });
  assert.equal(again.cacheHit, 'l1');
  assert.equal(again.verified, undefined);
  assert.equal((await readSidecar(first.sidecar)).unsyncedInBoot, boot);

  // A reboot (another boot id in the mark): even 'never' verifies it first, then it counts as on the disk.
  editSidecar(first.sidecar, (sidecar) => (sidecar.unsyncedInBoot = 'an-earlier-boot'));
  const afterReboot = await prepare(cacheDir, 'k', { onWarning, verify: 'never' });
  assert.equal(afterReboot.cacheHit, 'l1');
  assert.equal(afterReboot.verified, true);
  assert.equal((await readSidecar(first.sidecar)).unsyncedInBoot, undefined);
  assert.equal((await prepare(cacheDir, 'k', { onWarning, verify: 'never' })).verified, undefined, 'checked once');

  // Torn by a crash before writeback (here: zeros where data was, the file's times put back): quarantined and made again.
  editSidecar(first.sidecar, (sidecar) => (sidecar.unsyncedInBoot = 'an-earlier-boot'));
  const reference = join(dir, 'durability-times');
  writeFileSync(reference, '');
  await runTool(['touch', '-r', first.base, reference]);
  chmodSync(first.base, 0o644);
  const bytes = readFileSync(first.base);
  bytes.fill(0, MiB, MiB + 64 * 1024);
  writeFileSync(first.base, bytes);
  chmodSync(first.base, 0o444);
  await runTool(['touch', '-r', reference, first.base]);
  const remade = await prepare(cacheDir, 'k', { onWarning, verify: 'never' });
  assert.equal(remade.cacheHit, 'miss', 'made again from its source');
  assert.equal(await sha256File(remade.base), small.sha);
  assert.deepEqual(warnings.map((w) => w.code), ['base-corrupt']);
  assert.equal(listDir(layout.quarantine).length, 1);

  // Settled (published over two minutes ago, in this boot): its next use flushes it and drops the mark.
  assert.equal((await readSidecar(remade.sidecar)).unsyncedInBoot, boot);
  editSidecar(remade.sidecar, (sidecar) => (sidecar.created = new Date(Date.now() - 3 * 60 * 1000).toISOString()));
  const settled = await prepare(cacheDir, 'k', { onWarning });
  assert.equal(settled.verified, undefined, 'no hashing for that');
  assert.equal((await readSidecar(remade.sidecar)).unsyncedInBoot, undefined);
  assert.equal(warnings.length, 1);
});

test('not enough free space: unused bases are evicted to make room, else a refusal naming the numbers before any byte is written', { skip: !isRoot() && 'mounting a small tmpfs needs root' }, async () => {
  const mount = join(dir, 'space');
  mkdirSync(mount);
  const big = await image('big', 12);
  const mid = await image('mid', 6);
  await runTool(['mount', '-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'tmpfs', mount]);
  try {
    const layout = storeLayout(mount);
    await ensureBase({ source: mid.zst, cacheDir: mount, key: 'old', lockTiming: FAST_LOCK });
    // A leased base is never evicted: the new base does not fit, and nothing is written for it.
    const lease = await acquireLease(layout, 'old', { pid: process.pid });
    const created: string[] = [];
    const watcher = watch(layout.tmp, (_event, name) => name && created.push(String(name)));
    try {
      await assert.rejects(ensureBase({ source: big.zst, cacheDir: mount, key: 'new', lockTiming: FAST_LOCK }), (e: Error) => {
        assert.ok(e instanceof BasecowError && e.code === 'no-space', e.message);
        assert.match(e.message, /base new needs at least 1[12]\.\d MiB but the filesystem of .* has \d+\.\d MiB free and no unused base to remove \(1 kept: in use\); nothing was written/);
        assert.ok(e.message.startsWith(big.zst), e.message);
        return true;
      });
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      watcher.close();
    }
    assert.deepEqual(created.filter((n) => n.endsWith('.img')), [], 'no temp image was ever created');
    assert.deepEqual(listDir(layout.tmp), []);
    assert.deepEqual(listDir(layout.locks), []);
    assert.ok(existsSync(basePath(layout, 'old')));

    // Unleased, the old base makes room for the new one.
    await releaseLease(layout, 'old', lease.lease.id);
    const warnings: Warning[] = [];
    const made = await ensureBase({ source: big.zst, cacheDir: mount, key: 'new', lockTiming: FAST_LOCK, onWarning: (w) => warnings.push(w) });
    assert.equal(made.cacheHit, 'miss');
    assert.equal(await sha256File(made.base), big.sha);
    assert.deepEqual(warnings.map((w) => w.code), ['evicted-for-space']);
    assert.equal(existsSync(basePath(layout, 'old')), false);
  } finally {
    await runTool(['umount', mount]);
  }
});

test('a streamed L2 entry whose base may not fit is restored through restore(), which evicts an unused base to make room', { skip: !isRoot() && 'mounting a small tmpfs needs root' }, async () => {
  const mount = join(dir, 'space-l2');
  mkdirSync(mount);
  const big = await image('big-l2', 12);
  const mid = await image('mid-l2', 6);
  const entry = join(dir, 'big-l2.entry.zst');
  await writeEntry(big.raw, entry, {});
  const calls: string[] = [];
  const remote: RemoteCache = {
    name: 'test',
    async stream(key) {
      calls.push(`stream ${key}`);
      return { kind: 'entry', entry: { bytes: createReadStream(entry) as AsyncIterable<Buffer>, cancel: () => undefined } };
    },
    async restore(key) {
      calls.push(`restore ${key}`);
      const copy = join(dir, 'big-l2.restored.zst');
      copyFileSync(entry, copy);
      return { path: copy, dispose: () => rm(copy, { force: true }) };
    },
  };
  await runTool(['mount', '-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'tmpfs', mount]);
  try {
    await ensureBase({ source: mid.zst, cacheDir: mount, key: 'old', lockTiming: FAST_LOCK });
    const warnings: Warning[] = [];
    const restored = await ensureBase({ source: join(dir, 'missing.zst'), cacheDir: mount, key: 'new', remote, lockTiming: FAST_LOCK, onWarning: (w) => warnings.push(w) });
    assert.equal(restored.cacheHit, 'l2');
    assert.equal(await sha256File(restored.base), big.sha);
    assert.deepEqual(calls, ['stream new', 'restore new']);
    assert.deepEqual(warnings.map((w) => w.code), ['evicted-for-space'], JSON.stringify(warnings));
    assert.deepEqual(listDir(storeLayout(mount).tmp), []);
  } finally {
    await runTool(['umount', mount]);
  }
});

test('a symbolic link planted in the store is never followed on write, and a store directory replaced by one is refused', async () => {
  const cacheDir = join(dir, 'symlinks');
  const layout = storeLayout(cacheDir);
  await listStore({ cacheDir }); // creates the store's directories
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'precious');
  const before = statSync(victim);
  symlinkSync(victim, usedPath(layout, 'k'));
  symlinkSync(victim, join(layout.bases, 'k.json'));
  symlinkSync(victim, basePath(layout, 'k'));
  const result = await prepare(cacheDir, 'k');
  assert.equal(result.cacheHit, 'miss', 'a link in place of the base is not a base');
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  assert.equal(statSync(victim).mtimeMs, before.mtimeMs);
  assert.equal(statSync(victim).mode, before.mode, 'not made read-only through the link');
  assert.equal(await sha256File(result.base), small.sha);

  // A directory of the store swapped for a link elsewhere: refused before anything is written.
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  const other2 = join(dir, 'symlinks2');
  await listStore({ cacheDir: other2 });
  const tmp = storeLayout(other2).tmp;
  readdirSync(tmp).forEach(() => undefined);
  await runTool(['rmdir', tmp]);
  symlinkSync(elsewhere, tmp);
  await assert.rejects(prepare(other2, 'k'), (e: Error) => e instanceof BasecowError && e.code === 'store-unsafe' && /is a symbolic link/.test(e.message));
  assert.deepEqual(readdirSync(elsewhere), []);
  // Names in the store that are not keys are never turned into paths.
  writeFileSync(join(layout.bases, 'not a key.img'), '');
  assert.deepEqual((await listStore({ cacheDir })).bases.map((b) => b.key), ['k']);
});

test('a store directory writable by others is refused', async () => {
  const cacheDir = join(dir, 'shared');
  await listStore({ cacheDir });
  chmodSync(storeLayout(cacheDir).bases, 0o777);
  await assert.rejects(prepare(cacheDir, 'k'), (e: Error) => e instanceof BasecowError && e.code === 'store-unsafe' && /writable by other users/.test(e.message));
});

test('a cache dir that others may write to is refused too: they could replace the whole store', async () => {
  const cacheDir = join(dir, 'shared-root');
  await listStore({ cacheDir });
  chmodSync(cacheDir, 0o777);
  await assert.rejects(prepare(cacheDir, 'k'), (e: Error) => e instanceof BasecowError && e.code === 'store-unsafe' && e.message.startsWith(`${cacheDir} is writable by other users`));
  chmodSync(cacheDir, 0o755);
  await prepare(cacheDir, 'k');
});

test('gc sweeps what killed processes left: temp files, locks, half-written sidecars', async () => {
  const cacheDir = join(dir, 'debris');
  const layout = storeLayout(cacheDir);
  await prepare(cacheDir, 'k');
  const deadPid = await new Promise<number>((resolve) => {
    const p = spawn(process.execPath, ['-e', '0']);
    p.on('close', () => resolve(p.pid!));
  });
  writeFileSync(join(layout.tmp, `k+${deadPid}-abcd.img`), 'partial');
  writeFileSync(join(layout.tmp, `gone+${deadPid}-abcd.img`), 'partial');
  writeFileSync(join(layout.bases, `.k.json.tmp-${deadPid}-abcd`), '{');
  // A lock whose holder was killed: its heartbeat stopped long ago.
  mkdirSync(lockPath(layout, 'gone'));
  writeFileSync(`${lockPath(layout, 'gone')}+owner`, `${deadPid}-00`);
  const old = Date.now() / 1000 - 3600;
  utimesSync(lockPath(layout, 'gone'), old, old);
  const result = await gc({ cacheDir, budgetBytes: 1e12, lockTiming: FAST_LOCK });
  assert.deepEqual(result.removed, []);
  assert.deepEqual(listDir(layout.tmp), []);
  assert.deepEqual(listDir(layout.locks), []);
  assert.deepEqual(listDir(layout.bases), ['k.img', 'k.json']);
  assert.ok(result.swept.locks >= 1 && result.swept.temps >= 3, JSON.stringify(result.swept));
});

test('up leases its base until down; re-using overlays over a base whose content changed is refused with the fix', async () => {
  const cacheDir = join(dir, 'testnet');
  const layout = storeLayout(cacheDir);
  const workDir = join(dir, 'net');
  const { up } = await import('../src/core/testnet/up.js');
  const { down } = await import('../src/core/testnet/down.js');
  const manifest = await up({ source: small.zst, cacheDir, key: 'net', workDir, vms: [{ name: 'a' }], domainType: 'qemu', lockTiming: FAST_LOCK });
  assert.equal(manifest.baseDigest, (await readSidecar(join(layout.bases, 'net.json'))).rawDigest);
  const leases = await readLeases(layout, 'net');
  assert.deepEqual(leases.map((l) => [l.lease.workDir, l.stale]), [[workDir, undefined]]);
  // The up process may end: the manifest keeps the testnet's lease.
  assert.deepEqual((await gc({ cacheDir, budgetBytes: 0 })).kept, [{ key: 'net', reason: 'leased' }]);
  // up again on the same work dir: still one lease.
  await up({ source: small.zst, cacheDir, key: 'net', workDir, vms: [{ name: 'a' }], domainType: 'qemu', lockTiming: FAST_LOCK });
  assert.equal((await readLeases(layout, 'net')).length, 1);

  // The base's bytes change under the overlays (tampered, then remade from another source).
  chmodSync(manifest.base, 0o644);
  writeFileSync(manifest.base, readFileSync(other.raw));
  await assert.rejects(
    up({ source: other.zst, cacheDir, key: 'net', workDir, vms: [{ name: 'a' }], domainType: 'qemu', lockTiming: FAST_LOCK, onWarning: () => undefined }),
    (e: Error) => e instanceof BasecowError && e.code === 'overlay-base-changed' && e.message.includes(manifest.baseDigest!),
  );
  assert.equal((await readLeases(layout, 'net')).length, 1, 'the refused up leaves no lease behind');

  await down({ workDir });
  assert.deepEqual(await readLeases(layout, 'net'), [], 'down releases the lease');
  assert.deepEqual((await gc({ cacheDir, budgetBytes: 0 })).removed.map((r) => r.key), ['net']);
});

const BIN = fileURLToPath(new URL('../../bin/basecow.js', import.meta.url));
function basecow(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the CLI: ls and gc (text and --json), --verify and --durability on prepare, and their usage errors naming the flag', async () => {
  const cacheDir = join(dir, 'cli');
  const layout = storeLayout(cacheDir);
  for (const key of ['old', 'new']) {
    const durability = key === 'old' ? ['--durability', 'before-publish'] : [];
    const prepared = await basecow(['prepare', '--image', small.zst, '--key', key, '--cache-dir', cacheDir, '--verify', 'always', ...durability, '--json']);
    assert.equal(prepared.code, 0, prepared.stderr);
  }
  // --durability before-publish: on the disk before it was published, so no boot is recorded.
  assert.equal((await readSidecar(join(layout.bases, 'old.json'))).unsyncedInBoot, undefined);
  assert.equal((await readSidecar(join(layout.bases, 'new.json'))).unsyncedInBoot, currentBootId());
  usedAt(cacheDir, 'old', 1_000_000);
  await acquireLease(layout, 'new', { workDir: join(dir, 'cli-net'), pid: process.pid, jobId: 'job-1' });

  const ls = await basecow(['ls', '--cache-dir', cacheDir, '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  const listing = JSON.parse(ls.stdout) as Awaited<ReturnType<typeof listStore>>;
  assert.deepEqual(listing.bases.map((b) => [b.key, b.leases.length]), [['old', 0], ['new', 1]]);
  assert.equal(listing.bases[0].lastUsed, new Date(1_000_000_000).toISOString());
  assert.equal(listing.bases[1].leases[0].lease.jobId, 'job-1');
  for (const field of ['apparentBytes', 'allocatedBytes', 'created'] as const) assert.ok(listing.bases[0][field], field);
  assert.equal(listing.totalBytes, listing.bases[0].allocatedBytes + listing.bases[1].allocatedBytes);
  assert.ok(listing.budgetBytes > 0 && Math.abs(listing.budgetBytes - listing.filesystem.sizeBytes / 4) < 2, 'the default budget is 25% of the filesystem');
  const text = await basecow(['ls', '--cache-dir', cacheDir, '--budget', '1G']);
  assert.match(text.stdout, /^old\n {2}.* apparent, .* allocated; created .*, last used 1970-01-12 13:46:40Z\n {2}leases: none\nnew\n.*\n {2}leases: 1 \(.*cli-net\)\n/);
  assert.match(text.stdout, /total: .* in 2 base\(s\), budget 1\.0 GiB/);

  const dry = await basecow(['gc', '--cache-dir', cacheDir, '--budget', '0', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^would remove old \(.*, last used 1970-01-12 13:46:40Z, budget\)\nkept new \(leased by a testnet or job\)\n/);
  assert.ok(existsSync(basePath(layout, 'old')));
  const removed = await basecow(['gc', '--cache-dir', cacheDir, '--budget', '0', '--json']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual((JSON.parse(removed.stdout) as { removed: { key: string }[] }).removed.map((r) => r.key), ['old']);

  for (const [args, message] of [
    [['gc', '--budget', 'lots'], /--budget: invalid size "lots"/],
    [['gc', '--max-age', '3 days'], /--max-age: invalid duration "3 days"/],
    [['prepare', '--image', small.zst, '--verify', 'sometimes'], /--verify must be always, changed or never/],
    [['prepare', '--image', small.zst, '--durability', 'later'], /--durability must be deferred or before-publish/],
  ] as const) {
    const outcome = await basecow([...args, '--cache-dir', cacheDir]);
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.match(outcome.stderr, message);
  }
  const help = await basecow(['--help']);
  for (const flag of ['--verify <when>', '--durability <d>', 'ls ', 'gc ', '--budget <size|N%>', '--max-age <dur>', '--dry-run']) assert.ok(help.stdout.includes(flag), flag);
});

test('up over overlays whose backing base is gone is refused, naming it and the work dir', async () => {
  const cacheDir = join(dir, 'gone');
  const layout = storeLayout(cacheDir);
  const workDir = join(dir, 'net-gone');
  const { up } = await import('../src/core/testnet/up.js');
  const first = await up({ source: small.zst, cacheDir, key: 'first', workDir, vms: [{ name: 'a' }], domainType: 'qemu', lockTiming: FAST_LOCK });
  rmSync(first.base, { force: true }); // removed by hand, behind the lease
  await assert.rejects(
    up({ source: other.zst, cacheDir, key: 'second', workDir, vms: [{ name: 'a' }], domainType: 'qemu', lockTiming: FAST_LOCK }),
    (e: Error) => e instanceof BasecowError && e.code === 'overlay-base-gone' && e.message.includes(`backed by ${first.base}, which is gone`) && e.facts.workDir === workDir,
  );
  assert.deepEqual(await readLeases(layout, 'second'), [], 'the refused up leaves no lease on the new base');
});
