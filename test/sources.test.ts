import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SourceError, UsageError } from '../src/core/errors.js';
import type { BaseSource, SourceContext } from '../src/core/store/base-source.js';
import { ensureBase } from '../src/core/store/ensure-base.js';
import { storeLayout } from '../src/core/store/layout.js';
import { readSidecar } from '../src/core/store/sidecar.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { parseSourceChoice } from '../src/inputs/source.js';
import { buildSource } from '../src/sources/build.js';
import { serializeBuildKey } from '../src/sources/key-files.js';
import { urlSource } from '../src/sources/url.js';
import { listDir, makeSparseFile, sha256File, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const BIN = fileURLToPath(new URL('../../bin/basecow.js', import.meta.url));
const FAST_RETRY = { attempts: 3, firstDelayMs: 10, maxDelayMs: 40 };

const dir = tempDir();
const disk = join(dir, 'disk.img');
await makeSparseFile(disk, 8 * MiB, [
  { offset: 0, length: 1 * MiB },
  { offset: 5 * MiB + 512, length: 2 * MiB },
]);
const diskDigest = await sha256File(disk);
const zst = join(dir, 'disk.img.zst');
await runTool(['zstd', '-q', '-f', disk, '-o', zst]);
const zstBytes = readFileSync(zst);
const zstDigest = await sha256File(zst);
const WRONG_DIGEST = 'ab'.repeat(32);

/** A store is clean when nothing but finished bases and their sidecars is left. */
function assertStoreClean(cacheDir: string, bases: number): void {
  const layout = storeLayout(cacheDir);
  assert.deepEqual(listDir(layout.tmp), [], 'tmp/ is empty');
  assert.deepEqual(listDir(layout.locks), [], 'no lock is left');
  assert.equal(listDir(layout.bases).filter((n) => n.endsWith('.img')).length, bases, `${bases} base(s) in the store`);
}

// --- a loopback server whose routes misbehave on purpose ------------------------------------------

interface Hit {
  path: string;
  range: string | undefined;
}
const hits: Hit[] = [];
const hitsOf = (path: string) => hits.filter((h) => h.path === path);
const ETAG = '"disk-v1"';

/** Serves `body` with Content-Length, ETag and Range support, as a static file server does. */
function serveFile(req: IncomingMessage, res: ServerResponse, body: Buffer, options: { ignoreRange?: boolean; dropAfter?: number } = {}): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range && !options.ignoreRange ? Number(range[1]) : 0;
  const part = body.subarray(start);
  const headers: Record<string, string | number> = { 'content-length': part.length, etag: ETAG, 'accept-ranges': 'bytes' };
  if (start > 0) {
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(206, headers);
  } else {
    res.writeHead(200, headers);
  }
  if (options.dropAfter !== undefined && options.dropAfter < part.length) {
    // Half a body, then the connection goes: what a reset or a proxy timeout looks like.
    res.write(part.subarray(0, options.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  res.end(part);
}

let dropOnceServed = 0;
let dropNoRangeServed = 0;
let slowResponse: ServerResponse | undefined;
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  hits.push({ path, range: req.headers.range });
  switch (path) {
    case '/good/disk.img.zst':
    case '/hit/disk.img.zst':
    case '/bad/disk.img.zst':
    case '/no-extension/disk':
      return serveFile(req, res, zstBytes);
    case '/drop-once/disk.img.zst':
      return serveFile(req, res, zstBytes, dropOnceServed++ === 0 ? { dropAfter: Math.floor(zstBytes.length / 2) } : {});
    case '/drop-no-range/disk.img.zst':
      return serveFile(req, res, zstBytes, { ignoreRange: true, ...(dropNoRangeServed++ === 0 ? { dropAfter: Math.floor(zstBytes.length / 3) } : {}) });
    case '/always-drop/disk.img.zst':
      return serveFile(req, res, zstBytes, { ignoreRange: true, dropAfter: 64 * 1024 });
    case '/redirect/disk.img.zst':
      res.writeHead(302, { location: `${origin}/good/disk.img.zst` });
      return res.end();
    case '/slow/disk.img.zst':
      res.writeHead(200, { 'content-length': zstBytes.length });
      res.write(zstBytes.subarray(0, 4096));
      slowResponse = res;
      return;
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not here');
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => {
  slowResponse?.destroy();
  server.closeAllConnections();
  server.close();
});
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// --- url ------------------------------------------------------------------------------------------

test('url: a good digest makes the base, records the URL, reports progress, and keeps no download', async () => {
  const cacheDir = join(tempDir(), 'cache');
  const url = `${origin}/good/disk.img.zst`;
  const progress: number[] = [];
  const result = await ensureBase({
    source: urlSource({ url, sha256: zstDigest.toUpperCase() }),
    cacheDir,
    onProgress: (p) => {
      if (p.phase === 'download') {
        assert.equal(p.total, zstBytes.length, 'total from Content-Length');
        progress.push(p.done);
      }
    },
  });
  assert.equal(result.key, `sha256-${zstDigest}`);
  assert.equal(result.cacheHit, 'miss');
  assert.equal(result.origin, 'downloaded');
  assert.equal(await sha256File(result.base), diskDigest, 'the base is the decompressed disk');
  assert.equal(progress.at(-1), zstBytes.length);
  const sidecar = await readSidecar(result.sidecar);
  assert.equal(sidecar.origin, 'downloaded');
  assert.deepEqual(
    { path: sidecar.source.path, kind: sidecar.source.kind, digest: sidecar.source.digest, format: sidecar.source.format, bytes: sidecar.source.bytes },
    { path: url, kind: 'url', digest: `sha256-${zstDigest}`, format: 'zstd', bytes: zstBytes.length },
  );
  assertStoreClean(cacheDir, 1);
});

test('url: an L1 hit never contacts the server', async () => {
  const cacheDir = join(tempDir(), 'cache');
  const url = `${origin}/hit/disk.img.zst`;
  const first = await ensureBase({ source: urlSource({ url, sha256: zstDigest }), cacheDir });
  assert.equal(hitsOf('/hit/disk.img.zst').length, 1);
  const second = await ensureBase({ source: urlSource({ url, sha256: `sha256:${zstDigest}`.slice('sha256:'.length) }), cacheDir });
  assert.equal(second.cacheHit, 'l1');
  assert.equal(second.base, first.base);
  assert.equal(hitsOf('/hit/disk.img.zst').length, 1, 'no second request');
});

test('url: a digest mismatch names the URL and both digests, and keeps nothing', async () => {
  const cacheDir = join(tempDir(), 'cache');
  const url = `${origin}/bad/disk.img.zst`;
  await assert.rejects(ensureBase({ source: urlSource({ url, sha256: WRONG_DIGEST }), cacheDir }), (error: Error) => {
    assert.ok(error instanceof SourceError);
    assert.ok(error.message.includes(url), error.message);
    assert.ok(error.message.includes(`expected ${WRONG_DIGEST}`), error.message);
    assert.ok(error.message.includes(`got ${zstDigest}`), error.message);
    return true;
  });
  assertStoreClean(cacheDir, 0);
});

test('url: a connection dropped mid-way is resumed with a Range request; the base is byte-identical', async () => {
  const cacheDir = join(tempDir(), 'cache');
  const warnings: string[] = [];
  const result = await ensureBase({
    source: urlSource({ url: `${origin}/drop-once/disk.img.zst`, sha256: zstDigest, retry: FAST_RETRY }),
    cacheDir,
    onWarning: (w) => warnings.push(w.code),
  });
  const requests = hitsOf('/drop-once/disk.img.zst');
  assert.equal(requests.length, 2);
  assert.equal(requests[0].range, undefined);
  assert.match(requests[1].range ?? '', /^bytes=[1-9]\d*-$/, 'the second request resumes');
  assert.deepEqual(warnings, ['download-retry']);
  assert.equal(await sha256File(result.base), diskDigest);
  assertStoreClean(cacheDir, 1);
});

test('url: a server that ignores Range makes the download start over; the base is byte-identical', async () => {
  const cacheDir = join(tempDir(), 'cache');
  const result = await ensureBase({ source: urlSource({ url: `${origin}/drop-no-range/disk.img.zst`, sha256: zstDigest, retry: FAST_RETRY }), cacheDir });
  assert.equal(hitsOf('/drop-no-range/disk.img.zst').length, 2);
  assert.equal(await sha256File(result.base), diskDigest);
  assertStoreClean(cacheDir, 1);
});

test('url: a server that always drops fails clearly after the retries, leaving nothing', async () => {
  const cacheDir = join(tempDir(), 'cache');
  const url = `${origin}/always-drop/disk.img.zst`;
  await assert.rejects(ensureBase({ source: urlSource({ url, sha256: zstDigest, retry: FAST_RETRY }), cacheDir }), (error: Error) => {
    assert.ok(error instanceof SourceError);
    assert.ok(error.message.startsWith(`${url}: download failed after ${1 + FAST_RETRY.attempts} attempts`), error.message);
    return true;
  });
  // The first attempt brings bytes; each later one starts over and brings no new ones.
  assert.equal(hitsOf('/always-drop/disk.img.zst').length, 1 + FAST_RETRY.attempts);
  assertStoreClean(cacheDir, 0);
});

test('url: 404 is a clear error at once, leaving nothing', async () => {
  const cacheDir = join(tempDir(), 'cache');
  const url = `${origin}/missing/disk.img.zst`;
  await assert.rejects(ensureBase({ source: urlSource({ url, sha256: zstDigest, retry: FAST_RETRY }), cacheDir }), (error: Error) => {
    assert.ok(error instanceof SourceError);
    assert.equal(error.message, `${url}: download failed: HTTP 404 Not Found`);
    return true;
  });
  assert.equal(hitsOf('/missing/disk.img.zst').length, 1, 'a 404 is not retried');
  assertStoreClean(cacheDir, 0);
});

test('url: redirects are followed; a name without an extension leaves the format to the content', async () => {
  const cacheDir = join(tempDir(), 'cache');
  const redirected = await ensureBase({ source: urlSource({ url: `${origin}/redirect/disk.img.zst`, sha256: zstDigest }), cacheDir });
  assert.equal(await sha256File(redirected.base), diskDigest);
  const other = join(tempDir(), 'cache');
  const bare = await ensureBase({ source: urlSource({ url: `${origin}/no-extension/disk`, sha256: zstDigest }), cacheDir: other });
  assert.equal((await readSidecar(bare.sidecar)).source.format, 'zstd');
  assert.equal(await sha256File(bare.base), diskDigest);
});

test('url: an abort mid-download stops at once and removes the partial download', async () => {
  const cacheDir = join(tempDir(), 'cache');
  const controller = new AbortController();
  const reason = new Error('stop');
  const pending = ensureBase({
    source: urlSource({ url: `${origin}/slow/disk.img.zst`, sha256: zstDigest }),
    cacheDir,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.phase === 'download' && p.done > 0) controller.abort(reason);
    },
  });
  const started = performance.now();
  await assert.rejects(pending, (error) => error === reason);
  assert.ok(performance.now() - started < 5000);
  assertStoreClean(cacheDir, 0);
});

// --- build ----------------------------------------------------------------------------------------

function workspace(): string {
  const ws = tempDir('basecow-ws-');
  writeFileSync(join(ws, 'recipe.txt'), 'recipe v1\n');
  writeFileSync(join(ws, 'notes.md'), 'not a key file\n');
  return ws;
}

const keyOf = async (source: BaseSource, digestsDir: string): Promise<string> =>
  (await source.key({ tmpDir: digestsDir, digestsDir } as SourceContext)).key;

test('build: the key follows the key files and the command, and nothing else', async () => {
  const ws = workspace();
  const digests = join(tempDir(), 'digests');
  const make = (command: string, keyFiles = ['recipe.txt', 'sub/**/*.cfg']) => buildSource({ command, keyFiles, workspace: ws });
  const base = await keyOf(make('make-image'), digests);
  assert.match(base, /^sha256-[0-9a-f]{64}$/);
  assert.equal(await keyOf(make('make-image'), digests), base, 'same inputs, same key');
  writeFileSync(join(ws, 'notes.md'), 'changed, but not a key file\n');
  utimesSync(join(ws, 'recipe.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
  assert.equal(await keyOf(make('make-image'), digests), base, 'an unmatched file and an mtime do not count');
  assert.notEqual(await keyOf(make('make-image --fast'), digests), base, 'the command counts');
  writeFileSync(join(ws, 'recipe.txt'), 'recipe v2\n');
  const changed = await keyOf(make('make-image'), digests);
  assert.notEqual(changed, base, 'a key file\'s content counts');
  await runTool(['mkdir', '-p', join(ws, 'sub', 'deep')]);
  writeFileSync(join(ws, 'sub', 'deep', 'a.cfg'), 'x');
  assert.notEqual(await keyOf(make('make-image'), digests), changed, 'a newly matched file counts');
  // The key is the documented serialization of relative paths, so it is the same in another checkout.
  const ws2 = workspace();
  writeFileSync(join(ws2, 'recipe.txt'), 'recipe v2\n');
  const digest = (text: string) => `sha256-${createHashHex(text)}`;
  assert.equal(
    await keyOf(buildSource({ command: 'c', keyFiles: ['recipe.txt'], workspace: ws2 }), digests),
    digest(serializeBuildKey('c', [{ path: 'recipe.txt', sha256: createHashHex('recipe v2\n') }])),
  );
});

function createHashHex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

test('build: no matched key file is an error that names the globs', async () => {
  const ws = workspace();
  await assert.rejects(keyOf(buildSource({ command: 'x', keyFiles: ['nothing/*.txt', '*.none'], workspace: ws }), join(tempDir(), 'd')), (error: Error) => {
    assert.ok(error instanceof UsageError);
    assert.ok(error.message.includes('"nothing/*.txt", "*.none"') && error.message.includes(ws), error.message);
    return true;
  });
});

test('build: the command writes a compressed image to $BASECOW_OUTPUT (no extension), run in the workspace', async () => {
  const ws = workspace();
  const cacheDir = join(tempDir(), 'cache');
  const log: Buffer[] = [];
  const output = { write: (d: string | Buffer) => log.push(Buffer.from(d)) } as unknown as NodeJS.WritableStream;
  const command = `test -f recipe.txt; case "$BASECOW_OUTPUT" in *.*) exit 9;; esac; echo compressing; zstd -q -c ${JSON.stringify(disk)} > "$BASECOW_OUTPUT"`;
  const result = await ensureBase({ source: buildSource({ command, keyFiles: ['recipe.txt'], workspace: ws, output }), cacheDir });
  assert.equal(result.origin, 'built');
  assert.equal(await sha256File(result.base), diskDigest);
  const sidecar = await readSidecar(result.sidecar);
  assert.deepEqual([sidecar.source.kind, sidecar.source.path, sidecar.source.format], ['build', command, 'zstd']);
  assert.ok(Buffer.concat(log).toString().includes('compressing'), 'the command\'s output reaches the caller\'s log');
  assertStoreClean(cacheDir, 1);
});

test('build: four concurrent processes on one key run the command once', async () => {
  const ws = workspace();
  const cacheDir = join(tempDir(), 'cache');
  const counter = join(ws, 'runs');
  // Slow enough that all four are waiting on the key while the first builds.
  const command = `echo run >> ${JSON.stringify(counter)}; sleep 1; head -c 3145728 /dev/urandom > "$BASECOW_OUTPUT"`;
  const runs = Array.from({ length: 4 }, () => {
    const child = spawn(process.execPath, [BIN, 'prepare', '--json', '--cache-dir', cacheDir, '--build', command, '--key-files', 'recipe.txt,notes.md'], {
      cwd: ws,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  });
  const results = await Promise.all(runs);
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const parsed = results.map((r) => JSON.parse(r.stdout) as { key: string; base: string; cacheHit: string; origin: string });
  assert.equal(readFileSync(counter, 'utf8'), 'run\n', 'the command ran exactly once');
  assert.equal(new Set(parsed.map((p) => p.base)).size, 1);
  assert.deepEqual(parsed.map((p) => p.cacheHit).sort(), ['l1', 'l1', 'l1', 'miss']);
  assert.equal(parsed.find((p) => p.cacheHit === 'miss')?.origin, 'built');
  assertStoreClean(cacheDir, 1);
});

test('build: a failing command is an error naming it, its status and its stderr; nothing is kept', async () => {
  const ws = workspace();
  const cacheDir = join(tempDir(), 'cache');
  const output = { write: () => true } as unknown as NodeJS.WritableStream;
  const command = 'echo partial > "$BASECOW_OUTPUT"; echo "step 1 ok" >&2; echo "disk full, giving up" >&2; false; echo unreachable';
  await assert.rejects(ensureBase({ source: buildSource({ command, keyFiles: ['recipe.txt'], workspace: ws, output }), cacheDir }), (error: Error) => {
    assert.ok(error instanceof SourceError);
    assert.ok(error.message.startsWith("build command 'echo partial >"), error.message);
    assert.ok(error.message.includes('exit status 1'), error.message);
    assert.ok(error.message.endsWith('step 1 ok\ndisk full, giving up'), error.message);
    return true;
  });
  assertStoreClean(cacheDir, 0);
  // pipefail: a failure inside a pipeline fails the build too.
  await assert.rejects(
    ensureBase({ source: buildSource({ command: 'false | cat > "$BASECOW_OUTPUT"', keyFiles: ['recipe.txt'], workspace: ws, output }), cacheDir }),
    /exit status 1/,
  );
  assertStoreClean(cacheDir, 0);
});

test('build: a command that exits 0 without writing $BASECOW_OUTPUT is an error', async () => {
  const ws = workspace();
  const cacheDir = join(tempDir(), 'cache');
  const output = { write: () => true } as unknown as NodeJS.WritableStream;
  await assert.rejects(ensureBase({ source: buildSource({ command: 'echo "forgot the output"', keyFiles: ['recipe.txt'], workspace: ws, output }), cacheDir }), (error: Error) => {
    assert.ok(error instanceof SourceError);
    assert.match(error.message, /^build command 'echo "forgot the output"': exited with status 0 but wrote nothing to \$BASECOW_OUTPUT/);
    return true;
  });
  assertStoreClean(cacheDir, 0);
});

test('build: an abort kills the command\'s whole process group and keeps nothing', async () => {
  const ws = workspace();
  const cacheDir = join(tempDir(), 'cache');
  const output = { write: () => true } as unknown as NodeJS.WritableStream;
  const controller = new AbortController();
  const reason = new Error('stop');
  const command = 'echo data > "$BASECOW_OUTPUT"; sleep 60 & echo $! > child.pid; echo $$ > shell.pid; wait';
  const pending = ensureBase({ source: buildSource({ command, keyFiles: ['recipe.txt'], workspace: ws, output }), cacheDir, signal: controller.signal });
  const pidOf = async (name: string): Promise<number> => {
    for (;;) {
      const text = (() => {
        try {
          return readFileSync(join(ws, name), 'utf8').trim();
        } catch {
          return '';
        }
      })();
      if (text !== '') return Number(text);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const [shell, child] = [await pidOf('shell.pid'), await pidOf('child.pid')];
  // A killed process may linger as a zombie until its new parent reaps it: that one is dead.
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  assert.ok(alive(shell) && alive(child));
  const started = performance.now();
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);
  assert.ok(performance.now() - started < 4000, 'stopped without waiting for the command');
  assert.ok(!alive(child), 'the background child of the command is gone too');
  assert.ok(!alive(shell));
  assertStoreClean(cacheDir, 0);
});

// --- the source choice ----------------------------------------------------------------------------

test('parseSourceChoice: exactly one source, named with the front end\'s labels', () => {
  const labels = { image: '--image', member: '--member', url: '--url', sha256: '--sha256', build: '--build', keyFiles: '--key-files' };
  const hex = 'AB'.repeat(32);
  assert.deepEqual(parseSourceChoice({ url: 'https://h/x.img.zst', sha256: `sha256:${hex}` }, labels), {
    kind: 'url',
    url: 'https://h/x.img.zst',
    sha256: hex.toLowerCase(),
    member: undefined,
  });
  assert.deepEqual(parseSourceChoice({ build: 'make', keyFiles: 'a/**\n\n# comment\n!a/tmp/**' }, labels), {
    kind: 'build',
    command: 'make',
    keyFiles: ['a/**', '!a/tmp/**'],
    member: undefined,
  });
  assert.deepEqual(parseSourceChoice({ build: 'make', keyFiles: 'a,b' }, labels, { keyFilesCommas: true }).kind, 'build');
  assert.deepEqual(parseSourceChoice({ image: '', url: '' }, labels, { defaultImage: 'demo.img.zst' }), { kind: 'image', image: 'demo.img.zst', member: undefined });
  assert.throws(() => parseSourceChoice({}, labels), /give exactly one source: --image, --url \+ --sha256, or --build \+ --key-files/);
  assert.throws(() => parseSourceChoice({ image: 'a.img', url: 'https://h/x', sha256: hex }, labels), /give exactly one source.*\(got --image and --url\)/);
  assert.throws(() => parseSourceChoice({ url: 'https://h/x' }, labels), /--url needs --sha256/);
  assert.throws(() => parseSourceChoice({ keyFiles: 'a' }, labels), /--key-files needs --build/);
  assert.throws(() => parseSourceChoice({ url: 'https://h/x', sha256: 'abc' }, labels), /--sha256 must be 64 hexadecimal digits/);
  assert.throws(() => parseSourceChoice({ url: 'ftp://h/x', sha256: hex }, labels), /--url must be an http or https URL/);
  assert.throws(() => parseSourceChoice({ build: 'make', keyFiles: '\n# only a comment\n' }, labels), /--key-files has no glob/);
});
