import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OverlayError, createOverlays } from '../src/core/testnet/overlay.js';
import { createOverlayImage, imageInfo } from '../src/core/exec/qemu-img.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { isRoot, makeSparseFile, sha256File, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const dir = tempDir();
const base = join(dir, 'base.img');
await makeSparseFile(base, 64 * MiB, [{ offset: 0, length: 1 * MiB }]);
const baseDigest = await sha256File(base);
const overlayPath = (name: string): string => join(dir, 'vms', name, 'primary.qcow2');

test('overlays are qcow2 over the absolute raw base, 0600, and copies equal what qemu-img writes', async () => {
  const results = await createOverlays({ base, overlays: ['a', 'b', 'c'].map((n) => ({ path: overlayPath(n) })) });
  assert.deepEqual(results.map((r) => r.status), ['created', 'created', 'created']);
  for (const { path } of results) {
    const info = await imageInfo(path);
    assert.equal(info.format, 'qcow2');
    assert.equal(info['backing-filename'], base);
    assert.equal(info['backing-filename-format'], 'raw');
    assert.equal(info['virtual-size'], 64 * MiB);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await runTool(['qemu-img', 'check', '-q', path]);
  }
  const direct = join(dir, 'direct.qcow2');
  await createOverlayImage(direct, { base, options: 'extended_l2=on,cluster_size=128k,lazy_refcounts=on' });
  assert.deepEqual(readFileSync(results[2].path), readFileSync(direct), 'a copied overlay is byte-identical to qemu-img create');
});

test('writes through an overlay stay in it; the base is unchanged', async () => {
  const [a] = await createOverlays({ base, overlays: [{ path: overlayPath('writer') }] });
  await runTool(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0xab 1M 64k', a.path]);
  const { stdout } = await runTool(['qemu-io', '-f', 'qcow2', '-c', 'read -P 0xab 1M 64k', a.path]);
  assert.match(stdout, /read 65536\/65536 bytes/);
  assert.equal(await sha256File(base), baseDigest);
});

test('grow-only size: a larger minimum grows the overlay, a smaller one keeps the base size', async () => {
  const [grown] = await createOverlays({ base, overlays: [{ path: overlayPath('grown') }], minSizeBytes: 32 * 1024 * MiB });
  assert.equal((await imageInfo(grown.path))['virtual-size'], 32 * 1024 * MiB);
  const [kept] = await createOverlays({ base, overlays: [{ path: overlayPath('kept') }], minSizeBytes: 16 * MiB });
  assert.equal((await imageInfo(kept.path))['virtual-size'], 64 * MiB);
});

test('an existing overlay is reused only when it sits on this base; --recreate replaces it', async () => {
  const path = overlayPath('reuse');
  await createOverlays({ base, overlays: [{ path }] });
  await runTool(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x11 0 4k', path]);
  const written = await sha256File(path);
  const [again] = await createOverlays({ base, overlays: [{ path }] });
  assert.equal(again.status, 'reused');
  assert.equal(await sha256File(path), written, 'reuse keeps what the VM wrote');

  const otherBase = join(dir, 'other-base.img');
  await makeSparseFile(otherBase, 64 * MiB, [{ offset: 0, length: 4096 }]);
  await assert.rejects(createOverlays({ base: otherBase, overlays: [{ path }] }), (e: Error) => {
    assert.ok(e instanceof OverlayError);
    assert.ok(e.message.includes(path) && e.message.includes(base), e.message);
    // The core states the problem with a code; only a front end knows its flag (--recreate) or input.
    assert.equal(e.code, 'overlay-not-reusable');
    assert.doesNotMatch(e.message, /--/);
    return true;
  });
  assert.equal(await sha256File(path), written, 'a refused overlay is left untouched');

  const [replaced] = await createOverlays({ base: otherBase, overlays: [{ path }], recreate: true });
  assert.equal(replaced.status, 'created');
  assert.equal((await imageInfo(path))['backing-filename'], otherBase);
});

test('a base that is missing, relative, or has its own backing file is refused', async () => {
  const missing = join(dir, 'missing.img');
  await assert.rejects(createOverlays({ base: missing, overlays: [{ path: overlayPath('m') }] }), (e: Error) => e.message.includes(missing) && /does not exist/.test(e.message));
  await assert.rejects(createOverlays({ base: 'relative.img', overlays: [{ path: overlayPath('r') }] }), /must be absolute/);
  const chained = join(dir, 'chained.qcow2');
  await createOverlayImage(chained, { base });
  await assert.rejects(createOverlays({ base: chained, overlays: [{ path: overlayPath('c2') }] }), (e: Error) => e.message.includes(chained) && /backing file/.test(e.message));
  const notRaw = join(dir, 'plain.qcow2');
  await runTool(['qemu-img', 'create', '-q', '-f', 'qcow2', notRaw, '16M']);
  await assert.rejects(createOverlays({ base: notRaw, overlays: [{ path: overlayPath('q') }] }), /expected raw/);
  // A raw disk that happens to start with a LUKS header (whole-disk encryption) is still a raw base.
  const luks = join(dir, 'whole-disk-luks.img');
  // qemu-img times PBKDF iterations with getrusage, which on this VM now and then measures nothing
  // and fails at once ("Unable to get accurate CPU usage"); another attempt succeeds.
  for (let attempt = 1; ; attempt++) {
    try {
      await runTool(['qemu-img', 'create', '-q', '--object', 'secret,id=s0,data=basecow', '-f', 'luks', '-o', 'key-secret=s0,iter-time=10', luks, '16M']);
      break;
    } catch (error) {
      if (attempt >= 20 || !/Unable to get accurate CPU usage/.test((error as Error).message)) throw error;
    }
  }
  const [made] = await createOverlays({ base: luks, overlays: [{ path: overlayPath('luks') }] });
  const info = await imageInfo(made.path);
  assert.equal(info['backing-filename-format'], 'raw');
  assert.equal(info['virtual-size'], statSync(luks).size, 'the overlay covers the whole raw file, header included');
});

test('a base the caller cannot read is refused before anything is created', { skip: !isRoot() && 'needs root to act as another user' }, async () => {
  const area = tempDir('basecow-unreadable-');
  chmodSync(area, 0o755);
  mkdirSync(join(area, 'vm'));
  chmodSync(join(area, 'vm'), 0o777);
  const privateBase = join(area, 'private.img');
  await makeSparseFile(privateBase, 4 * 1024 * 1024, [{ offset: 0, length: 4096 }]);
  const overlay = join(area, 'vm', 'primary.qcow2');
  // The same createOverlays, run as nobody (root could read anything).
  const asNobody = (): Promise<string> => {
    const script = `import(${JSON.stringify(new URL('../src/core/testnet/overlay.js', import.meta.url).href)})
      .then((m) => m.createOverlays({ base: ${JSON.stringify(privateBase)}, overlays: [{ path: ${JSON.stringify(overlay)} }] }))
      .then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })`;
    return runTool(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script]).then(
      () => 'ok',
      (error: Error) => error.message,
    );
  };
  chmodSync(privateBase, 0o400);
  const refused = await asNobody();
  assert.ok(refused.includes(`${privateBase}: base image is not readable (EACCES)`), refused);
  assert.equal(existsSync(overlay), false, 'no overlay was made');
  chmodSync(privateBase, 0o444);
  assert.equal(await asNobody(), 'ok', 'readable, the same base is accepted: the refusal was about its mode');
  assert.ok(existsSync(overlay));
});
