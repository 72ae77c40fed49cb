// The seed's own format on every image shape: basecow's `prepare` of GNU-sparse and PAX-sparse
// `.tar.zst` and of `.img.zst`, against GNU tar, zstd and the decoding floor, and the cold 8-VM
// `up` against the seed design, with prepare's peak RSS. Interleaved rounds; ratios are taken
// within each round and their medians reported.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DECODE_FLOOR, WORK, basecow, benchImage, median, q, rounds, settle, sh } from './harness.js';

const SHAPES = ['few', 'many', 'members'] as const;
const ROUNDS = rounds('BASECOW_BENCH_SHAPE_ROUNDS', 5);
const VMS = 8;

interface Run {
  id: string;
  label: string;
  script: (dir: string) => string;
}

/** prepare with a caller key (no hashing), its peak RSS recorded by /usr/bin/time into rss.txt. */
const prepare = (source: string) => (dir: string): string =>
  `/usr/bin/time -f %M -o ${q(join(dir, 'rss.txt'))} ${basecow} prepare --image ${q(source)} --key bench --cache-dir ${q(join(dir, 'cache'))} > /dev/null`;

function runsFor(image: string): Run[] {
  const gnu = join(image, 'disk.tar.zst');
  const pax = join(image, 'disk.pax.tar.zst');
  const img = join(image, 'disk.img.zst');
  const overlays = (dir: string): string =>
    Array.from({ length: VMS }, (_, i) => `qemu-img create -q -f qcow2 -F raw -b ${q(join(dir, 'disk.img'))} ${q(join(dir, `vm${i + 1}.qcow2`))}`).join('\n');
  return [
    { id: 'tar-gnu', label: 'tar -xf (GNU sparse .tar.zst)', script: (dir) => `tar -xf ${q(gnu)} -C ${q(dir)}` },
    { id: 'tar-pax', label: 'tar -xf (PAX sparse .tar.zst)', script: (dir) => `tar -xf ${q(pax)} -C ${q(dir)}` },
    { id: 'zstd', label: 'zstd -d -o (.img.zst)', script: (dir) => `zstd -q -d -f ${q(img)} -o ${q(join(dir, 'x.img'))}` },
    { id: 'floor-tar', label: 'zstd -dc > /dev/null (.tar.zst, GNU)', script: () => `zstd -q -d -c ${q(gnu)} > /dev/null` },
    { id: 'floor-img', label: 'zstd -dc > /dev/null (.img.zst)', script: () => `zstd -q -d -c ${q(img)} > /dev/null` },
    { id: 'node-tar', label: 'Node decoding alone (.tar.zst, GNU)', script: () => `${DECODE_FLOOR} ${q(gnu)}` },
    { id: 'node-img', label: 'Node decoding alone (.img.zst)', script: () => `${DECODE_FLOOR} ${q(img)}` },
    { id: 'bc-gnu', label: 'basecow prepare --key (GNU sparse .tar.zst)', script: prepare(gnu) },
    { id: 'bc-pax', label: 'basecow prepare --key (PAX sparse .tar.zst)', script: prepare(pax) },
    { id: 'bc-img', label: 'basecow prepare --key (.img.zst)', script: prepare(img) },
    {
      id: 'up',
      label: `basecow up --vms ${VMS}, cold store (GNU .tar.zst)`,
      script: (dir) => `${basecow} up --image ${q(gnu)} --vms ${VMS} --cache-dir ${q(join(dir, 'cache'))} --work-dir ${q(join(dir, 'work'))} --domain-type qemu > /dev/null`,
    },
    { id: 'seed', label: `tar -xf + ${VMS} x qemu-img create (seed design)`, script: (dir) => `tar -xf ${q(gnu)} -C ${q(dir)}\n${overlays(dir)}` },
  ];
}

/** The ratios the issue's goals are stated in: [label, numerator, denominator, goal]. */
const RATIOS: [string, string, string, string][] = [
  ['prepare GNU .tar.zst / tar -xf', 'bc-gnu', 'tar-gnu', '<= 0.9'],
  ['prepare PAX .tar.zst / tar -xf', 'bc-pax', 'tar-pax', '<= 0.9'],
  ['prepare .img.zst / zstd -d -o', 'bc-img', 'zstd', '<= 1.0'],
  [`cold up --vms ${VMS} / seed design`, 'up', 'seed', '<= 0.6'],
  ['prepare GNU .tar.zst / its decoding floor', 'bc-gnu', 'floor-tar', ''],
  ['prepare PAX .tar.zst / GNU .tar.zst floor', 'bc-pax', 'floor-tar', ''],
  ['prepare .img.zst / its decoding floor', 'bc-img', 'floor-img', ''],
  ['tar -xf / decoding floor', 'tar-gnu', 'floor-tar', ''],
];

/**
 * How low a Node process can go before it writes a byte (bench/decode-floor.ts), against the same
 * yardsticks: [label, numerator, denominator, the goal it lies under]. Where one is above its goal,
 * no extraction in Node meets that goal on this machine.
 */
const FLOORS: [string, string, string, string][] = [
  ['Node decoding alone .img.zst / zstd -d -o', 'node-img', 'zstd', 'prepare .img.zst <= 1.0'],
  ['Node decoding alone .tar.zst / tar -xf', 'node-tar', 'tar-gnu', 'prepare .tar.zst <= 0.9'],
  ['Node decoding alone .tar.zst / seed design', 'node-tar', 'seed', 'cold up <= 0.6'],
];

async function shape(name: (typeof SHAPES)[number]): Promise<void> {
  const image = await benchImage(name);
  const info = JSON.parse(readFileSync(join(image, 'info.json'), 'utf8'));
  const gib = (bytes: number): string => (bytes / 1024 ** 3).toFixed(2);
  console.log(`\nshape '${name}': ${info.disk.extents} extents, ${gib(info.disk.allocated_bytes)} GiB of data in ${gib(info.disk.apparent_bytes)} GiB; .img.zst ${gib(info.archives['disk.img.zst'].bytes)} GiB`);
  const runs = runsFor(image);
  const sources = ['disk.tar.zst', 'disk.pax.tar.zst', 'disk.img.zst'].map((file) => join(image, file));
  const wall = new Map<string, number[]>(runs.map((run) => [run.id, []]));
  const rss = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const run of runs) {
      const dir = join(WORK, `shape-${name}-${run.id}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      await settle(sources);
      wall.get(run.id)!.push((await sh(run.script(dir))).wall);
      if (run.id.startsWith('bc-')) {
        const kib = Number(readFileSync(join(dir, 'rss.txt'), 'utf8').trim().split('\n').at(-1));
        rss.set(run.id, [...(rss.get(run.id) ?? []), kib]);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const run of runs) {
    const peak = rss.get(run.id);
    console.log(`  ${run.label.padEnd(50)} wall ${median(wall.get(run.id)!).toFixed(2)} s${peak ? `  peak RSS ${(Math.max(...peak) / 1024).toFixed(0)} MiB` : ''}`);
  }
  const ratio = (label: string, a: string, b: string, note: string): void => {
    const perRound = wall.get(a)!.map((value, i) => value / wall.get(b)![i]);
    const sorted = [...perRound].sort((x, y) => x - y).map((v) => v.toFixed(2));
    console.log(`  ${label.padEnd(44)} ${median(perRound).toFixed(3)}x${note}  rounds: ${sorted.join(', ')}`);
  };
  for (const [label, a, b, goal] of RATIOS) ratio(label, a, b, goal ? ` (goal ${goal})` : '');
  for (const [label, a, b, goal] of FLOORS) ratio(label, a, b, ` (the floor under: ${goal})`);
}

export async function shapes(): Promise<void> {
  console.log(`image shapes: ${ROUNDS} interleaved rounds each; ratios are medians of per-round ratios; peak RSS is the largest of the rounds`);
  for (const name of SHAPES) await shape(name);
}
