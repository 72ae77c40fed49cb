// The progress meter the CLI and the action print: phases that run at once (a local image hashed
// while it is extracted) each get their lines and their own rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { progressReporter } from '../src/output/progress.js';

function logStream(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (text: string) => lines.push(text.trimEnd()) } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

test('two phases reported in turns both print, each at its own pace', async () => {
  const { stream, lines } = logStream();
  const reporter = progressReporter(stream, 30);
  const total = 100 * 1024 * 1024;
  for (let step = 1; step <= 12; step++) {
    reporter.report({ phase: 'hash', done: step * 8 * 1024 * 1024, total });
    reporter.report({ phase: 'extract', done: step * 4 * 1024 * 1024, total });
    await sleep(10);
  }
  reporter.end();
  const hashing = lines.filter((line) => line.startsWith('basecow: hashing '));
  const extracting = lines.filter((line) => line.startsWith('basecow: extracting '));
  assert.ok(hashing.length >= 2, lines.join('\n'));
  assert.ok(extracting.length >= 2, lines.join('\n'));
  // Each line's byte count is its own phase's, not the other's.
  assert.ok(extracting.every((line) => !/\/ 100\.0 MiB \(9[0-9]%/.test(line)), lines.join('\n'));
});

test('a phase that ends within the first interval prints nothing', () => {
  const { stream, lines } = logStream();
  const reporter = progressReporter(stream, 60_000);
  reporter.report({ phase: 'hash', done: 1, total: 2 });
  reporter.report({ phase: 'hash', done: 2, total: 2 });
  reporter.end();
  assert.deepEqual(lines, []);
});
