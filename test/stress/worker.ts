// One stress worker: until its deadline, picks prepare / up+down / gc / verify at random over the
// keys it is given, and checks what it gets. Prints one JSON line per operation:
// {op, ok, code?, violation?}. A violation is an invariant broken (see stress.ts).
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BasecowError } from '../../src/core/errors.js';
import { computeRawDigest } from '../../src/core/extract/raw-digest.js';
import { ensureBase } from '../../src/core/store/ensure-base.js';
import { gc } from '../../src/core/store/gc.js';
import { down } from '../../src/core/testnet/down.js';
import { up } from '../../src/core/testnet/up.js';

interface WorkerConfig {
  cacheDir: string;
  workRoot: string;
  keys: { key: string; source: string; digest: string }[];
  deadline: number;
  budgets: number[];
  seed: number;
}

const config = JSON.parse(process.argv[2]) as WorkerConfig;
const LOCK = { staleMs: 2000, pollMs: 50 };
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
const report = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
const warnings = () => undefined;

/** Problems the store may meet on purpose here (a full filesystem); anything else is reported as it is. */
const codeOf = (error: unknown): string => {
  if (error instanceof BasecowError && error.code !== 'source') return error.code;
  const message = (error as Error).message ?? String(error);
  if (/no space left|ENOSPC/i.test(message)) return 'ENOSPC';
  return `other: ${message.slice(0, 300)}`;
};

/** The content behind a path the store handed out: complete and correct, or gone (unleased, removed by gc since). */
async function check(path: string, expected: string, leased: boolean): Promise<string | undefined> {
  let digest: string;
  try {
    digest = await computeRawDigest(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !leased) return undefined;
    return `${path}: cannot be read${leased ? ' although leased' : ''}: ${(error as Error).message}`;
  }
  return digest === expected ? undefined : `${path}: digest ${digest}, expected ${expected} (a partial or corrupt base)`;
}

let n = 0;
while (Date.now() < config.deadline) {
  const target = pick(config.keys);
  const op = pick(['prepare', 'prepare', 'up', 'up', 'gc', 'verify']);
  try {
    if (op === 'prepare' || op === 'verify') {
      const result = await ensureBase({ source: target.source, key: target.key, cacheDir: config.cacheDir, lockTiming: LOCK, verify: op === 'verify' ? 'always' : 'changed', onWarning: warnings });
      report({ op, ok: true, hit: result.cacheHit, violation: await check(result.base, target.digest, false) });
    } else if (op === 'up') {
      const workDir = join(config.workRoot, `${process.pid}-${n++}`);
      const manifest = await up({ source: target.source, key: target.key, cacheDir: config.cacheDir, workDir, vms: [{ name: 'a' }], domainType: 'qemu', lockTiming: LOCK, onWarning: warnings });
      let violation = await check(manifest.base, target.digest, true);
      // Hold the testnet a while, as a job would, while others collect garbage.
      await sleep(Math.random() * 400);
      if (!violation && !(await lstat(manifest.base).catch(() => undefined))) violation = `${manifest.base}: removed while leased by ${workDir}`;
      await down({ workDir, lockTiming: LOCK, onWarning: warnings });
      report({ op, ok: true, violation });
    } else {
      const result = await gc({ cacheDir: config.cacheDir, budgetBytes: pick(config.budgets), lockTiming: LOCK, onWarning: warnings });
      report({ op, ok: true, removed: result.removed.length, swept: result.swept.leases + result.swept.temps + result.swept.locks });
    }
  } catch (error) {
    report({ op, ok: false, code: codeOf(error) });
  }
}
