// Issue 11, the GitHub Action on the bench image: `node dist/main.js` and `node dist/post.js` run
// as the runner runs them (a process each, INPUT_* variables, the runner's command files), against
// the local Actions cache service of the tests (twirp in this process). Its blobs are kept by the
// file blob store (test/support/file-blob-store.ts), which serves them itself, from files, for
// next to no CPU: on GitHub the storage runs on other machines, and none of its work lands on the
// runner's two cores. The same restore from Azurite, which the tests use and which takes seconds
// of CPU per restore on those two cores, is timed beside it, with Azurite's CPU. Per round: runner
// A misses and its post makes and saves the entry (the first rounds only; round 0 also fills
// Azurite the same way); then `zstd -d -o` of the same `.img.zst`, a fresh runner B's main
// restoring from the cache (l2), B's main again (l1), fresh runners restoring with the key given
// (`url` + `sha256`, so nothing is hashed; also with `durability: before-publish`), through
// restoreCache instead of the stream (BASECOW_ACTIONS_CACHE_RESTORE=client: the archive file, the
// client's tar), with one decoding thread, over a paced link and from Azurite, and the bare
// client's restore; beside them, the floors under any L2 hit here (the same image decoded by Node
// with its output dropped, and the base's data written directly at the disk's pace). A second
// image shape ('few': a few large data regions) gets its own `zstd -d -o` and key-given L2 hit in
// every round. Interleaved rounds; ratios are taken within a round.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheKeyFor, entryRelativePath } from '../src/action/actions-cache.js';
import { runCacheClient, startCacheService, type CacheService } from '../test/support/actions-cache-service.js';
import { parseCommandFile } from '../test/support/workflow-runner.js';
import { DECODE_FLOOR, IMAGE_ROOT, REPO, WORK, allocatedBytes, benchImage, dataRegionBytes, median, perRound, q, readRssKiB, rounds, settle, sh, spread, timeRss } from './harness.js';

interface Runner {
  root: string;
  workspace: string;
  temp: string;
  store: string;
}

interface Step {
  wall: number;
  rssMiB: number;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  log: string;
}

function newRunner(name: string): Runner {
  const root = join(WORK, 'l2', name);
  rmSync(root, { recursive: true, force: true });
  const runner = { root, workspace: join(root, 'workspace'), temp: join(root, 'temp'), store: join(root, 'store') };
  for (const dir of [runner.workspace, runner.temp, join(root, 'tool-cache')]) mkdirSync(dir, { recursive: true });
  return runner;
}

let steps = 0;
/**
 * One step as the runner runs it (the environment test/support/action-runner.ts gives a step),
 * timed as a whole process from bash, its peak RSS from /usr/bin/time.
 */
async function step(service: CacheService, runner: Runner, entry: 'main' | 'post', options: { inputs?: Record<string, string>; state?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}): Promise<Step> {
  const files = join(runner.root, `step-${++steps}`);
  mkdirSync(files);
  const file = (name: string): string => join(files, name);
  for (const name of ['output', 'state', 'summary', 'env']) writeFileSync(file(name), '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: runner.workspace,
    GITHUB_OUTPUT: file('output'),
    GITHUB_STATE: file('state'),
    GITHUB_STEP_SUMMARY: file('summary'),
    GITHUB_ENV: file('env'),
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'bench',
    GITHUB_ACTION: '__basecow',
    RUNNER_TEMP: runner.temp,
    RUNNER_TOOL_CACHE: join(runner.root, 'tool-cache'),
    ...service.env,
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.inputs ?? {})) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;
  let wall: number;
  try {
    ({ wall } = await sh(`cd ${q(runner.workspace)}\n${timeRss(file('rss'))} ${q(process.execPath)} ${q(join(REPO, 'dist', `${entry}.js`))} > ${q(file('log'))} 2>&1`, { env }));
  } catch (error) {
    throw new Error(`${entry} failed:\n${readFileSync(file('log'), 'utf8')}`, { cause: error });
  }
  return {
    wall,
    rssMiB: readRssKiB(file('rss')) / 1024,
    outputs: parseCommandFile(file('output')),
    state: parseCommandFile(file('state')),
    summary: readFileSync(file('summary'), 'utf8'),
    log: readFileSync(file('log'), 'utf8'),
  };
}

/** A phase's seconds from main's job summary (its phases table). */
function phase(summary: string, name: string): number {
  const match = new RegExp(`<td>${name}</td><td>([\\d.]+)</td>`).exec(summary);
  return match ? Number(match[1]) : 0;
}

function expectHit(step: Step, hit: string): void {
  if (step.outputs['cache-hit'] !== hit) throw new Error(`main: cache-hit ${step.outputs['cache-hit']}, expected ${hit}:\n${step.log}`);
}

/** The paced link's speed: a fast runner network, slower than this machine's cores decode. */
const LINK_RATE = 150e6;

export async function action(): Promise<void> {
  const ROUNDS = rounds('BASECOW_BENCH_L2_ROUNDS', 5);
  /** Post's rounds: each saves one more ~0.4 GiB entry into the file store. */
  const POST_ROUNDS = Math.min(ROUNDS, 3);
  await benchImage('many');
  await benchImage('few');
  const fewImage = join(IMAGE_ROOT, 'few', 'disk.img.zst');
  const imageDir = join(IMAGE_ROOT, 'many');
  const info = JSON.parse(readFileSync(join(imageDir, 'info.json'), 'utf8'));
  const image = join(imageDir, 'disk.img.zst');
  const disk = join(imageDir, 'disk.img');
  console.log(`\nthe GitHub Action (issue 11): shape 'many', ${ROUNDS} interleaved rounds (post: ${POST_ROUNDS}); whole processes (node dist/main.js, dist/post.js) against the local cache service; median (min–max)`);
  const blobLocation = (name: string): string => {
    const location = join(WORK, 'l2', name);
    mkdirSync(location, { recursive: true });
    return location;
  };
  const service = await startCacheService({ blobStore: 'files', blobProxy: 'blob-store', blobLocation: blobLocation('files') });
  let azurite: CacheService | undefined;
  /** The same file store behind a 150 MB/s link: a runner whose download is bound by its network. */
  let linked: CacheService | undefined;
  /**
   * Main on a fresh runner (the `cache-dir` is its own) that must restore from `from`'s cache (l2),
   * with the blob store's CPU during the step.
   */
  const restoreOnFreshRunner = async (from: CacheService, name: string, inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<Step & { storeCpu: number }> => {
    const runner = newRunner(name);
    await settle([image]);
    const cpuBefore = from.blobStoreCpuSeconds();
    const restored = await step(from, runner, 'main', { inputs: { ...inputs, 'cache-dir': runner.store, 'remote-cache': 'actions' }, env });
    const storeCpu = from.blobStoreCpuSeconds() - cpuBefore;
    expectHit(restored, 'l2');
    // A row that fell back (a stream that could not start, say) would time another way than it names.
    if (/::warning::/.test(restored.log)) throw new Error(`main warned on an L2 hit (${name}):\n${restored.log}`);
    if (process.env.BASECOW_BENCH_VERBOSE) console.log(restored.log);
    rmSync(runner.root, { recursive: true, force: true });
    return { ...restored, storeCpu };
  };
  const t = {
    zstd: [] as number[],
    decodeAlone: [] as number[],
    diskWrite: [] as number[],
    compress: [] as number[],
    client: [] as number[],
    l2Rate: [] as number[],
    l2One: [] as number[],
    l2OneExtract: [] as number[],
    miss: [] as number[],
    post: [] as number[],
    make: [] as number[],
    save: [] as number[],
    l2: [] as number[],
    l1: [] as number[],
    l2Hash: [] as number[],
    l2Restore: [] as number[],
    l2Extract: [] as number[],
    l2Rss: [] as number[],
    l2Store: [] as number[],
    l2Url: [] as number[],
    l2UrlRestore: [] as number[],
    l2UrlExtract: [] as number[],
    l2UrlDurable: [] as number[],
    l2UrlDurableRestore: [] as number[],
    l2UrlDurableExtract: [] as number[],
    l2Azurite: [] as number[],
    l2Linked: [] as number[],
    l2LinkedRestore: [] as number[],
    l2LinkedExtract: [] as number[],
    l2AzuriteCpu: [] as number[],
    l2Client: [] as number[],
    l2ClientRestore: [] as number[],
    l2ClientExtract: [] as number[],
    fewZstd: [] as number[],
    fewL2: [] as number[],
    clientStore: [] as number[],
    l1Rss: [] as number[],
    postRss: [] as number[],
    restoredAllocated: [] as number[],
    restoredData: [] as number[],
  };
  let stored = 0;
  let key = '';
  let fewKey = '';
  /** A runner's miss on `source` and its post, saving the entry: returns the key. */
  const saveEntryOf = async (source: string, name: string): Promise<string> => {
    const runner = newRunner(name);
    const missed = await step(service, runner, 'main', { inputs: { image: source, 'cache-dir': runner.store, 'remote-cache': 'actions' } });
    expectHit(missed, 'miss');
    const saved = await step(service, runner, 'post', { state: missed.state });
    if (!/saved as cache entry/.test(saved.log)) throw new Error(`post did not save the entry of ${source}:\n${saved.log}`);
    rmSync(runner.root, { recursive: true, force: true });
    return missed.outputs.key;
  };
  let entryLine = '';
  let missAllocated = 0;
  let missData = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      if (round < POST_ROUNDS) {
        // The first round saves under the image's own key (the default), which runner B then
        // restores; later rounds save the same base under keys of their own, since a key is saved once.
        const a = newRunner(`a${round}`);
        const inputs: Record<string, string> = { image, 'cache-dir': a.store, 'remote-cache': 'actions', ...(round === 0 ? {} : { key: `bench-post-${round}` }) };
        await settle([image]);
        const miss = await step(service, a, 'main', { inputs });
        expectHit(miss, 'miss');
        t.miss.push(miss.wall);
        missAllocated = allocatedBytes(miss.outputs['base-image']);
        missData = dataRegionBytes(miss.outputs['base-image']);
        await settle([image]);
        const post = await step(service, a, 'post', { state: miss.state });
        const made = /entry made: (.+) in (\d+) frames, ([\d.]+) s/.exec(post.log);
        const saved = /saved as cache entry \d+ in ([\d.]+) s/.exec(post.log);
        if (!made || !saved) throw new Error(`post did not make and save the entry:\n${post.log}`);
        if (process.env.BASECOW_BENCH_VERBOSE) console.log(post.log);
        entryLine = `${made[1]} in ${made[2]} frames`;
        t.post.push(post.wall);
        t.postRss.push(post.rssMiB);
        t.make.push(Number(made[3]));
        t.save.push(Number(saved[1]));
        if (round === 0) {
          key = miss.outputs.key;
          stored = service.entries.find((e) => e.finalized && e.key === cacheKeyFor(key))!.sizeBytes!;
          // Azurite gets the same entry the same way: a runner's miss, then its post.
          // Through the service's own proxy, as in the tests: Azurite takes no CONNECT tunnel, which
          // is how @actions/http-client reaches a proxied URL.
          azurite = await startCacheService({ blobStore: 'azurite', blobLocation: blobLocation('azurite') });
          const az = newRunner('a-azurite');
          const azMiss = await step(azurite, az, 'main', { inputs: { image, 'cache-dir': az.store, 'remote-cache': 'actions' } });
          expectHit(azMiss, 'miss');
          const azPost = await step(azurite, az, 'post', { state: azMiss.state });
          if (!/saved as cache entry/.test(azPost.log)) throw new Error(`post did not save the entry into Azurite:\n${azPost.log}`);
          rmSync(az.root, { recursive: true, force: true });
          process.env.BASECOW_TEST_BLOB_RATE = String(LINK_RATE);
          try {
            linked = await startCacheService({ blobStore: 'files', blobProxy: 'blob-store', blobLocation: blobLocation('files-linked') });
          } finally {
            delete process.env.BASECOW_TEST_BLOB_RATE;
          }
          const ln = newRunner('a-linked');
          const lnMiss = await step(linked, ln, 'main', { inputs: { image, 'cache-dir': ln.store, 'remote-cache': 'actions' } });
          expectHit(lnMiss, 'miss');
          const lnPost = await step(linked, ln, 'post', { state: lnMiss.state });
          if (!/saved as cache entry/.test(lnPost.log)) throw new Error(`post did not save the entry behind the link:\n${lnPost.log}`);
          rmSync(ln.root, { recursive: true, force: true });
        }
        rmSync(a.root, { recursive: true, force: true });
        // What post's entry-making stands beside: zstd -3 of the image on every core.
        const compressed = join(WORK, 'l2', 'compressed.zst');
        await settle([image]);
        t.compress.push((await sh(`zstd -q -3 -T0 -f ${q(disk)} -o ${q(compressed)}`)).wall);
        rmSync(compressed, { force: true });
      }
      const ref = join(WORK, 'l2', 'zstd.img');
      await settle([image]);
      t.zstd.push((await sh(`zstd -q -d -f ${q(image)} -o ${q(ref)}`)).wall);
      rmSync(ref, { force: true });
      await settle([image]);
      t.decodeAlone.push((await sh(`${DECODE_FLOOR} ${q(image)}`)).wall);
      // As many bytes as the base holds data, written past the page cache and made durable: what the
      // disk needs for a base, however fast it is decoded (zstd -d -o leaves its writes in the page cache).
      const written = join(WORK, 'l2', 'disk-pace');
      t.diskWrite.push((await sh(`dd if=/dev/zero of=${q(written)} bs=4M count=${Math.ceil(allocatedBytes(disk) / 2 ** 22)} oflag=direct conv=fsync status=none`)).wall);
      rmSync(written, { force: true });

      const b = newRunner(`b${round}`);
      const inputs = { image, 'cache-dir': b.store, 'remote-cache': 'actions' };
      await settle([image]);
      const storeBefore = service.blobStoreCpuSeconds();
      const l2 = await step(service, b, 'main', { inputs });
      t.l2Store.push(service.blobStoreCpuSeconds() - storeBefore);
      expectHit(l2, 'l2');
      if (process.env.BASECOW_BENCH_VERBOSE) console.log(l2.log);
      t.l2.push(l2.wall);
      t.l2Rss.push(l2.rssMiB);
      t.l2Hash.push(phase(l2.summary, 'hash the source'));
      t.l2Restore.push(phase(l2.summary, 'restore from the Actions cache'));
      t.l2Extract.push(phase(l2.summary, 'extract'));
      t.restoredAllocated.push(allocatedBytes(l2.outputs['base-image']));
      t.restoredData.push(dataRegionBytes(l2.outputs['base-image']));
      // The stream's pace: the restore phase is its transfer, from the lookup to the last byte.
      t.l2Rate.push(stored / 1e6 / phase(l2.summary, 'restore from the Actions cache'));
      await settle([image]);
      const l1 = await step(service, b, 'main', { inputs });
      expectHit(l1, 'l1');
      t.l1.push(l1.wall);
      t.l1Rss.push(l1.rssMiB);
      rmSync(b.root, { recursive: true, force: true });

      // The same restore on a runner that never has the image, only its digest: `url` + `sha256`
      // make the same key with nothing to hash, and an L2 hit never downloads (the URL would refuse).
      const l2Url = await restoreOnFreshRunner(service, `url${round}`, { url: 'http://127.0.0.1:9/disk.img.zst', sha256: key.slice('sha256-'.length) });
      t.l2Url.push(l2Url.wall);
      t.l2UrlRestore.push(phase(l2Url.summary, 'restore from the Actions cache'));
      t.l2UrlExtract.push(phase(l2Url.summary, 'extract'));
      // The same, the base on the disk before it is published (durability: before-publish).
      const l2UrlDurable = await restoreOnFreshRunner(service, `url-durable${round}`, { url: 'http://127.0.0.1:9/disk.img.zst', sha256: key.slice('sha256-'.length), durability: 'before-publish' });
      t.l2UrlDurable.push(l2UrlDurable.wall);
      t.l2UrlDurableRestore.push(phase(l2UrlDurable.summary, 'restore from the Actions cache'));
      t.l2UrlDurableExtract.push(phase(l2UrlDurable.summary, 'extract'));

      // The same, key given, through restoreCache instead of the stream (the way of runners the
      // stream does not apply to): the client downloads the archive to RUNNER_TEMP with the Azure
      // SDK and unpacks it with tar, and the entry is decoded from the archive as it lands.
      const l2Client = await restoreOnFreshRunner(service, `client${round}`, { url: 'http://127.0.0.1:9/disk.img.zst', sha256: key.slice('sha256-'.length) }, { BASECOW_ACTIONS_CACHE_RESTORE: 'client' });
      if (!/decoded while it downloaded/.test(l2Client.summary)) throw new Error(`the L2 hit through restoreCache did not follow the archive:\n${l2Client.summary}`);
      t.l2Client.push(l2Client.wall);
      t.l2ClientRestore.push(phase(l2Client.summary, 'restore from the Actions cache'));
      t.l2ClientExtract.push(phase(l2Client.summary, 'extract'));

      // The same restore with one decoding thread (the action's decode-workers input).
      const l2One = await restoreOnFreshRunner(service, `one${round}`, { image, 'decode-workers': '1' });
      t.l2One.push(l2One.wall);
      t.l2OneExtract.push(phase(l2One.summary, 'extract'));

      // The same restore, key given, over a link that bounds the download (150 MB/s): the cores are
      // mostly idle while it lasts, and the entry is decoded meanwhile.
      const l2Linked = await restoreOnFreshRunner(linked!, `linked${round}`, { url: 'http://127.0.0.1:9/disk.img.zst', sha256: key.slice('sha256-'.length) });
      if (!/decoded as it streamed in/.test(l2Linked.summary)) throw new Error(`the L2 hit over the link did not decode as it streamed in:\n${l2Linked.summary}`);
      t.l2Linked.push(l2Linked.wall);
      t.l2LinkedRestore.push(phase(l2Linked.summary, 'restore from the Actions cache'));
      t.l2LinkedExtract.push(phase(l2Linked.summary, 'extract'));

      // The same restore from Azurite (the tests' blob store), on the SDK path: what a stand-in that
      // works on the runner's cores adds (an MD5 of every 4 MiB range it serves, its extent store).
      const l2Azurite = await restoreOnFreshRunner(azurite!, `azurite${round}`, { image });
      t.l2Azurite.push(l2Azurite.wall);
      t.l2AzuriteCpu.push(l2Azurite.storeCpu);

      // The same service's floor: the bare @actions/cache client restoring the same entry in a
      // process of its own (download to RUNNER_TEMP, then tar -x), which any user of the cache pays.
      const c = newRunner(`c${round}`);
      await settle([image]);
      const clientStarted = performance.now();
      const clientStoreBefore = service.blobStoreCpuSeconds();
      const restored = await runCacheClient(service, c.workspace, c.temp, { op: 'restore', paths: [entryRelativePath(key)], key: cacheKeyFor(key) });
      t.client.push((performance.now() - clientStarted) / 1000);
      t.clientStore.push(service.blobStoreCpuSeconds() - clientStoreBefore);
      if (restored.value !== cacheKeyFor(key)) throw new Error(`the bare cache client did not restore ${key}:\n${restored.stdout}\n${restored.stderr}`);
      rmSync(c.root, { recursive: true, force: true });

      // The second shape: its own yardstick and its key-given L2 hit, in the same round.
      if (round === 0) fewKey = await saveEntryOf(fewImage, 'a-few');
      const fewRef = join(WORK, 'l2', 'few-zstd.img');
      await settle([fewImage]);
      t.fewZstd.push((await sh(`zstd -q -d -f ${q(fewImage)} -o ${q(fewRef)}`)).wall);
      rmSync(fewRef, { force: true });
      const fewL2 = await restoreOnFreshRunner(service, `few${round}`, { url: 'http://127.0.0.1:9/disk.img.zst', sha256: fewKey.slice('sha256-'.length) });
      t.fewL2.push(fewL2.wall);
    }
  } finally {
    await service.stop();
    await azurite?.stop();
    await linked?.stop();
    rmSync(join(WORK, 'l2'), { recursive: true, force: true });
  }
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const s = (values: number[]): string => spread(values, 2, ' s');
  const verdict = (value: number, goal: number): string => (value <= goal ? 'met' : 'NOT met');
  const zstdBytes = Number(info.archives['disk.img.zst'].bytes);
  const row = (label: string, values: number[], extra = ''): void => console.log(`  ${label.padEnd(52)} ${s(values)}${extra}`);
  const ratioRow = (label: string, values: number[], goals: [number, string][] = []): void =>
    console.log(`  ${label.padEnd(52)} ${spread(values, 3, 'x')}${goals.map(([goal, issue]) => `  goal <= ${goal}${issue}: ${verdict(median(values), goal)}`).join(';')}`);
  row('zstd -d -o of the .img.zst', t.zstd);
  row('Node decoding alone, one thread, output dropped', t.decodeAlone, '  (bench/decode-floor.ts: the floor under any Node extraction)');
  row("the base's data written directly, with fsync (dd)", t.diskWrite, `  (${mib(allocatedBytes(disk))} of zeros at the disk's pace)`);
  row('main, L2 hit (fresh runner B)', t.l2, `  peak RSS ${spread(t.l2Rss, 0, ' MiB')}`);
  console.log(`    phases (job summary): hash the source ${s(t.l2Hash)}, restore from the cache (the stream's transfer) ${s(t.l2Restore)}, extract (after its last byte) ${s(t.l2Extract)}; download pace ${spread(t.l2Rate, 0, ' MB/s')}; the file store's CPU ${s(t.l2Store)}`);
  row('main, L2 hit, key given (url + sha256)', t.l2Url, `  restore phase ${s(t.l2UrlRestore)}, extract ${s(t.l2UrlExtract)}`);
  row('… the same, durability: before-publish', t.l2UrlDurable, `  restore phase ${s(t.l2UrlDurableRestore)}, extract ${s(t.l2UrlDurableExtract)}`);
  row('main, L2 hit, key given, through restoreCache', t.l2Client, `  restore phase ${s(t.l2ClientRestore)}, extract ${s(t.l2ClientExtract)}  (BASECOW_ACTIONS_CACHE_RESTORE=client)`);
  row('main, L2 hit, decode-workers: 1', t.l2One, `  extract phase ${s(t.l2OneExtract)}`);
  row(`main, L2 hit, key given, over a ${LINK_RATE / 1e6} MB/s link`, t.l2Linked, `  restore phase ${s(t.l2LinkedRestore)}, extract (what is left after it) ${s(t.l2LinkedExtract)}; the download alone takes ${(stored / LINK_RATE).toFixed(2)} s`);
  row('main, L2 hit from Azurite', t.l2Azurite, `  Azurite's CPU meanwhile (user + system, on the same two cores) ${s(t.l2AzuriteCpu)}`);
  row('bare @actions/cache client restore of the entry', t.client, `  (download + tar -x, its own process: the service's floor); the store's CPU ${s(t.clientStore)}`);
  row('main, L1 hit (runner B again)', t.l1, `  peak RSS ${spread(t.l1Rss, 0, ' MiB')}`);
  row('main, miss (runner A: hash + extract)', t.miss);
  row('post, make + save the entry (runner A)', t.post, `  peak RSS ${spread(t.postRss, 0, ' MiB')}`);
  console.log(`    its log: make the entry ${s(t.make)}, save (tar + upload) ${s(t.save)}; entry ${entryLine}`);
  row('zstd -3 -T0 of the raw image (beside post)', t.compress);
  row("shape 'few': zstd -d -o of its .img.zst", t.fewZstd);
  row("shape 'few': main, L2 hit, key given", t.fewL2);
  const both: [number, string][] = [[2.2, ' (11)'], [1.6, ' (14)']];
  ratioRow('L2 hit / zstd -d -o', perRound(t.l2, t.zstd), [[2.2, ' (issue 11)'], [1.6, ' (issue 14)']]);
  ratioRow('L2 hit, key given (url + sha256) / zstd -d -o', perRound(t.l2Url, t.zstd), both);
  ratioRow('… the same, durability: before-publish / zstd -d -o', perRound(t.l2UrlDurable, t.zstd), both);
  ratioRow("shape 'few': L2 hit, key given / zstd -d -o", perRound(t.fewL2, t.fewZstd), both);
  ratioRow('L2 hit, key given, through restoreCache / zstd -d -o', perRound(t.l2Client, t.zstd), both);
  // The same step, the blobs served by an emulator that works on the runner's two cores.
  ratioRow('L2 hit from Azurite / zstd -d -o', perRound(t.l2Azurite, t.zstd), both);
  // The whole step: a streamed hit's extract phase is only what is left after the last byte.
  ratioRow('L2 hit, 2 decoding threads / 1 (whole step)', perRound(t.l2, t.l2One));
  ratioRow('L2 hit / (bare client restore + zstd -d -o)', t.l2.map((v, i) => v / (t.client[i] + t.zstd[i])));
  // What the client alone takes before its caller gets a byte (it returns only once the whole
  // archive is down and unpacked): the floor of any restore through restoreCache.
  ratioRow('bare client restore alone / zstd -d -o', perRound(t.client, t.zstd));
  // The least a streamed hit can take: decoding the base on both cores (bench/decode-floor.ts
  // halved: a perfect split, its start-up halved too), or, when the base must be on the disk before
  // it is published, the slower of that and writing its data durably. Through restoreCache: the
  // restore phase it had, then that decoding.
  ratioRow('streamed, floor: decode / 2', t.decodeAlone.map((v, i) => v / 2 / t.zstd[i]), both);
  ratioRow('before-publish, floor: max(decode / 2, disk)', t.decodeAlone.map((v, i) => Math.max(v / 2, t.diskWrite[i]) / t.zstd[i]), both);
  ratioRow('through restoreCache, floor: restore + decode / 2', t.l2ClientRestore.map((v, i) => (v + t.decodeAlone[i] / 2) / t.zstd[i]), both);
  ratioRow('miss / zstd -d -o', perRound(t.miss, t.zstd.slice(0, POST_ROUNDS)));
  ratioRow('post / zstd -3 -T0 of the raw image', perRound(t.post, t.compress));
  ratioRow('post\'s entry making / zstd -3 -T0', perRound(t.make, t.compress));
  console.log(`  ${'L1 hit, whole process'.padEnd(52)} ${median(t.l1).toFixed(3)} s  goal <= 0.3 s: ${verdict(median(t.l1), 0.3)}`);
  console.log(`  stored cache archive ${mib(stored)} / single-frame zstd -3 .img.zst ${mib(zstdBytes)} = ${(stored / zstdBytes).toFixed(3)}x  goal <= 1.10: ${verdict(stored / zstdBytes, 1.1)}`);
  const original = allocatedBytes(disk);
  const restored = Math.max(...t.restoredAllocated);
  // Judged on data regions: allocated bytes also count extent-tree blocks, which differ with how
  // many extents the writes made (two threads writing directly make more than one stream through
  // the page cache).
  const restoredData = Math.max(...t.restoredData);
  const originalData = dataRegionBytes(disk);
  console.log(`  allocated: restored base (largest of the rounds) ${mib(restored)}, runner A's base ${mib(missAllocated)}, the image's disk.img ${mib(original)}; data regions ${mib(restoredData)}, ${mib(missData)}, ${mib(originalData)}: ${restoredData <= Math.min(missData, originalData) ? 'no hole materialized' : 'HOLES FILLED on restore'}`);
}
