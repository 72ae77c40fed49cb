// The store's stress and fault suite (`npm run stress`): 16 processes over 4 keys doing prepare,
// up + down, gc and verification at random for a fixed time while some are killed with SIGKILL
// and replaced; then the same on a small mounted filesystem that runs out of space. Invariants:
// - no caller ever got a path to a partial or corrupt base (each worker hashes what it got);
// - no leased base was removed (a worker holding a testnet checks its base is still there);
// - after recovery (down of the testnets killed workers left) and a final gc, the store fits its
//   budget, no temp file, lock, lease or half-written file is left, and every base verifies.
// Usage: node build/test/stress/stress.js [--seconds 60] [--space-seconds 30]
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTool } from '../../src/core/exec/run-tool.js';
import { computeRawDigest } from '../../src/core/extract/raw-digest.js';
import { gc, listStore } from '../../src/core/store/gc.js';
import { storeLayout } from '../../src/core/store/layout.js';
import { readSidecar } from '../../src/core/store/sidecar.js';
import { down } from '../../src/core/testnet/down.js';
import { makeSparseFile } from '../helpers.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, 'space-seconds': { type: 'string', default: '30' }, workers: { type: 'string', default: '16' } } });
const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
const MiB = 1024 * 1024;
const WORKERS = Number(values.workers);
const LOCK = { staleMs: 2000, pollMs: 50 };

const root = mkdtempSync(join(tmpdir(), 'basecow-stress-'));
const keys: { key: string; source: string; digest: string }[] = [];
for (let i = 0; i < 4; i++) {
  const raw = join(root, `k${i}.img`);
  await makeSparseFile(raw, 32 * MiB, [{ offset: i * MiB, length: 6 * MiB }]);
  await runTool(['zstd', '-q', '-f', raw, '-o', `${raw}.zst`]);
  keys.push({ key: `stress-k${i}`, source: `${raw}.zst`, digest: await computeRawDigest(raw) });
}
const BASE_BYTES = 6 * MiB;

interface PhaseCounts {
  operations: Record<string, number>;
  failures: Record<string, number>;
  kills: number;
  /** Testnets of killed workers torn down at the end, and debris (stale leases, temps, locks) gc swept while the run went on. */
  recoveries: number;
  sweptDuringRun: number;
  violations: string[];
}

async function phase(name: string, cacheDir: string, seconds: number): Promise<PhaseCounts> {
  const workRoot = join(root, `${name}-work`);
  mkdirSync(workRoot, { recursive: true });
  const counts: PhaseCounts = { operations: {}, failures: {}, kills: 0, recoveries: 0, sweptDuringRun: 0, violations: [] };
  const deadline = Date.now() + seconds * 1000;
  const budgets = [BASE_BYTES, 2 * BASE_BYTES, 3 * BASE_BYTES].map((b) => b + MiB);
  const live = new Set<ChildProcess>();
  const start = () => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify({ cacheDir, workRoot, keys, deadline, budgets, seed: Math.random() })], { stdio: ['ignore', 'pipe', 'inherit'] });
    live.add(child);
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const event = JSON.parse(line) as { op: string; ok: boolean; code?: string; violation?: string; swept?: number };
        counts.sweptDuringRun += event.swept ?? 0;
        counts.operations[event.op] = (counts.operations[event.op] ?? 0) + 1;
        if (!event.ok) counts.failures[`${event.op}: ${event.code}`] = (counts.failures[`${event.op}: ${event.code}`] ?? 0) + 1;
        if (event.violation) counts.violations.push(event.violation);
      }
    });
    child.on('close', () => live.delete(child));
    return child;
  };
  for (let i = 0; i < WORKERS; i++) start();
  // Every ~0.5-1.5 s one worker is killed mid-whatever and replaced.
  while (Date.now() < deadline - 1000) {
    await sleep(500 + Math.random() * 1000);
    const victims = [...live];
    if (victims.length === 0) break;
    const victim = victims[Math.floor(Math.random() * victims.length)];
    victim.kill('SIGKILL');
    counts.kills++;
    start();
  }
  while (live.size > 0) await sleep(100);

  // Recovery: testnets whose worker was killed are torn down (their leases go with them).
  for (const name of readdirSync(workRoot)) {
    const workDir = join(workRoot, name);
    if (existsSync(join(workDir, 'manifest.json'))) {
      await down({ workDir, lockTiming: LOCK, onWarning: () => undefined });
      counts.recoveries++;
    }
  }
  const layout = storeLayout(cacheDir);
  const debris = { temps: readdirSync(layout.tmp).length, locks: readdirSync(layout.locks).length };
  // Locks of killed processes go stale after staleMs; the final sweep runs once they have.
  await sleep(LOCK.staleMs + 1500);
  const budget = 2 * BASE_BYTES + MiB;
  const result = await gc({ cacheDir, budgetBytes: budget, lockTiming: LOCK, onWarning: (w) => counts.violations.push(`final gc warned: ${w.message}`) });
  assert.deepEqual(result.kept, [], 'no base is kept after recovery (nothing is leased)');
  const listing = await listStore({ cacheDir, budgetBytes: budget });
  assert.ok(listing.totalBytes <= budget, `the store (${listing.totalBytes} bytes) fits its budget (${budget})`);
  assert.deepEqual(readdirSync(layout.tmp), [], 'no temp file is left');
  assert.deepEqual(readdirSync(layout.locks), [], 'no lock is left');
  assert.deepEqual(readdirSync(layout.leases), [], 'no lease is left');
  assert.deepEqual(readdirSync(layout.quarantine), [], 'nothing in quarantine');
  for (const dir of [layout.bases, layout.used]) assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), [], `no half-written file in ${dir}`);
  for (const base of listing.bases) {
    const expected = keys.find((k) => k.key === base.key)!.digest;
    const digest = await computeRawDigest(base.base);
    assert.equal(digest, expected, `${base.key} verifies`);
    assert.equal((await readSidecar(join(layout.bases, `${base.key}.json`))).rawDigest, expected);
  }
  console.log(`${name}: ${JSON.stringify({ ...counts, violations: counts.violations.length, debrisBeforeSweep: debris, finalSweep: result.swept, survivors: listing.bases.map((b) => b.key), finalGc: result.removed.length })}`);
  assert.deepEqual(counts.violations, [], 'no invariant was broken');
  const unexpected = Object.keys(counts.failures).filter((f) => !/: (no-space|ENOSPC)$/.test(f));
  assert.deepEqual(unexpected, [], 'no failure other than running out of space');
  return counts;
}

try {
  await phase('store', join(root, 'cache'), Number(values.seconds));
  if (process.getuid?.() === 0 && Number(values['space-seconds']) > 0) {
    // About two and a half bases fit: extractions meet the free-space check, eviction, and ENOSPC midway.
    const mount = join(root, 'small-fs');
    mkdirSync(mount);
    await runTool(['mount', '-t', 'tmpfs', '-o', `size=${Math.round((2.5 * BASE_BYTES) / MiB)}m,mode=0755`, 'tmpfs', mount]);
    try {
      const counts = await phase('out-of-space', mount, Number(values['space-seconds']));
      assert.ok(Object.keys(counts.failures).length > 0 || counts.operations.gc > 0, 'the small filesystem was exercised');
    } finally {
      await runTool(['umount', mount]);
    }
  } else {
    console.log('out-of-space phase skipped (needs root to mount a small tmpfs)');
  }
  console.log('stress: all invariants held');
} finally {
  rmSync(root, { recursive: true, force: true });
}
