// Issue 14, parallel decoding: a multi-frame source extracted by `basecow prepare --decode-workers`
// 1 and 2, against zstd on the same file, each a whole process (Node's start, fsync and publish
// included) with its peak RSS. Two multi-frame files of the bench image: the basecow entry (`writeEntry`, what the
// Actions cache holds) and plain zstd frames (the image cut into 32 MiB pieces, `zstd -3` each,
// concatenated), both against `zstd -d -o` of the single-frame `.img.zst`. Interleaved rounds;
// ratios are taken within a round.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeEntry } from '../src/core/entry/write.js';
import { IMAGE_ROOT, WORK, basecow, benchImage, median, perRound, q, readRssKiB, rounds, settle, sh, spread, timeRss } from './harness.js';

const PIECE = 32 * 1024 * 1024;

interface Run {
  id: string;
  label: string;
  script: (dir: string, rss: string) => string;
}

/**
 * The multi-frame files, made once per image (they are kept beside it, under a stamp of the image's
 * info.json, since making the plain-frames file takes a while on two cores).
 */
async function multiFrameFiles(image: string): Promise<{ entry: string; frames: string; entrySeconds: number; entryWorkers: number }> {
  const dir = `${image}-multiframe`;
  const stamp = createHash('sha256').update(readFileSync(join(image, 'info.json'))).digest('hex');
  const stampFile = join(dir, '.stamp');
  const entry = join(dir, 'entry.zst');
  const frames = join(dir, 'frames.zst');
  const timing = join(dir, 'entry-timing.json');
  if (!(existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(entry) && existsSync(frames) && existsSync(timing))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const disk = join(image, 'disk.img');
    const made = await writeEntry(disk, entry);
    writeFileSync(timing, JSON.stringify({ seconds: made.seconds, workers: made.workers }));
    // --stream-size makes zstd write each frame's content size, which is what lets a decoder place
    // the frame before decoding it (a frame from a pipe states none otherwise).
    await sh(`size=$(stat -c %s ${q(disk)}); n=$(( (size + ${PIECE} - 1) / ${PIECE} )); : > ${q(frames)}.tmp
for ((i = 0; i < n; i++)); do
  len=$(( size - i * ${PIECE} )); (( len > ${PIECE} )) && len=${PIECE}
  dd if=${q(disk)} bs=1M skip=$(( i * ${PIECE / 2 ** 20} )) count=${PIECE / 2 ** 20} status=none | zstd -3 -q --stream-size=$len -c >> ${q(frames)}.tmp
done
mv ${q(frames)}.tmp ${q(frames)}`);
    writeFileSync(stampFile, stamp);
  }
  const { seconds, workers } = JSON.parse(readFileSync(timing, 'utf8'));
  return { entry, frames, entrySeconds: seconds, entryWorkers: workers };
}

export async function parallel(): Promise<void> {
  const ROUNDS = rounds('BASECOW_BENCH_PARALLEL_ROUNDS', 5);
  await benchImage('many');
  const image = join(IMAGE_ROOT, 'many');
  const info = JSON.parse(readFileSync(join(image, 'info.json'), 'utf8'));
  const img = join(image, 'disk.img.zst');
  const { entry, frames, entrySeconds, entryWorkers } = await multiFrameFiles(image);
  const count = async (file: string): Promise<string> => (await sh(`zstd -l ${q(file)} | awk 'NR == 2 { print $1 "/" $2 }'`)).stdout.trim();
  const size = async (file: string): Promise<number> => Number((await sh(`stat -c %s ${q(file)}`)).stdout.trim());
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  console.log(`\nparallel decoding (issue 14): shape 'many', ${ROUNDS} interleaved rounds; wall and peak RSS of each whole process, median (min–max)`);
  console.log(`  .img.zst (single frame, zstd -3 -T0): ${mib(await size(img))}; entry (writeEntry): ${mib(await size(entry))}, frames/skippable ${await count(entry)}, made in ${entrySeconds.toFixed(2)} s with ${entryWorkers} workers; plain frames (32 MiB pieces, zstd -3 each): ${mib(await size(frames))}, frames/skippable ${await count(frames)}`);

  // `prepare --key` (no hashing) with its decoding threads bounded: the whole extraction as a user runs it.
  const decode = (source: string, workers: number) => (dir: string, rss: string): string =>
    `${timeRss(rss)} ${basecow} prepare --image ${q(source)} --key bench --decode-workers ${workers} --cache-dir ${q(join(dir, 'cache'))} --json > ${q(join(dir, 'out.json'))}`;
  const zstd = (source: string, threads: string) => (dir: string, rss: string): string =>
    `${timeRss(rss)} zstd -q -d ${threads} -f ${q(source)} -o ${q(join(dir, 'x.img'))}`;
  const runs: Run[] = [
    { id: 'zstd-img', label: 'zstd -d -o, single-frame .img.zst', script: zstd(img, '') },
    // basecow's sequential decoder (single frame: one decoding thread, hashing and writing beside it).
    { id: 'img-1', label: 'basecow prepare, single-frame .img.zst', script: decode(img, 1) },
    { id: 'zstd-entry', label: 'zstd -d -T0 -o, entry', script: zstd(entry, '-T0') },
    { id: 'entry-1', label: 'basecow prepare, entry, 1 worker', script: decode(entry, 1) },
    { id: 'entry-2', label: 'basecow prepare, entry, 2 workers', script: decode(entry, 2) },
    { id: 'zstd-frames', label: 'zstd -d -T0 -o, plain frames', script: zstd(frames, '-T0') },
    { id: 'frames-1', label: 'basecow prepare, plain frames, 1 worker', script: decode(frames, 1) },
    { id: 'frames-2', label: 'basecow prepare, plain frames, 2 workers', script: decode(frames, 2) },
  ];
  const wall = new Map<string, number[]>(runs.map((run) => [run.id, []]));
  const rss = new Map<string, number[]>(runs.map((run) => [run.id, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const run of runs) {
      const dir = join(WORK, `parallel-${run.id}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      await settle([img, entry, frames]);
      const rssFile = join(dir, 'rss.txt');
      wall.get(run.id)!.push((await sh(run.script(dir, rssFile))).wall);
      rss.get(run.id)!.push(readRssKiB(rssFile) / 1024);
      const out = join(dir, 'out.json');
      if (existsSync(out)) {
        // The bound is an upper one: a run that decoded with fewer threads than asked measures nothing.
        const result = JSON.parse(readFileSync(out, 'utf8'));
        const asked = Number(run.id.split('-')[1]);
        if (result.timings.workers !== asked || result.apparentBytes !== Number(info.disk.apparent_bytes)) throw new Error(`${run.label}: decoded with ${result.timings.workers} workers to ${result.apparentBytes} bytes (asked ${asked}, image ${info.disk.apparent_bytes})`);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const run of runs) console.log(`  ${run.label.padEnd(42)} wall ${spread(wall.get(run.id)!, 2, ' s')}  peak RSS ${spread(rss.get(run.id)!, 0, ' MiB')}`);
  const ratios: [string, string, string, string][] = [
    ['entry: 2 workers / 1 worker', 'entry-2', 'entry-1', '<= 0.6'],
    ['plain frames: 2 workers / 1 worker', 'frames-2', 'frames-1', '<= 0.6'],
    ['entry, 2 workers / zstd -d -o .img.zst', 'entry-2', 'zstd-img', ''],
    ['plain frames, 2 workers / zstd -d -o .img.zst', 'frames-2', 'zstd-img', ''],
    ['entry, 2 workers / zstd -d -T0 of the entry', 'entry-2', 'zstd-entry', ''],
    ['plain frames, 2 workers / zstd -d -T0 of them', 'frames-2', 'zstd-frames', ''],
    ['entry, 1 worker / zstd -d -o .img.zst', 'entry-1', 'zstd-img', ''],
    ['entry, 2 workers / basecow prepare .img.zst (sequential)', 'entry-2', 'img-1', ''],
    ['basecow prepare .img.zst (sequential) / zstd -d -o', 'img-1', 'zstd-img', ''],
  ];
  for (const [label, a, b, goal] of ratios) {
    const values = perRound(wall.get(a)!, wall.get(b)!);
    console.log(`  ${label.padEnd(58)} ${spread(values, 3, 'x')}${goal ? ` goal ${goal}: ${median(values) <= Number(goal.slice(3)) ? 'met' : 'NOT met'}` : ''}`);
  }
}
