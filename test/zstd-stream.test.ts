import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runTool } from '../src/core/exec/run-tool.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/zstd-consumer-child.js', import.meta.url));

async function consume(path: string, mode: 'retain' | 'copy', poison: boolean): Promise<{ digest: string; chunks: number; poisoned: number }> {
  const env = { ...process.env, BASECOW_POISON_RELEASED_SLOTS: poison ? '1' : '0' };
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD, path, mode], { env });
  return JSON.parse(stdout);
}

test('with slot poisoning on, a consumer that keeps chunk views past next() reads poison, one that copies reads the data', async () => {
  // Random data, so that no chunk of the real content is all 0xdb by chance; several slots' worth.
  const dir = tempDir();
  const data = randomBytes(5 * 1024 * 1024 + 123);
  const raw = join(dir, 'data.img');
  writeFileSync(raw, data);
  await runTool(['zstd', '-q', '-f', raw, '-o', `${raw}.zst`]);
  const digest = createHash('sha256').update(data).digest('hex');

  const retained = await consume(`${raw}.zst`, 'retain', true);
  assert.ok(retained.chunks >= 4, `${retained.chunks} chunks`);
  // Every slot is released when the consumer asks for the next chunk (or the end), so every kept
  // view reads poison, deterministically: no race with the decoder's reuse of the slot.
  assert.equal(retained.poisoned, retained.chunks, `${retained.poisoned} of ${retained.chunks} retained views read poison`);
  assert.notEqual(retained.digest, digest);

  const copied = await consume(`${raw}.zst`, 'copy', true);
  assert.equal(copied.digest, digest, 'copies hold the data');
  assert.equal(copied.poisoned, 0);

  // The poison comes from the flag alone: without it, copies are the same and nothing is poisoned.
  const plain = await consume(`${raw}.zst`, 'retain', false);
  assert.equal(plain.poisoned, 0);
});
