// `npm run bench`: disk prep for an 8-VM testnet, side by side with the ways it is done without
// basecow, on a generated GuestOS-like image. Every number in one table comes from the same run.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { hashFile } from '../src/core/store/source-digest.js';
import { IMAGE_ROOT, WORK, basecow, benchImage, median, q, rounds, settle as settleOn, sh } from './harness.js';
import { action } from './action.js';
import { parallel } from './parallel.js';
import { shapes } from './shapes.js';

const VMS = 8;
const REPEAT = rounds('BASECOW_BENCH_REPEAT', 3);
/** The image the testnet and extraction sections use: the 'many' shape, this bench's image from the start. */
const IMAGE_DIR = join(IMAGE_ROOT, 'many');

interface Sample {
  wall: number;
  cpu: number;
  disk: number;
}

async function du(...paths: string[]): Promise<number> {
  // `du` without paths would measure the current directory.
  if (paths.length === 0) return 0;
  const { stdout } = await sh(`sync; du -s -B1 -c ${paths.map((p) => `'${p}'`).join(' ')} | tail -1 | cut -f1`);
  return Number(stdout.trim());
}

const settle = (): Promise<void> => settleOn([imgZst, tarZst]);

const imgZst = join(IMAGE_DIR, 'disk.img.zst');
const tarZst = join(IMAGE_DIR, 'disk.tar.zst');
const overlaysFor = (dir: string, base: string): string =>
  Array.from({ length: VMS }, (_, i) => `qemu-img create -q -f qcow2 -F raw -b ${q(base)} ${q(join(dir, `vm${i + 1}.qcow2`))}`).join('\n');

interface Scenario {
  id: string;
  label: string;
  /** Set-up that is not timed (a cold or warm store). */
  setup?: (dir: string) => Promise<void>;
  run: (dir: string) => string;
  /** What counts as this scenario's disk use. */
  disk: (dir: string) => string[];
  /** Reads what a run reported about itself, before its directory is removed. */
  after?: (dir: string) => void;
}

const scenarios: Scenario[] = [
  {
    id: 'a',
    label: `each VM decompresses its own copy (${VMS} x zstd -d, in parallel)`,
    run: (dir) => `${Array.from({ length: VMS }, (_, i) => `zstd -q -d -f ${q(imgZst)} -o ${q(join(dir, `vm${i + 1}.img`))} &`).join('\n')}\nwait`,
    disk: (dir) => [dir],
  },
  {
    id: 'b',
    label: `decompress once + ${VMS} x cp --reflink=auto`,
    run: (dir) => `zstd -q -d -f ${q(imgZst)} -o ${q(join(dir, 'base.img'))}\n${Array.from({ length: VMS }, (_, i) => `cp --reflink=auto --sparse=always ${q(join(dir, 'base.img'))} ${q(join(dir, `vm${i + 1}.img`))}`).join('\n')}`,
    disk: (dir) => [dir],
  },
  {
    id: 'c',
    label: `tar -xf once + ${VMS} x qemu-img create (reference design)`,
    run: (dir) => `tar -xf ${q(tarZst)} -C ${q(dir)}\n${overlaysFor(dir, join(dir, 'disk.img'))}`,
    disk: (dir) => [dir],
  },
  {
    id: 'd',
    label: `basecow up, cold store (.tar.zst)`,
    run: (dir) => `${basecow} up --image ${q(tarZst)} --vms ${VMS} --cache-dir ${q(join(dir, 'cache'))} --work-dir ${q(join(dir, 'work'))} --domain-type qemu > /dev/null`,
    disk: (dir) => [dir],
  },
  {
    id: 'd2',
    label: `basecow up, cold store (.img.zst)`,
    run: (dir) => `${basecow} up --image ${q(imgZst)} --vms ${VMS} --cache-dir ${q(join(dir, 'cache'))} --work-dir ${q(join(dir, 'work'))} --domain-type qemu > /dev/null`,
    disk: (dir) => [dir],
  },
  {
    id: 'e',
    label: `basecow up, warm store (L1 hit, digest memo)`,
    setup: async (dir) => {
      await sh(`${basecow} prepare --image ${q(tarZst)} --cache-dir ${q(join(dir, 'cache'))} > /dev/null`);
    },
    run: (dir) => `${basecow} up --image ${q(tarZst)} --vms ${VMS} --cache-dir ${q(join(dir, 'cache'))} --work-dir ${q(join(dir, 'work'))} --domain-type qemu > /dev/null`,
    disk: (dir) => [dir],
  },
];

async function runOnce(scenario: Scenario, round: number): Promise<Sample> {
  const dir = join(WORK, `${scenario.id}-${round}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await scenario.setup?.(dir);
  await settle();
  const { wall, cpu } = await sh(scenario.run(dir));
  const sample = { wall, cpu, disk: await du(...scenario.disk(dir)) };
  scenario.after?.(dir);
  rmSync(dir, { recursive: true, force: true });
  return sample;
}

const medianSample = (samples: Sample[]): Sample => ({
  wall: median(samples.map((s) => s.wall)),
  cpu: median(samples.map((s) => s.cpu)),
  disk: median(samples.map((s) => s.disk)),
});

async function measure(scenario: Scenario): Promise<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < REPEAT; i++) samples.push(await runOnce(scenario, i));
  return medianSample(samples);
}

/**
 * Runs the scenarios round-robin, so that the machine's drift (this one's speed swings by a fifth
 * from minute to minute) lands on all of them alike, and ratios can be taken within a round.
 */
async function measureInterleaved(list: Scenario[], rounds: number): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(list.map((scenario) => [scenario.id, []]));
  for (let round = 0; round < rounds; round++) {
    for (const scenario of list) samples.get(scenario.id)!.push(await runOnce(scenario, round));
  }
  return samples;
}

/** .img.zst to one raw disk: basecow's extraction against zstd itself, round by round. */
async function extractionAlone(allocatedBytes: number): Promise<void> {
  const extractRounds = rounds('BASECOW_BENCH_EXTRACT_ROUNDS', 7);
  const dataMiB = Math.ceil(allocatedBytes / 2 ** 20);
  console.log(`\nextraction alone (one disk, no overlays; ${extractRounds} interleaved rounds):`);
  const extractSteps: number[] = [];
  const list: Scenario[] = [
    { id: 'decode', label: 'zstd -d -c > /dev/null (decoding only: the floor)', run: () => `zstd -q -d -c ${q(imgZst)} > /dev/null`, disk: () => [] },
    // On a runner with few cores, a decoder slows down when the other cores are busy (shared caches,
    // or vCPUs that are siblings on the host). Both zstd's writer thread and basecow's writing take
    // CPU beside the decoder; this shows how much that alone can cost (its cpu counts the loop too).
    {
      id: 'decode-busy',
      label: 'zstd -d -c > /dev/null beside a busy loop',
      run: () => `( while :; do :; done ) & spin=$!\nzstd -q -d -c ${q(imgZst)} > /dev/null\nkill $spin; wait $spin || true`,
      disk: () => [],
    },
    { id: 'zstd', label: 'zstd -d -o', run: (dir) => `zstd -q -d -f ${q(imgZst)} -o ${q(join(dir, 'x.img'))}`, disk: (dir) => [dir] },
    // A durable extraction must get the base's data onto the device: how long the disk takes for it
    // with 1 MiB direct requests one at a time, as basecow writes them.
    {
      id: 'device',
      label: `dd ${dataMiB} MiB O_DIRECT, 1 MiB requests (the disk's pace)`,
      run: (dir) => `dd if=/dev/zero of=${q(join(dir, 'x.img'))} bs=1M count=${dataMiB} oflag=direct conv=fsync status=none`,
      disk: (dir) => [dir],
    },
    // zstd with the durability of `--durability before-publish` (the base on the disk before it is published).
    { id: 'zstd-sync', label: 'zstd -d -o; sync file', run: (dir) => `zstd -q -d -f ${q(imgZst)} -o ${q(join(dir, 'x.img'))}\nsync ${q(join(dir, 'x.img'))}`, disk: (dir) => [dir] },
    {
      id: 'bc',
      label: 'basecow prepare (caller key: no hashing)',
      run: (dir) => `${basecow} prepare --image ${q(imgZst)} --key bench --cache-dir ${q(join(dir, 'cache'))} --json > ${q(join(dir, 'prepare.json'))}`,
      disk: (dir) => [join(dir, 'cache')],
      after: (dir) => extractSteps.push(JSON.parse(readFileSync(join(dir, 'prepare.json'), 'utf8')).timings.extractSeconds),
    },
    {
      id: 'bc-durable',
      label: 'basecow prepare --durability before-publish',
      run: (dir) => `${basecow} prepare --image ${q(imgZst)} --key bench --durability before-publish --cache-dir ${q(join(dir, 'cache'))} --json > /dev/null`,
      disk: (dir) => [join(dir, 'cache')],
    },
  ];
  const samples = await measureInterleaved(list, extractRounds);
  for (const scenario of list) {
    const m = medianSample(samples.get(scenario.id)!);
    console.log(`  ${scenario.label.padEnd(48)} wall ${m.wall.toFixed(2)} s  cpu ${m.cpu.toFixed(2)} s  disk ${gib(m.disk)}`);
  }
  console.log(`  ${'basecow extraction step'.padEnd(48)} wall ${median(extractSteps).toFixed(2)} s  (timings.extractSeconds: worker start, decoding, writes, publish)`);
  const zstd = samples.get('zstd')!.map((s) => s.wall);
  const spread = (values: number[]): string => {
    const sorted = [...values].sort((a, b) => a - b);
    return `median ${median(values).toFixed(3)}x (per round ${sorted.map((v) => v.toFixed(2)).join(', ')})`;
  };
  const perRound = (values: number[], against: number[]): number[] => values.map((v, i) => v / against[i]);
  console.log(`  ratio basecow process / zstd -d:          ${spread(perRound(samples.get('bc')!.map((s) => s.wall), zstd))}`);
  console.log(`  ratio basecow extraction step / zstd -d:  ${spread(perRound(extractSteps, zstd))}`);
  const durable = samples.get('bc-durable')!.map((s) => s.wall);
  console.log(`  ratio before-publish / zstd -d + sync:    ${spread(perRound(durable, samples.get('zstd-sync')!.map((s) => s.wall)))}`);
  console.log(`  ratio basecow (deferred) / before-publish: ${spread(perRound(samples.get('bc')!.map((s) => s.wall), durable))}`);
  // A reference for a durable extraction: the slower of decoding and the disk's pace, per round.
  const reference = samples.get('decode')!.map((s, i) => Math.max(s.wall, samples.get('device')![i].wall));
  console.log(`  ratio zstd -d -o / reference:             ${spread(perRound(zstd, reference))}   (reference: the slower of decoding and the disk's pace, per round)`);
  console.log(`  ratio before-publish / reference:         ${spread(perRound(durable, reference))}`);
  const decodeBusy = perRound(samples.get('decode-busy')!.map((s) => s.wall), samples.get('decode')!.map((s) => s.wall));
  console.log(`  decoding with another core busy / alone:  ${spread(decodeBusy)}   (${availableParallelism()} cores)`);
  const { wall: nodeStart } = await sh(`${q(process.execPath)} -e 0`);
  const extraCa = process.env.NODE_EXTRA_CA_CERTS ? ` with NODE_EXTRA_CA_CERTS set, which Node parses at start-up; without it ${(await sh(`env -u NODE_EXTRA_CA_CERTS ${q(process.execPath)} -e 0`)).wall.toFixed(3)} s` : '';
  console.log(`  bare node start ${nodeStart.toFixed(3)} s${extraCa}`);
}

const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(3)}x`;

/** The 8-VM testnet against the ways it is done without basecow, extraction alone, hashing, overlays. */
async function testnet(): Promise<void> {
  await benchImage('many');
  const info = JSON.parse(readFileSync(join(IMAGE_DIR, 'info.json'), 'utf8'));
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  console.log(`\n8-VM testnet (shape 'many'): image ${JSON.stringify(info)}`);
  console.log(`median of ${REPEAT} runs each; CPU = user+sys of all processes; disk = du of everything the scenario wrote\n`);

  const results = new Map<string, Sample>();
  for (const scenario of scenarios) {
    results.set(scenario.id, await measure(scenario));
    const r = results.get(scenario.id)!;
    console.log(`(${scenario.id}) ${scenario.label.padEnd(66)} wall ${r.wall.toFixed(2)} s  cpu ${r.cpu.toFixed(2)} s  disk ${gib(r.disk)}`);
  }
  const c = results.get('c')!;
  const baseAllocated = Number(info.disk.allocated_bytes);
  console.log('\nratios against (c), the reference design (disk also against one base\'s allocation):');
  for (const scenario of scenarios) {
    const r = results.get(scenario.id)!;
    console.log(`  (${scenario.id}) wall ${ratio(r.wall, c.wall)}  cpu ${ratio(r.cpu, c.cpu)}  disk ${ratio(r.disk, c.disk)} (${ratio(r.disk, baseAllocated)} of one base)`);
  }

  await extractionAlone(baseAllocated);

  console.log('\nsource hashing (sha256 of the .img.zst):');
  const hashRuns: number[] = [];
  await settle();
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    await hashFile(imgZst);
    hashRuns.push((performance.now() - t) / 1000);
  }
  const memoDir = join(WORK, 'memo');
  await sh(`${basecow} prepare --image ${q(imgZst)} --cache-dir ${q(memoDir)} > /dev/null`);
  const memo = JSON.parse((await sh(`${basecow} prepare --image ${q(imgZst)} --cache-dir ${q(memoDir)} --json`)).stdout);
  console.log(`  ${gib(info.archives["disk.img.zst"].bytes)} hashed in ${median(hashRuns).toFixed(3)} s (median); repeated run via memo: ${memo.timings.hashSeconds.toFixed(4)} s (memoized: ${memo.keyMemoized})`);

  console.log('\noverlay creation, warm base:');
  for (const count of [8, 64]) {
    const dir = join(WORK, `overlays-${count}`);
    const runs: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      rmSync(join(dir, 'work'), { recursive: true, force: true });
      const { wall } = await sh(`${basecow} up --image ${q(imgZst)} --vms ${count} --cache-dir ${q(memoDir)} --work-dir ${q(join(dir, 'work'))} --domain-type qemu > /dev/null`);
      runs.push(wall);
    }
    const { wall: nodeStart } = await sh(`${q(process.execPath)} -e 0`);
    const m = median(runs);
    console.log(`  up --vms ${String(count).padEnd(3)} end to end ${m.toFixed(3)} s (process start included; bare node start ${nodeStart.toFixed(3)} s) = ${((1000 * m) / count).toFixed(1)} ms per VM amortised`);
  }

  rmSync(WORK, { recursive: true, force: true });
}

/** Write-heavy 4 KiB workload on a fresh overlay: what the overlay's default options are chosen by. */
async function qcow2Options(): Promise<void> {
  await benchImage('many');
  const cacheDir = join(WORK, 'qcow2-store');
  console.log('\nqcow2 overlay options (qemu-img bench: 40000 x 4 KiB writes, stride 20 KiB, queue depth 8, flush every 32, O_DIRECT):');
  const { stdout } = await sh(`${basecow} prepare --image ${q(imgZst)} --cache-dir ${q(cacheDir)} --json`);
  const base = JSON.parse(stdout).base as string;
  const options = ['', 'lazy_refcounts=on', 'extended_l2=on,cluster_size=128k', 'extended_l2=on,cluster_size=128k,lazy_refcounts=on'];
  const overlay = join(WORK, 'bench.qcow2');
  for (const opts of options) {
    const runs: number[] = [];
    let size = 0;
    for (let i = 0; i < REPEAT; i++) {
      rmSync(overlay, { force: true });
      await sh(`qemu-img create -q -f qcow2 -F raw -b ${q(base)} ${opts ? `-o ${opts}` : ''} ${q(overlay)}`);
      const { wall } = await sh(`qemu-img bench -w -c 40000 -d 8 -s 4k -S 20k -t none --flush-interval=32 ${q(overlay)} > /dev/null`);
      runs.push(wall);
      size = await du(overlay);
    }
    console.log(`  ${(opts || 'defaults').padEnd(52)} ${median(runs).toFixed(2)} s  overlay grew to ${(size / 1024 ** 2).toFixed(0)} MiB`);
  }
  rmSync(WORK, { recursive: true, force: true });
}

/** Sections in the order a full run takes them; `npm run bench -- l2 parallel` runs those alone. */
const SECTIONS: Record<string, () => Promise<void>> = {
  l2: action,
  parallel,
  shapes,
  testnet,
  qcow2: qcow2Options,
};
const ALIASES: Record<string, string> = { action: 'l2', decode: 'parallel' };

async function main(): Promise<void> {
  const asked = process.argv.slice(2).map((name) => ALIASES[name] ?? name);
  for (const name of asked) if (!(name in SECTIONS)) throw new Error(`unknown section '${name}' (sections: ${Object.keys(SECTIONS).join(', ')}; none runs them all)`);
  const chosen = asked.length > 0 ? asked : Object.keys(SECTIONS);
  const started = performance.now();
  console.log(`sections: ${chosen.join(', ')}; ${availableParallelism()} cores; ${new Date().toISOString()}`);
  for (const name of chosen) {
    const sectionStarted = performance.now();
    mkdirSync(WORK, { recursive: true });
    await SECTIONS[name]();
    console.log(`[section ${name}: ${((performance.now() - sectionStarted) / 1000).toFixed(0)} s]`);
  }
  console.log(`[all: ${((performance.now() - started) / 1000).toFixed(0)} s]`);
}

await main();
