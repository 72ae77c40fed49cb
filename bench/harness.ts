// What every section of the benchmark shares: running a bash snippet with its wall and CPU time,
// medians, quoting, and a settled machine before each timed run.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(REPO, 'bin/basecow.js');
export const IMAGE_ROOT = process.env.BASECOW_BENCH_IMAGE_DIR ?? join(REPO, '.basecow/bench-image');
export const WORK = process.env.BASECOW_BENCH_WORK_DIR ?? join(REPO, '.basecow/bench-work');

export const q = (p: string): string => `'${p}'`;
export const basecow = `${q(process.execPath)} ${q(BIN)}`;
/** Decodes a zstd file in a Node process and discards the output: see bench/decode-floor.ts. */
export const DECODE_FLOOR = `${q(process.execPath)} ${q(join(REPO, 'build/bench/decode-floor.js'))}`;

/**
 * Interleaved rounds of a section: BASECOW_BENCH_ROUNDS for every section, or the section's own
 * variable when it is set.
 */
export function rounds(own: string | undefined, fallback: number): number {
  const value = Number(process.env[own ?? ''] ?? process.env.BASECOW_BENCH_ROUNDS ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`rounds must be a positive integer, got ${value}`);
  return value;
}

/** Runs a bash snippet; `times` at the end reports the CPU its children used. */
export function sh(script: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<{ wall: number; cpu: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', ['-c', `set -euo pipefail\n${script}\ntimes >&3`], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'], env: options.env ?? process.env });
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

/** Bytes a file takes on disk (st_blocks), which is what a filled hole would show in. */
export function allocatedBytes(path: string): number {
  return statSync(path).blocks * 512;
}

/**
 * Bytes of a file's data regions (SEEK_DATA / SEEK_HOLE; Node has no lseek, python3 is there for
 * node-gyp): what holes a copy kept, without the extent-tree blocks that allocatedBytes also
 * counts, which differ with how many extents the writes happened to make.
 */
export function dataRegionBytes(path: string): number {
  const script = `import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); end = os.fstat(fd).st_size; at = 0; total = 0
while at < end:
    try: start = os.lseek(fd, at, os.SEEK_DATA)
    except OSError: break
    stop = os.lseek(fd, start, os.SEEK_HOLE); total += stop - start; at = stop
print(total)`;
  return Number(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' }).trim());
}

/** `/usr/bin/time`'s peak RSS of the process it ran, in KiB, from the file it wrote (`-f %M -o file`). */
export const timeRss = (rssFile: string): string => `/usr/bin/time -f %M -o ${q(rssFile)}`;
export const readRssKiB = (rssFile: string): number => Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));

/** `median (min–max)` of some values, with a unit. */
export function spread(values: number[], digits = 2, unit = ''): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${median(values).toFixed(digits)}${unit} (${sorted[0].toFixed(digits)}–${sorted.at(-1)!.toFixed(digits)})`;
}

/** Per-round ratios a[i] / b[i]. */
export const perRound = (a: number[], b: number[]): number[] => a.map((v, i) => v / b[i]);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Deleting the previous run's gigabytes makes the disk discard and write back in the background,
 * which would slow whichever scenario runs next; let that finish first. The kernel also reclaims
 * page cache that sat unused for a while, so the sources are read in again: every scenario starts
 * from sources in memory, as on a runner that just downloaded them.
 */
export async function settle(sources: string[]): Promise<void> {
  await sh(`sync; sleep 1; cat ${sources.map(q).join(' ')} > /dev/null`);
}

/** Makes (or finds, cached) the bench image of one shape; see bench/make-guestos-image.sh. */
export async function benchImage(shape: 'few' | 'many' | 'members'): Promise<string> {
  const dir = join(IMAGE_ROOT, shape);
  await sh(`${q(join(REPO, 'bench/make-guestos-image.sh'))} ${q(dir)} ${shape}`);
  return dir;
}
