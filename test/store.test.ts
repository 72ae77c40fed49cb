import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, rmSync, rmdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SourceError } from '../src/core/errors.js';
import { storeLayout, lockPath } from '../src/core/store/layout.js';
import { ownerPath, tryLock } from '../src/core/shared/lock.js';
import { ensureBase, type BaseResult } from '../src/core/store/ensure-base.js';
import { readSidecar } from '../src/core/store/sidecar.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { isRoot, listDir, makeSparseFile, sha256File, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('./fixtures/ensure-base-child.js', import.meta.url));
const FAST_LOCK = { staleMs: 2000, pollMs: 50 };

const dir = tempDir();
const disk = join(dir, 'disk.img');
await makeSparseFile(disk, 64 * MiB, [
  { offset: 0, length: 2 * MiB },
  { offset: 30 * MiB + 512, length: 6 * MiB },
]);
const diskDigest = await sha256File(disk);
const zst = join(dir, 'disk.img.zst');
await runTool(['zstd', '-q', '-f', disk, '-o', zst]);

/** A store is clean when nothing but finished bases and their sidecars is left. */
function assertStoreClean(cacheDir: string): void {
  const layout = storeLayout(cacheDir);
  assert.deepEqual(listDir(layout.tmp), [], 'tmp/ is empty');
  assert.deepEqual(listDir(layout.locks), [], 'no lock is left');
  for (const name of listDir(layout.bases)) assert.match(name, /\.(img|json)$/);
}

function runChild(options: object): { done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>; pid: number; onLine: (fn: (line: string) => void) => void } {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners: ((line: string) => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const line of d.toString().split('\n')) if (line) listeners.forEach((fn) => fn(line));
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { done, pid: child.pid!, onLine: (fn) => listeners.push(fn) };
}

test('a miss extracts, publishes a read-only base with its sidecar, and the next call hits', async () => {
  const cacheDir = join(dir, 'cache-basic');
  const first = await ensureBase({ source: zst, cacheDir, lockTiming: FAST_LOCK });
  assert.equal(first.cacheHit, 'miss');
  assert.match(first.key, /^sha256-[0-9a-f]{64}$/);
  assert.equal(first.key, `sha256-${await sha256File(zst)}`);
  assert.equal(await sha256File(first.base), diskDigest);
  assert.equal(statSync(first.base).mode & 0o777, 0o444);
  assert.equal(first.apparentBytes, 64 * MiB);
  const sidecar = await readSidecar(first.sidecar);
  assert.equal(sidecar.key, first.key);
  assert.equal(sidecar.source.format, 'zstd');
  assert.equal(sidecar.source.digest, first.key);
  assert.equal(sidecar.apparentBytes, 64 * MiB);

  const second = await ensureBase({ source: zst, cacheDir, lockTiming: FAST_LOCK });
  assert.equal(second.cacheHit, 'l1');
  assert.equal(second.base, first.base);
  assert.equal(second.keyMemoized, true, 'the second call reuses the digest memo');
  assertStoreClean(cacheDir);
});

test('the digest memo is not trusted once the file changes', async () => {
  const cacheDir = join(dir, 'cache-memo');
  const copy = join(dir, 'memo-copy.img.zst');
  writeFileSync(copy, readFileSync(zst));
  const first = await ensureBase({ source: copy, cacheDir });
  assert.equal(first.cacheHit, 'miss');
  // Same size, mtime set back by hand: only ctime shows the change. A trusted memo would answer
  // with the old key (an l1 hit); a re-hash finds the new bytes, whose zstd checksum fails.
  const bytes = readFileSync(copy);
  const { atime, mtime } = statSync(copy);
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(copy, bytes);
  utimesSync(copy, atime, mtime);
  await assert.rejects(ensureBase({ source: copy, cacheDir }), (e: Error) => e instanceof SourceError && /checksum|corrupt/i.test(e.message));
});

test('a caller key is used as given and a malformed one is refused', async () => {
  const cacheDir = join(dir, 'cache-key');
  const result = await ensureBase({ source: zst, cacheDir, key: 'guestos-2026.11_rc-1' });
  assert.equal(result.key, 'guestos-2026.11_rc-1');
  assert.equal(result.base, join(storeLayout(cacheDir).bases, 'guestos-2026.11_rc-1.img'));
  assert.equal((await readSidecar(result.sidecar)).source.digest, null);
  for (const bad of ['../escape', 'a/b', '', 'x'.repeat(129), '..', 'has space', 'plus+sign']) {
    await assert.rejects(ensureBase({ source: zst, cacheDir, key: bad }), /invalid key/);
  }
  assertStoreClean(cacheDir);
});

test('8 processes racing on one key: one extraction, everyone gets the same complete base', async () => {
  const cacheDir = join(dir, 'cache-race');
  const children = Array.from({ length: 8 }, () => runChild({ source: zst, cacheDir, lockTiming: FAST_LOCK }));
  const outcomes = await Promise.all(children.map((c) => c.done));
  const results = outcomes.map((o) => {
    assert.equal(o.code, 0, o.stderr);
    return JSON.parse(o.stdout.trim().split('\n').pop()!) as BaseResult;
  });
  assert.equal(results.filter((r) => r.cacheHit === 'miss').length, 1, 'exactly one process extracted');
  // The source is extracted while it is hashed, under a lock on the file: the others waited for it
  // and then found its digest remembered, so they read nothing.
  assert.equal(results.filter((r) => !r.keyMemoized).length, 1, 'exactly one process hashed the source');
  assert.equal(new Set(results.map((r) => r.base)).size, 1);
  assert.equal(await sha256File(results[0].base), diskDigest);
  assertStoreClean(cacheDir);
});

test('a held lock on one key does not block another key', async () => {
  const cacheDir = join(dir, 'cache-two-keys');
  const layout = storeLayout(cacheDir);
  mkdirSync(layout.locks, { recursive: true });
  mkdirSync(layout.tmp, { recursive: true });
  const held = await tryLock(lockPath(layout, 'key-one'), FAST_LOCK, layout.tmp);
  assert.ok(held);
  try {
    const other = await ensureBase({ source: zst, cacheDir, key: 'key-two', lockTiming: FAST_LOCK, waitTimeoutMs: 10_000 });
    assert.equal(other.cacheHit, 'miss');
    // The same key does wait while the lock is held, and says so when it gives up.
    await assert.rejects(
      ensureBase({ source: zst, cacheDir, key: 'key-one', lockTiming: FAST_LOCK, waitTimeoutMs: 300 }),
      /waiting for another process/,
    );
  } finally {
    await held.release();
  }
});

/**
 * A source large and incompressible enough that its extraction is still running a while after it
 * starts. Made on first use and shared, so that each test that needs it also works run alone.
 */
let bigSource: Promise<{ big: string; bigZst: string }> | undefined;
function bigImage(): Promise<{ big: string; bigZst: string }> {
  bigSource ??= (async () => {
    const big = join(dir, 'big.img');
    await makeSparseFile(big, 768 * MiB, [{ offset: 0, length: 512 * MiB }]);
    const bigZst = join(dir, 'big.img.zst');
    await runTool(['zstd', '-q', '-1', '-f', big, '-o', bigZst]);
    return { big, bigZst };
  })();
  return bigSource;
}

test('kill -9 mid-extraction: nothing partial is visible, the next caller takes over and succeeds', async () => {
  const cacheDir = join(dir, 'cache-kill');
  const { big, bigZst } = await bigImage();
  const child = runChild({ source: bigZst, cacheDir, key: 'big', lockTiming: FAST_LOCK });
  await new Promise<void>((resolve) => child.onLine((line) => line === 'extracting' && resolve()));
  await new Promise((r) => setTimeout(r, 50));
  process.kill(child.pid, 'SIGKILL');
  const outcome = await child.done;
  assert.equal(outcome.signal, 'SIGKILL', 'the child was killed before it finished');
  const layout = storeLayout(cacheDir);
  assert.equal(existsSync(join(layout.bases, 'big.img')), false, 'no partial base under the final name');
  assert.ok(listDir(layout.tmp).length > 0, 'the killed extraction left its temp file (to be swept)');

  const started = Date.now();
  const result = await ensureBase({ source: bigZst, cacheDir, key: 'big', lockTiming: FAST_LOCK });
  const tookOverMs = Date.now() - started;
  assert.equal(result.cacheHit, 'miss');
  assert.equal(await sha256File(result.base), await sha256File(big));
  assert.ok(tookOverMs < 2000 + 5000 + 30_000, `took over and finished in ${tookOverMs} ms`);
  assertStoreClean(cacheDir);
});

test('kill -9 mid-extraction of a source still being hashed: the next caller takes over, nothing is left', async () => {
  const cacheDir = join(dir, 'cache-kill-early');
  const { big, bigZst } = await bigImage();
  const child = runChild({ source: bigZst, cacheDir, lockTiming: FAST_LOCK });
  await new Promise<void>((resolve) => child.onLine((line) => line === 'extracting' && resolve()));
  process.kill(child.pid, 'SIGKILL');
  assert.equal((await child.done).signal, 'SIGKILL');
  const layout = storeLayout(cacheDir);
  assert.deepEqual(listDir(layout.bases), [], 'nothing was published');
  assert.ok(listDir(layout.tmp).length > 0, 'the killed extraction left its temp file (to be swept)');

  const result = await ensureBase({ source: bigZst, cacheDir, lockTiming: FAST_LOCK, waitTimeoutMs: 30_000 });
  assert.equal(result.cacheHit, 'miss');
  assert.equal(result.key, `sha256-${await sha256File(bigZst)}`);
  assert.equal(await sha256File(result.base), await sha256File(big));
  assertStoreClean(cacheDir);
});

test('a new copy of an image whose base is stored: hashed, not extracted, and the base used', async () => {
  const cacheDir = join(dir, 'cache-new-copy');
  const first = await ensureBase({ source: zst, cacheDir, lockTiming: FAST_LOCK });
  assert.equal(first.cacheHit, 'miss');
  const published = statSync(first.base);
  // Another inode with the same bytes (a CI job fetching its image anew): no digest memo for it,
  // but a base made from a file of its size, so it is hashed first and nothing is extracted.
  const copy = join(dir, 'new-copy-of-disk.img.zst');
  writeFileSync(copy, readFileSync(zst));
  const phases = new Set<string>();
  const second = await ensureBase({ source: copy, cacheDir, lockTiming: FAST_LOCK, onProgress: (p) => phases.add(p.phase) });
  assert.equal(second.cacheHit, 'l1');
  assert.equal(second.key, first.key);
  assert.equal(second.keyMemoized, false);
  assert.ok(!phases.has('extract'), `phases reported: ${[...phases].join(', ')}`);
  const after = statSync(second.base);
  assert.equal(after.ino, published.ino, 'the published base was not replaced');
  assertStoreClean(cacheDir);
});

test('two files with the same bytes prepared at once: both extract while hashing, one publishes, the other drops its copy', async () => {
  const cacheDir = join(dir, 'cache-same-bytes');
  const copies = ['twin-a.img.zst', 'twin-b.img.zst'].map((name) => join(dir, name));
  for (const copy of copies) writeFileSync(copy, readFileSync(zst));
  const extracting = copies.map(() => false);
  const results = await Promise.all(
    copies.map((copy, i) => ensureBase({ source: copy, cacheDir, lockTiming: FAST_LOCK, onProgress: (p) => (extracting[i] ||= p.phase === 'extract') })),
  );
  assert.deepEqual(extracting, [true, true], 'each was extracted before its key was known');
  assert.deepEqual(results.map((r) => r.cacheHit).sort(), ['l1', 'miss']);
  assert.equal(results[0].base, results[1].base);
  assert.equal(await sha256File(results[0].base), diskDigest);
  assertStoreClean(cacheDir);
});

test('the event loop (and so the lock heartbeat) keeps running during a long extraction', async () => {
  const cacheDir = join(dir, 'cache-heartbeat');
  const { bigZst: big } = await bigImage();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(Date.now()), 100);
  try {
    await ensureBase({ source: big, cacheDir, key: 'heartbeat', lockTiming: FAST_LOCK });
  } finally {
    clearInterval(timer);
    delay.disable();
  }
  const maxLagMs = delay.max / 1e6;
  assert.ok(maxLagMs < FAST_LOCK.staleMs / 4, `event loop blocked for ${maxLagMs.toFixed(0)} ms`);
  assert.ok(ticks.length >= 2, 'timers fired during the extraction');
});

const badInputs: { name: string; make: () => string; member?: string; cause: RegExp }[] = [
  {
    name: 'truncated zstd',
    make: () => {
      const p = join(dir, 'bad-truncated.img.zst');
      const bytes = readFileSync(zst);
      writeFileSync(p, bytes.subarray(0, bytes.length - 1000));
      return p;
    },
    cause: /truncated/,
  },
  {
    name: 'corrupt zstd',
    make: () => {
      const p = join(dir, 'bad-corrupt.img.zst');
      const bytes = Buffer.from(readFileSync(zst));
      for (let i = 100; i < bytes.length - 100; i += 997) bytes[i] ^= 0xff;
      writeFileSync(p, bytes);
      return p;
    },
    cause: /corrupt|checksum/i,
  },
  {
    name: 'broken tar',
    make: () => {
      const p = join(dir, 'bad-broken.tar');
      const bytes = Buffer.alloc(10 * 512, 0x41);
      writeFileSync(p, Buffer.concat([Buffer.from('x'.repeat(257)), Buffer.from('ustar'), bytes]));
      return p;
    },
    cause: /tar/,
  },
  {
    name: 'missing member',
    make: () => join(dir, 'disk-archive.tar'),
    member: 'nope.img',
    cause: /nope\.img/,
  },
  {
    name: 'symlink member',
    make: () => join(dir, 'link-archive.tar'),
    cause: /symbolic link/,
  },
  {
    name: 'unsafe member path',
    make: () => join(dir, 'disk-archive.tar'),
    member: '../disk.img',
    cause: /unsafe/,
  },
  { name: 'missing file', make: () => join(dir, 'does-not-exist.img.zst'), cause: /ENOENT|no such file|cannot read/i },
  { name: 'qcow2 inside zstd', make: () => join(dir, 'qcow2-inside.img.zst'), cause: /holds a qcow2 image, not a raw disk/ },
];

test('each bad input fails naming the file and its cause, and leaves the store clean', async () => {
  await runTool(['tar', '-C', dir, '-cf', join(dir, 'disk-archive.tar'), 'disk.img']);
  const linkDir = join(dir, 'link-src');
  mkdirSync(linkDir);
  symlinkSync('/etc/hostname', join(linkDir, 'disk.img'));
  await runTool(['tar', '-C', linkDir, '-cf', join(dir, 'link-archive.tar'), 'disk.img']);
  await runTool(['qemu-img', 'create', '-q', '-f', 'qcow2', join(dir, 'qcow2-inside.img'), '64M']);
  await runTool(['zstd', '-q', '-f', join(dir, 'qcow2-inside.img'), '-o', join(dir, 'qcow2-inside.img.zst')]);
  for (const bad of badInputs) {
    const cacheDir = join(dir, `cache-bad-${bad.name.replace(/ /g, '-')}`);
    const source = bad.make();
    await assert.rejects(
      ensureBase({ source, cacheDir, member: bad.member, lockTiming: FAST_LOCK }),
      (e: Error) => {
        assert.ok(e instanceof SourceError, `${bad.name}: ${e.message}`);
        assert.ok(e.message.includes(source), `${bad.name}: message names the file: ${e.message}`);
        assert.match(e.message, bad.cause, bad.name);
        return true;
      },
    );
    assertStoreClean(cacheDir);
    assert.deepEqual(listDir(storeLayout(cacheDir).bases), [], `${bad.name}: no base was published`);
  }
});

test('out of space on the store filesystem fails clearly and leaves the store clean', { skip: !isRoot() && 'mounting a small tmpfs needs root' }, async () => {
  const mount = join(dir, 'small-fs');
  mkdirSync(mount);
  // Data that compresses to almost nothing passes the free-space check made before extraction
  // (which can only count on the compressed size), so the filesystem fills up midway.
  const dense = join(dir, 'dense.img');
  writeFileSync(dense, Buffer.alloc(16 * MiB, 'basecow '));
  const denseZst = join(dir, 'dense.img.zst');
  await runTool(['zstd', '-q', '-f', dense, '-o', denseZst]);
  await runTool(['mount', '-t', 'tmpfs', '-o', 'size=8m,mode=0755', 'tmpfs', mount]);
  try {
    await assert.rejects(ensureBase({ source: denseZst, cacheDir: mount, lockTiming: FAST_LOCK }), (e: Error) => {
      assert.ok(e.message.includes(denseZst), e.message);
      assert.match(e.message, /no space left/);
      return true;
    });
    assertStoreClean(mount);
    assert.deepEqual(listDir(storeLayout(mount).bases), []);
  } finally {
    await runTool(['umount', mount]);
  }
});

test('a store with no space left before extraction: clear error, nothing left behind, the key free at once', { skip: !isRoot() && 'mounting a small tmpfs needs root' }, async () => {
  const mount = join(dir, 'full-fs');
  mkdirSync(mount);
  await runTool(['mount', '-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'tmpfs', mount]);
  try {
    const layout = storeLayout(mount);
    for (const sub of [layout.bases, layout.locks, layout.tmp]) mkdirSync(sub, { recursive: true });
    const filler = join(mount, 'filler');
    await runTool(['bash', '-c', `dd if=/dev/zero of='${filler}' bs=4k status=none 2>/dev/null || true`]);
    // Without a key the digest memo is written first; either way the lock's owner file then fails.
    for (const key of [undefined, 'full']) {
      await assert.rejects(ensureBase({ source: zst, cacheDir: mount, key, lockTiming: FAST_LOCK }), (e: Error) => {
        assert.ok(e instanceof SourceError, e.message);
        assert.ok(e.message.includes(zst), e.message);
        assert.match(e.message, /cannot take the lock .*no space left/);
        return true;
      });
      assertStoreClean(mount);
      assert.deepEqual(listDir(layout.digests), [], 'no half-written digest memo');
    }
    rmSync(filler);
    // Had a failed attempt kept its lock, this process's own heartbeat would hold the key until the wait timed out.
    const result = await ensureBase({ source: zst, cacheDir: mount, key: 'full', lockTiming: FAST_LOCK, waitTimeoutMs: 1000 });
    assert.equal(result.cacheHit, 'miss');
    assert.equal(await sha256File(result.base), diskDigest);
  } finally {
    await runTool(['umount', mount]);
  }
});

test('a lock taken over by another process: noticed before publishing, and never released from under the new holder', async () => {
  const layout = storeLayout(join(dir, 'cache-takeover'));
  mkdirSync(layout.locks, { recursive: true });
  mkdirSync(layout.tmp, { recursive: true });
  const path = lockPath(layout, 'taken');
  const held = await tryLock(path, FAST_LOCK, layout.tmp);
  assert.ok(held);
  assert.equal(await held.lost(), undefined);
  // What a second waiter that also saw the lock stale does: remove the directory, make its own, and
  // write its token.
  rmdirSync(path);
  mkdirSync(path);
  writeFileSync(ownerPath(path), 'another-holder');
  assert.match(String(await held.lost()), /taken over by another process/);
  await held.release();
  assert.ok(existsSync(path), "the new holder's lock is still there");
  assert.equal(readFileSync(ownerPath(path), 'utf8'), 'another-holder');
  rmdirSync(path);
  rmSync(ownerPath(path));
  // A lock that stays ours is released completely.
  const again = await tryLock(path, FAST_LOCK, layout.tmp);
  assert.ok(again);
  await again.release();
  assert.deepEqual(listDir(layout.locks), []);
  assert.deepEqual(listDir(layout.tmp), []);
});

test('a lock whose fresh directory another waiter removes at once is not taken, and no error: the caller tries again', async () => {
  const layout = storeLayout(join(dir, 'cache-race'));
  mkdirSync(layout.locks, { recursive: true });
  mkdirSync(layout.tmp, { recursive: true });
  const path = lockPath(layout, 'raced');
  // proper-lockfile stats the directory it has just made; a second waiter that found the same lock
  // stale removes it right then (its takeover's rmdir), which is this interleaving, made certain.
  const fs = createRequire(import.meta.url)('graceful-fs') as { stat: (...args: unknown[]) => void };
  const realStat = fs.stat;
  let raced = false;
  fs.stat = (...args: unknown[]) => {
    if (args[0] === path && !raced) {
      raced = true;
      rmdirSync(path);
    }
    return realStat.apply(fs, args);
  };
  try {
    assert.equal(await tryLock(path, FAST_LOCK, layout.tmp), undefined);
  } finally {
    fs.stat = realStat;
  }
  assert.ok(raced, 'the race was staged');
  // Nothing of the attempt is left, and the next attempt takes the lock.
  assert.deepEqual(listDir(layout.tmp), []);
  const held = await tryLock(path, FAST_LOCK, layout.tmp);
  assert.ok(held);
  await held.release();
  assert.deepEqual(listDir(layout.locks), []);
  // With the locks directory itself gone, the error says so instead.
  rmSync(layout.locks, { recursive: true });
  await assert.rejects(tryLock(path, FAST_LOCK, layout.tmp), /cannot take the lock .*ENOENT/);
});

test('a source that changes while it is extracted is not published', async () => {
  const cacheDir = join(dir, 'cache-changing');
  const source = join(dir, 'changing.img.zst');
  writeFileSync(source, readFileSync(zst));
  let touched = false;
  await assert.rejects(
    ensureBase({
      source,
      cacheDir,
      lockTiming: FAST_LOCK,
      onProgress: (p) => {
        if (p.phase === 'extract' && !touched) {
          touched = true;
          utimesSync(source, new Date(), new Date(Date.now() + 5000));
        }
      },
    }),
    (e: Error) => e instanceof SourceError && e.message.startsWith(`${source}: changed while it was being read`),
  );
  assert.ok(touched);
  assertStoreClean(cacheDir);
  assert.deepEqual(listDir(storeLayout(cacheDir).bases), []);
});

test("sweeping tmp/: dead writers' leftovers go, a live writer's file stays", async () => {
  const cacheDir = join(dir, 'cache-sweep');
  const layout = storeLayout(cacheDir);
  mkdirSync(layout.tmp, { recursive: true });
  const dead = spawn(process.execPath, ['-e', '0']);
  const deadPid = dead.pid!;
  await new Promise((resolve) => dead.on('exit', resolve));
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    const file = (name: string, ageMs = 0): string => {
      const path = join(layout.tmp, name);
      writeFileSync(path, 'x');
      const when = new Date(Date.now() - ageMs);
      utimesSync(path, when, when);
      return path;
    };
    const ownDead = file(`sweep+${deadPid}-aaaa.img`);
    const ownLive = file(`sweep+${live.pid}-bbbb.img`);
    const foreignDeadOld = file(`other+${deadPid}-cccc.img`, 3600_000);
    const foreignDeadFresh = file(`other+${deadPid}-dddd.img`);
    await ensureBase({ source: zst, cacheDir, key: 'sweep', lockTiming: FAST_LOCK });
    assert.equal(existsSync(ownDead), false, "this key's file of a dead writer is swept");
    assert.equal(existsSync(ownLive), true, "this key's file of a live writer is kept");
    assert.equal(existsSync(foreignDeadOld), false, "another key's old file of a dead writer is swept");
    assert.equal(existsSync(foreignDeadFresh), true, "another key's recent file is left to its key's next holder");
  } finally {
    live.kill();
  }
});

test("keys 'x' and 'x.owner' prepared at once in one store: both succeed with their own content, no debris", async () => {
  // Owner files used to be '<lock>.owner', so key x's owner file was locks/x.owner: the lock of key
  // x.owner. With x.owner's lock held, x's owner file could not be renamed onto that directory and
  // preparing x failed; with x's lock held, x.owner found a fresh file at its lock's path and waited
  // for x as if its own key were busy. Holding each lock in turn makes both clashes happen for sure;
  // two processes at once then show the whole path works.
  const other = join(dir, 'owner-key-other.img');
  await makeSparseFile(other, 8 * MiB, [{ offset: MiB, length: 3 * MiB }]);
  const otherDigest = await sha256File(other);
  const sources = { x: { source: zst, digest: diskDigest }, 'x.owner': { source: other, digest: otherDigest } };

  const cacheDir = join(dir, 'cache-owner-key');
  const layout = storeLayout(cacheDir);
  mkdirSync(layout.locks, { recursive: true });
  mkdirSync(layout.tmp, { recursive: true });
  for (const [held, key] of [['x.owner', 'x'], ['x', 'x.owner']] as const) {
    const lock = await tryLock(lockPath(layout, held), FAST_LOCK, layout.tmp);
    assert.ok(lock);
    try {
      const result = await ensureBase({ source: sources[key].source, cacheDir, key, lockTiming: FAST_LOCK, waitTimeoutMs: 2000 });
      assert.equal(result.cacheHit, 'miss');
      assert.equal(await sha256File(result.base), sources[key].digest, `key ${key} while ${held} is held`);
      assert.equal(await lock.lost(), undefined, `preparing ${key} left the lock of ${held} alone`);
    } finally {
      await lock.release();
    }
  }
  assertStoreClean(cacheDir);

  const raceDir = join(dir, 'cache-owner-key-race');
  const children = (['x', 'x.owner'] as const).map((key) => runChild({ source: sources[key].source, cacheDir: raceDir, key, lockTiming: FAST_LOCK }));
  const outcomes = await Promise.all(children.map((c) => c.done));
  for (const [i, key] of (['x', 'x.owner'] as const).entries()) {
    assert.equal(outcomes[i].code, 0, `${key}: ${outcomes[i].stderr}`);
    const result = JSON.parse(outcomes[i].stdout.trim().split('\n').pop()!) as BaseResult;
    assert.equal(result.base, join(storeLayout(raceDir).bases, `${key}.img`));
    assert.equal(await sha256File(result.base), sources[key].digest, key);
  }
  assertStoreClean(raceDir);
});
