// The GitHub Action run as the runner runs it: dist/main.js and dist/post.js as separate
// processes, against a local, protocol-faithful Actions cache service (twirp + Azurite) with the
// real @actions/cache client inside the bundle.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cacheKeyFor } from '../src/action/actions-cache.js';
import { allocatedBytes, makeSparseFile, sha256File, tempDir } from './helpers.js';
import { REPO, logOf, makeRunner, runStep, type Runner } from './support/action-runner.js';
import { startCacheService, type CacheService } from './support/actions-cache-service.js';

const MiB = 1024 * 1024;
const dir = tempDir('basecow-action-');
let service: CacheService;
let image: string;
let raw: string;

before(async () => {
  service = await startCacheService();
  // A sparse disk with data in a few places, compressed the way users ship it.
  raw = join(dir, 'disk.img');
  await makeSparseFile(raw, 96 * MiB, [{ offset: 0, length: 2 * MiB }, { offset: 40 * MiB, length: 3 * MiB }, { offset: 90 * MiB, length: MiB }]);
  image = join(dir, 'disk.img.zst');
  execFileSync('zstd', ['-q', '-3', raw, '-o', image]);
});
after(() => service?.stop());

let runners = 0;
/** A fresh runner: its own workspace, temp, and store, reaching the shared cache service. */
function newRunner(): Runner & { cacheDir: string } {
  const name = `runner-${++runners}`;
  const runner = makeRunner(dir, name, service.env);
  return { ...runner, cacheDir: join(dir, name, 'store') };
}

const baseInputs = (runner: { cacheDir: string }, extra: Record<string, string> = {}): Record<string, string> => ({
  image,
  'cache-dir': runner.cacheDir,
  'remote-cache': 'actions',
  ...extra,
});

/** Every file under a store's tmp/ and the runner's temp: what a step must not leave behind. */
function leftovers(runner: Runner & { cacheDir: string }): string[] {
  const tmp = join(runner.cacheDir, 'v1', 'tmp');
  const inTmp = existsSync(tmp) ? readdirSync(tmp) : [];
  const l2 = join(runner.workspace, '.basecow-l2');
  return [...inTmp.map((n) => `store tmp/${n}`), ...(existsSync(l2) ? readdirSync(l2).map((n) => `workspace .basecow-l2/${n}`) : [])];
}

test('a miss builds the base and post saves it; another runner restores it from the Actions cache (l2), byte-identical and sparse, and does not save again', async () => {
  const a = newRunner();
  const mainA = await runStep(a, 'main', { inputs: baseInputs(a) });
  assert.equal(mainA.code, 0, logOf(mainA));
  assert.equal(mainA.outputs['cache-hit'], 'miss');
  assert.match(mainA.outputs.key, /^sha256-[0-9a-f]{64}$/);
  const baseA = mainA.outputs['base-image'];
  assert.ok(baseA.startsWith(a.cacheDir) && existsSync(baseA), baseA);
  assert.ok(Number(mainA.outputs.seconds) > 0);
  assert.equal(mainA.state['basecow-save-key'], mainA.outputs.key, 'main tells post to save');
  assert.match(mainA.summary, new RegExp(mainA.outputs.key));
  assert.match(mainA.summary, /extracted from the image now/);
  assert.equal(await sha256File(baseA), await sha256File(raw));

  const postA = await runStep(a, 'post', { state: mainA.state });
  assert.equal(postA.code, 0, logOf(postA));
  assert.deepEqual(postA.warnings, [], logOf(postA));
  const saved = service.entries.filter((e) => e.key === cacheKeyFor(mainA.outputs.key) && e.finalized);
  assert.equal(saved.length, 1, 'one entry saved for the key');
  assert.deepEqual(leftovers(a), [], 'the entry file is removed after saving');

  const b = newRunner();
  const mainB = await runStep(b, 'main', { inputs: baseInputs(b) });
  assert.equal(mainB.code, 0, logOf(mainB));
  assert.equal(mainB.outputs['cache-hit'], 'l2', logOf(mainB));
  const baseB = mainB.outputs['base-image'];
  assert.ok(baseB.startsWith(b.cacheDir));
  assert.equal(await sha256File(baseB), await sha256File(raw), 'byte-identical');
  assert.ok(allocatedBytes(baseB) <= allocatedBytes(baseA), `no hole filled on restore (${allocatedBytes(baseB)} > ${allocatedBytes(baseA)})`);
  assert.equal((statSync(baseB).mode & 0o777).toString(8), '444');
  assert.equal(mainB.state['basecow-save-key'], undefined, 'an l2 job does not save');
  assert.match(mainB.summary, /the Actions cache \(l2\), decoded as it streamed in/, logOf(mainB));
  assert.deepEqual(mainB.warnings, [], logOf(mainB));
  // The stream asks the service what restoreCache would ask: the version the client saved under.
  const asked = (method: string, runnerCalls: typeof service.calls) => runnerCalls.filter((c) => c.method === method && c.request.key === cacheKeyFor(mainA.outputs.key));
  const saveVersion = asked('CreateCacheEntry', service.calls)[0]?.request.version;
  assert.ok(saveVersion);
  assert.equal(asked('GetCacheEntryDownloadURL', service.calls).at(-1)?.request.version, saveVersion);
  const postB = await runStep(b, 'post', { state: mainB.state });
  assert.equal(postB.code, 0, logOf(postB));
  assert.equal(service.entries.filter((e) => e.key === cacheKeyFor(mainB.outputs.key)).length, 1, 'no second save');
  assert.deepEqual(leftovers(b), []);

  // The same runner again: its own store answers, and quickly.
  const again = await runStep(b, 'main', { inputs: baseInputs(b) });
  assert.equal(again.outputs['cache-hit'], 'l1', logOf(again));
  assert.equal(again.state['basecow-save-key'], undefined);

  // A signed URL the runner reaches with no proxy between streams the same way. Through
  // restoreCache instead (BASECOW_ACTIONS_CACHE_RESTORE=client; also the way of runners the stream
  // does not apply to), the archive the client downloads is followed on both of its download paths:
  // 4 MiB ranges for *.blob.core.windows.net, one plain GET written in order for other URLs.
  const ways = [
    { urls: 'loopback', env: {}, decoded: /decoded as it streamed in/ },
    { urls: 'azure', env: { BASECOW_ACTIONS_CACHE_RESTORE: 'client' }, decoded: /decoded while it downloaded/ },
    { urls: 'loopback', env: { BASECOW_ACTIONS_CACHE_RESTORE: 'client' }, decoded: /decoded while it downloaded/ },
  ] as const;
  for (const way of ways) {
    service.blobUrls = way.urls;
    try {
      const c = newRunner();
      const mainC = await runStep(c, 'main', { inputs: baseInputs(c), env: way.env });
      const label = `${way.urls} ${JSON.stringify(way.env)}: ${logOf(mainC)}`;
      assert.equal(mainC.outputs['cache-hit'], 'l2', label);
      assert.match(mainC.summary, way.decoded, label);
      assert.deepEqual(mainC.warnings, [], label);
      assert.equal(await sha256File(mainC.outputs['base-image']), await sha256File(raw), label);
      assert.deepEqual(leftovers(c), [], label);
    } finally {
      service.blobUrls = 'azure';
    }
  }
});

test('a streamed entry is fetched in ranges: a range cut off is fetched again, a server that ignores ranges sends it whole, a range that fails every try sends the restore through the cache client (one warning)', async () => {
  // 20 MiB of data: an archive of three ranges.
  const bigRaw = join(dir, 'ranges.img');
  await makeSparseFile(bigRaw, 64 * MiB, [{ offset: 4 * MiB, length: 20 * MiB }]);
  const bigImage = join(dir, 'ranges.img.zst');
  execFileSync('zstd', ['-q', '-3', bigRaw, '-o', bigImage]);
  const inputs = (r: { cacheDir: string }) => ({ ...baseInputs(r, { key: 'broken-stream' }), image: bigImage });
  const a = newRunner();
  const mainA = await runStep(a, 'main', { inputs: inputs(a) });
  assert.equal((await runStep(a, 'post', { state: mainA.state })).code, 0);
  const entryBlob = service.entries.find((e) => e.key === cacheKeyFor('broken-stream') && e.finalized)!.blobName;
  const restoreWith = async (label: string, faults: Partial<typeof service.faults>) => {
    const b = newRunner();
    Object.assign(service.faults, faults);
    const seen = service.blobRequests.length;
    try {
      const main = await runStep(b, 'main', { inputs: inputs(b) });
      assert.equal(main.code, 0, `${label}: ${logOf(main)}`);
      assert.equal(main.outputs['cache-hit'], 'l2', `${label}: ${logOf(main)}`);
      assert.equal(await sha256File(main.outputs['base-image']), await sha256File(bigRaw), label);
      assert.deepEqual(leftovers(b), [], label);
      return { main, requests: service.blobRequests.slice(seen).filter((r) => r.blobName === entryBlob && r.method === 'GET') };
    } finally {
      service.faults.cutDownloads = undefined;
      service.faults.ignoreRanges = undefined;
    }
  };

  // The first range, cut after 200 KiB once, is asked for again; the three come together in order.
  const once = await restoreWith('one cut', { cutDownloads: { afterBytes: 200 * 1024, times: 1 } });
  assert.deepEqual(once.main.warnings, [], logOf(once.main));
  assert.match(once.main.summary, /decoded as it streamed in/);
  assert.equal(once.requests.filter((r) => r.cut).length, 1);
  assert.equal(once.requests.length, 4, JSON.stringify(once.requests));

  const whole = await restoreWith('ranges ignored', { ignoreRanges: true });
  assert.deepEqual(whole.main.warnings, [], logOf(whole.main));
  assert.match(whole.main.summary, /decoded as it streamed in/);
  assert.equal(whole.requests.length, 1, 'one request, answered whole');

  // Every try of the first range cut: the stream gives up and restoreCache downloads the entry.
  const failed = await restoreWith('every try cut', { cutDownloads: { afterBytes: 200 * 1024, times: 3 } });
  assert.equal(failed.main.warnings.length, 1, logOf(failed.main));
  assert.match(failed.main.warnings[0], /streaming the Actions cache entry for broken-stream failed \(the download of bytes 0- stopped after \d+ bytes: the connection broke \(aborted\)\); restoring it through the cache client instead/);
  assert.match(failed.main.summary, /decoded while it downloaded/, logOf(failed.main));
});

test('a corrupted cache entry is detected, not used, and the base is made from its source', async () => {
  const a = newRunner();
  const mainA = await runStep(a, 'main', { inputs: baseInputs(a, { key: 'corrupted-entry' }) });
  assert.equal(mainA.code, 0, logOf(mainA));
  assert.equal((await runStep(a, 'post', { state: mainA.state })).code, 0);
  await service.corrupt(cacheKeyFor('corrupted-entry'));
  const b = newRunner();
  const mainB = await runStep(b, 'main', { inputs: baseInputs(b, { key: 'corrupted-entry' }) });
  assert.equal(mainB.code, 0, logOf(mainB));
  assert.equal(mainB.outputs['cache-hit'], 'miss', logOf(mainB));
  // Caught as the entry streams in: refused there, and not downloaded again through the client.
  assert.equal(mainB.warnings.length, 1, logOf(mainB));
  assert.match(mainB.warnings[0], /the Actions cache entry for corrupted-entry was not used/);
  assert.equal(await sha256File(mainB.outputs['base-image']), await sha256File(raw));
  assert.deepEqual(leftovers(b), []);
});

test('the cache service down, failing with 500s, refusing a save (409) or stalling a download: warnings, a correct base, never a failed job', async () => {
  const check = async (label: string, prepare: () => Promise<void> | void, restore: () => Promise<void> | void, key: string, env: NodeJS.ProcessEnv = {}) => {
    const r = newRunner();
    await prepare();
    try {
      const main = await runStep(r, 'main', { inputs: baseInputs(r, { key }), env });
      assert.equal(main.code, 0, `${label}: ${logOf(main)}`);
      assert.notEqual(main.outputs['cache-hit'], 'l2', label);
      assert.equal(await sha256File(main.outputs['base-image']), await sha256File(raw), label);
      const post = await runStep(r, 'post', { state: main.state, env });
      assert.equal(post.code, 0, `${label}: ${logOf(post)}`);
      assert.deepEqual(leftovers(r), [], label);
      return { main, post };
    } finally {
      await restore();
    }
  };
  const down = await check('service down', () => service.pause(), () => service.resume(), 'svc-down');
  assert.ok(down.post.warnings.some((w) => /not saved to the Actions cache/.test(w)), logOf(down.post));

  const failing = await check('500s', () => void (service.faults.twirp = { code: 'internal' }), () => void (service.faults.twirp = undefined), 'svc-500');
  assert.ok(failing.post.warnings.some((w) => /not saved to the Actions cache/.test(w)), logOf(failing.post));

  // Another job saved the key first: this job's save is refused (409), which is one warning.
  const refused = await check('409 on save', () => void (service.faults.twirp = { code: 'already_exists', method: 'CreateCacheEntry' }), () => void (service.faults.twirp = undefined), 'svc-409');
  assert.equal(refused.post.warnings.filter((w) => /not saved to the Actions cache/.test(w)).length, 1, logOf(refused.post));

  // A download that stalls: the client's segment timeout ends it, and the base is made from source.
  const saver = newRunner();
  const s = await runStep(saver, 'main', { inputs: baseInputs(saver, { key: 'svc-hang' }) });
  assert.equal((await runStep(saver, 'post', { state: s.state })).code, 0);
  const hung = await check('stalled download', () => void (service.faults.hangDownloads = true), () => void (service.faults.hangDownloads = false), 'svc-hang', { SEGMENT_DOWNLOAD_TIMEOUT_MINS: '0.05' });
  assert.equal(hung.main.outputs['cache-hit'], 'miss');
  // The stream's stall ends it first (then the client's own download stalls too).
  assert.ok(hung.main.warnings.some((w) => /streaming the Actions cache entry for svc-hang failed \(the download of bytes 0- stopped after 0 bytes: nothing arrived for 3 s\)/.test(w)), logOf(hung.main));
});

test('remote-cache none never asks the service; a bad input fails the step naming the input', async () => {
  const r = newRunner();
  const before = service.calls.length;
  const main = await runStep(r, 'main', { inputs: baseInputs(r, { 'remote-cache': 'none', key: 'local-only' }) });
  assert.equal(main.code, 0, logOf(main));
  assert.equal(main.outputs['cache-hit'], 'miss');
  assert.equal(main.state['basecow-save-key'], undefined);
  assert.equal(service.calls.length, before);

  const bad = await runStep(r, 'main', { inputs: baseInputs(r, { 'remote-cache': 'sometimes' }) });
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /::error::input 'remote-cache' must be actions or none/);
  const none = await runStep(r, 'main', { inputs: { 'cache-dir': r.cacheDir } });
  assert.equal(none.code, 1);
  assert.match(none.stdout, /give exactly one source: input 'image'/);
});

test('dist/ runs from a bare copy of dist/ and action.yml, with no node_modules or package.json above it', async () => {
  const bare = join(dir, 'bare-action');
  cpSync(join(REPO, 'dist'), join(bare, 'dist'), { recursive: true });
  cpSync(join(REPO, 'action.yml'), join(bare, 'action.yml'));
  const r = newRunner();
  const main = await runStep(r, 'main', { inputs: baseInputs(r, { 'remote-cache': 'none', key: 'bare-copy', vms: '2', 'domain-type': 'qemu' }), distDir: join(bare, 'dist') });
  assert.equal(main.code, 0, logOf(main));
  assert.equal(main.outputs['cache-hit'], 'miss');
  const manifest = main.outputs.manifest;
  assert.ok(existsSync(manifest), 'the testnet was made (the bundled template was found)');
  const post = await runStep(r, 'post', { state: main.state, distDir: join(bare, 'dist') });
  assert.equal(post.code, 0, logOf(post));
  assert.equal(existsSync(manifest), false, 'post tore the testnet down');
});

test("main leases the base for the job; post releases it and keeps the store within cache-budget, sparing other jobs' leased bases", async () => {
  const r = newRunner();
  const leases = (key: string) => {
    const dir = join(r.cacheDir, 'v1', 'leases', key);
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  const job1 = await runStep(r, 'main', { inputs: baseInputs(r, { 'remote-cache': 'none', key: 'job-one', verify: 'always', 'cache-budget': '0' }) });
  assert.equal(job1.code, 0, logOf(job1));
  const job2 = await runStep(r, 'main', { inputs: baseInputs(r, { 'remote-cache': 'none', key: 'job-two' }) });
  assert.equal(job2.code, 0, logOf(job2));
  assert.deepEqual(leases('job-one'), [`${job1.state['basecow-lease-id']}.json`]);
  assert.equal(job1.state['basecow-gc-budget'], '0');

  const post1 = await runStep(r, 'post', { state: job1.state });
  assert.equal(post1.code, 0, logOf(post1));
  assert.deepEqual(post1.warnings, []);
  assert.deepEqual(leases('job-one'), []);
  assert.equal(existsSync(join(r.cacheDir, 'v1', 'bases', 'job-one.img')), false, 'its own base, no longer leased, is over the budget');
  assert.ok(existsSync(join(r.cacheDir, 'v1', 'bases', 'job-two.img')), 'the other job still holds its base');
  assert.match(post1.stdout, /removed job-one .*\n.*1 base\(s\) over it kept \(in use\)/);

  // The default budget (25% of the filesystem) keeps a small base.
  const post2 = await runStep(r, 'post', { state: job2.state });
  assert.equal(post2.code, 0, logOf(post2));
  assert.deepEqual(leases('job-two'), []);
  assert.ok(existsSync(join(r.cacheDir, 'v1', 'bases', 'job-two.img')));

  for (const [inputs, message] of [
    [{ 'cache-budget': 'huge' }, /::error::input 'cache-budget': invalid size "huge"/],
    [{ verify: 'maybe' }, /::error::input 'verify' must be always, changed or never/],
    [{ durability: 'later' }, /::error::input 'durability' must be deferred or before-publish/],
  ] as const) {
    const bad = await runStep(r, 'main', { inputs: baseInputs(r, { 'remote-cache': 'none', key: 'job-two', ...inputs }) });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, message);
  }
  assert.deepEqual(leases('job-two'), [], 'a failed main leaves no lease');
});

test('the overlay sub-action leases the base its testnet uses and gives the lease back in its post', async () => {
  const r = newRunner();
  const leases = () => {
    const dir = join(r.cacheDir, 'v1', 'leases', 'overlaid');
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  };
  const main = await runStep(r, 'main', { inputs: baseInputs(r, { 'remote-cache': 'none', key: 'overlaid' }) });
  assert.equal(main.code, 0, logOf(main));
  const workDir = join(r.workspace, 'net');
  const overlay = await runStep(r, 'overlay-main', { inputs: { key: 'overlaid', 'cache-dir': r.cacheDir, vms: '1', 'work-dir': workDir, 'domain-type': 'qemu' } });
  assert.equal(overlay.code, 0, logOf(overlay));
  const overlayLease = `${overlay.state['basecow-lease-id']}.json`;
  assert.deepEqual(leases(), [`${main.state['basecow-lease-id']}.json`, overlayLease].sort());
  const lease = JSON.parse(readFileSync(join(r.cacheDir, 'v1', 'leases', 'overlaid', overlayLease), 'utf8')) as { workDir: string; jobId: string };
  assert.equal(lease.workDir, workDir);
  assert.equal(lease.jobId, '4242/1/test');

  const overlayPost = await runStep(r, 'overlay-post', { state: overlay.state });
  assert.equal(overlayPost.code, 0, logOf(overlayPost));
  assert.deepEqual(leases(), [`${main.state['basecow-lease-id']}.json`], "main's lease stays until main's post");
  const post = await runStep(r, 'post', { state: main.state });
  assert.equal(post.code, 0, logOf(post));
  assert.deepEqual(leases(), []);
});

test('a cache mode that forbids writes: post makes no entry and saves nothing, quietly; one that forbids reads asks for no entry', async () => {
  const r = newRunner();
  const main = await runStep(r, 'main', { inputs: baseInputs(r, { key: 'read-only-mode' }), env: { ACTIONS_CACHE_MODE: 'read' } });
  assert.equal(main.code, 0, logOf(main));
  assert.equal(main.outputs['cache-hit'], 'miss');
  const post = await runStep(r, 'post', { state: main.state, env: { ACTIONS_CACHE_MODE: 'read' } });
  assert.equal(post.code, 0, logOf(post));
  assert.match(post.stdout, /cache mode \(read\) does not allow saving/);
  assert.doesNotMatch(post.stdout, /entry made/);
  assert.deepEqual(post.warnings, []);
  assert.equal(service.entries.filter((e) => e.key === cacheKeyFor('read-only-mode')).length, 0);

  // And one that forbids reads: an entry in the cache is not asked for, by neither way of restoring.
  const saver = newRunner();
  const saved = await runStep(saver, 'main', { inputs: baseInputs(saver, { key: 'write-only-mode' }) });
  assert.equal((await runStep(saver, 'post', { state: saved.state })).code, 0);
  const lookups = () => service.calls.filter((c) => c.method === 'GetCacheEntryDownloadURL' && c.request.key === cacheKeyFor('write-only-mode')).length;
  const before = lookups();
  const writer = newRunner();
  const written = await runStep(writer, 'main', { inputs: baseInputs(writer, { key: 'write-only-mode' }), env: { ACTIONS_CACHE_MODE: 'write-only' } });
  assert.equal(written.code, 0, logOf(written));
  assert.equal(written.outputs['cache-hit'], 'miss', logOf(written));
  assert.deepEqual(written.warnings, [], logOf(written));
  assert.equal(lookups(), before, 'no lookup when reads are forbidden');
});
