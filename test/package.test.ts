import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the check with a temp dir of its own, which must be empty again afterwards. */
function check(root: string, tmp: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'scripts', 'package.mjs'), '--check'], { env: { ...process.env, TMPDIR: tmp } }, (error, _stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr }),
    );
  });
}

test('package --check fails on a dist/ whose zstd addon is not the one node_modules builds', async () => {
  // A copy of what the check reads (the sources, the script, dist/), sharing node_modules, so that
  // the repository's own dist/ is never touched.
  const copy = tempDir();
  const tmp = tempDir();
  for (const part of ['package.json', 'tsconfig.json', 'scripts', 'src', 'templates', 'images', 'dist']) {
    if (existsSync(join(ROOT, part))) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  // The copy as it is passes: the failure below is the addon's alone.
  const fresh = await check(copy, tmp);
  assert.equal(fresh.code, 0, fresh.stderr);

  const addon = join(copy, 'dist', 'zstd-napi.node');
  const bytes = readFileSync(addon);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(addon, bytes);
  const stale = await check(copy, tmp);
  assert.equal(stale.code, 1, stale.stderr);
  assert.match(stale.stderr, /dist\/ is stale \(dist\/zstd-napi\.node differ/);
  assert.deepEqual(readdirSync(tmp), [], 'the fresh bundle is removed, also when the check fails');
});
