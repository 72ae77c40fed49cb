// `npm run bench`: disk prep for an 8-VM testnet, side by side with the ways it is done without
// basecow, on a generated GuestOS-like image. Every number in one table comes from the same run.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashFile } from '../src/core/key.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO, 'bin/basecow.js');
const IMAGE_DIR = process.env.BASECOW_BENCH_IMAGE_DIR ?? join(REPO, '.basecow/bench-image');
const WORK = process.env.BASECOW_BENCH_WORK_DIR ?? join(REPO, '.basecow/bench-work');
const VMS = 8;
const REPEAT = Number(process.env.BASECOW_BENCH_REPEAT ?? 3);

interface Sample {
  wall: number;
  cpu: number;
  disk: number;
}

/** Runs a bash snippet; `times` at the end reports the CPU its children used. */
function sh(script: string): Promise<{ wall: number; cpu: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', ['-c', `set -euo pipefail\n${script}\ntimes >&3`], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
    let stdout = '';
    let times = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (times += d.toString()));
    child.on('close', (code) => {
      const wall = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`benchmark step failed (${code}):\n${script}`));
      const [, children = ''] = times.trim().split('\n');
      const cpu = children
        .trim()
        .split(/\s+/)
        .map((t) => {
          const m = /(\d+)m([\d.]+)s/.exec(t);
          return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
        })
        .reduce((a, b) => a + b, 0);
      resolve({ wall, cpu, stdout });
    });
  });
}

async function du(...paths: string[]): Promise<number> {
  const { stdout } = await sh(`sync; du -s -B1 -c ${paths.map((p) => `'${p}'`).join(' ')} | tail -1 | cut -f1`);
  return Number(stdout.trim());
}

/**
 * Deleting the previous run's gigabytes makes the disk discard and write back in the background,
 * which would slow whichever scenario runs next; let that finish first. The kernel also reclaims
 * page cache that sat unused for a while, so the sources are read in again: every scenario starts
 * from sources in memory, as on a runner that just downloaded them.
 */
async function settle(): Promise<void> {
  await sh(`sync; sleep 1; cat ${q(imgZst)} ${q(tarZst)} > /dev/null`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const q = (p: string): string => `'${p}'`;
const imgZst = join(IMAGE_DIR, 'disk.img.zst');
const tarZst = join(IMAGE_DIR, 'disk.tar.zst');
const basecow = `${q(process.execPath)} ${q(BIN)}`;
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

async function measure(scenario: Scenario): Promise<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const dir = join(WORK, `${scenario.id}-${i}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await scenario.setup?.(dir);
    await settle();
    const { wall, cpu } = await sh(scenario.run(dir));
    samples.push({ wall, cpu, disk: await du(...scenario.disk(dir)) });
    scenario.after?.(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  return { wall: median(samples.map((s) => s.wall)), cpu: median(samples.map((s) => s.cpu)), disk: median(samples.map((s) => s.disk)) };
}

const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(3)}x`;

async function main(): Promise<void> {
  await sh(`${q(join(REPO, 'bench/make-guestos-image.sh'))} ${q(IMAGE_DIR)}`);
  const info = JSON.parse(readFileSync(join(IMAGE_DIR, 'info.json'), 'utf8'));
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  console.log(`image: ${JSON.stringify(info)}`);
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

  console.log('\nextraction alone (one disk, no overlays):');
  const zstdAlone = await measure({ id: 'zstd', label: '', run: (dir) => `zstd -q -d -f ${q(imgZst)} -o ${q(join(dir, 'x.img'))}`, disk: (dir) => [dir] });
  // basecow must fsync before it publishes a base; this is zstd with the same durability.
  const zstdDurable = await measure({ id: 'zstd-sync', label: '', run: (dir) => `zstd -q -d -f ${q(imgZst)} -o ${q(join(dir, 'x.img'))}\nsync ${q(join(dir, 'x.img'))}`, disk: (dir) => [dir] });
  const extractSteps: number[] = [];
  const basecowAlone = await measure({
    id: 'bc',
    label: '',
    run: (dir) => `${basecow} prepare --image ${q(imgZst)} --key bench --cache-dir ${q(join(dir, 'cache'))} --json > ${q(join(dir, 'prepare.json'))}`,
    disk: (dir) => [join(dir, 'cache')],
    after: (dir) => extractSteps.push(JSON.parse(readFileSync(join(dir, 'prepare.json'), 'utf8')).timings.extractSeconds),
  });
  const extractStep = median(extractSteps);
  console.log(`  zstd -d -o              wall ${zstdAlone.wall.toFixed(2)} s  cpu ${zstdAlone.cpu.toFixed(2)} s  disk ${gib(zstdAlone.disk)}`);
  console.log(`  zstd -d -o; sync file   wall ${zstdDurable.wall.toFixed(2)} s  cpu ${zstdDurable.cpu.toFixed(2)} s  disk ${gib(zstdDurable.disk)}`);
  console.log(`  basecow prepare         wall ${basecowAlone.wall.toFixed(2)} s  cpu ${basecowAlone.cpu.toFixed(2)} s  disk ${gib(basecowAlone.disk)}  (caller key: no hashing; process start, fsync and publish included)`);
  console.log(`  basecow extraction step ${extractStep.toFixed(2)} s (timings.extractSeconds: worker start, decompression, writes, fsync, publish; no process start)`);
  console.log(`  ratio basecow / zstd -d: process ${ratio(basecowAlone.wall, zstdAlone.wall)}, extraction step ${ratio(extractStep, zstdAlone.wall)}; / zstd -d + sync: process ${ratio(basecowAlone.wall, zstdDurable.wall)}; disk ${ratio(basecowAlone.disk, zstdAlone.disk)}`);

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

  await qcow2Options(memoDir);
  rmSync(WORK, { recursive: true, force: true });
}

/** Write-heavy 4 KiB workload on a fresh overlay: what the overlay's default options are chosen by. */
async function qcow2Options(cacheDir: string): Promise<void> {
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
  rmSync(overlay, { force: true });
}

await main();
