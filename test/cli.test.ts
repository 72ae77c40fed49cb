import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BasecowError } from '../src/core/errors.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { down as coreDown } from '../src/core/testnet/down.js';
import { up as coreUp } from '../src/core/testnet/up.js';
import { listDir, makeSparseFile, sha256File, tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/basecow.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const dir = tempDir();
const cacheDir = join(dir, 'cache');

function basecow(args: string[], cwd = dir, entry = BIN, env = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('prepare --json prints exactly one JSON object; the second run is an l1 hit', async () => {
  const first = await basecow(['prepare', '--cache-dir', cacheDir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const result = JSON.parse(first.stdout);
  assert.equal(first.stdout.trim().split('\n').length, 1);
  assert.equal(result.cacheHit, 'miss');
  assert.ok(result.base.startsWith('/') && existsSync(result.base));
  for (const field of ['key', 'apparentBytes', 'allocatedBytes', 'seconds']) assert.ok(field in result, field);
  assert.equal(result.apparentBytes, 64 * 1024 * 1024);
  const second = await basecow(['prepare', '--cache-dir', cacheDir, '--json']);
  assert.equal(JSON.parse(second.stdout).cacheHit, 'l1');
});

test('prepare reports failures on stderr with the file named, and exit codes tell usage from failure', async () => {
  const missing = join(dir, 'nope.img.zst');
  const failed = await basecow(['prepare', '--image', missing, '--cache-dir', cacheDir, '--json']);
  assert.equal(failed.code, 1);
  assert.equal(failed.stdout, '');
  assert.ok(failed.stderr.includes(missing), failed.stderr);
  const badKey = await basecow(['prepare', '--key', 'no/slash', '--cache-dir', cacheDir]);
  assert.equal(badKey.code, 2);
  assert.match(badKey.stderr, /invalid key/);
  const badFlag = await basecow(['prepare', '--frobnicate']);
  assert.equal(badFlag.code, 2);
});

test('up --json prints only the manifest; up is idempotent; down removes overlays and XML but not the base', async () => {
  const workDir = join(dir, 'work');
  const vmsFile = join(dir, 'vms.json');
  const config = join(dir, 'config.raw');
  writeFileSync(config, Buffer.alloc(5000, 1));
  writeFileSync(vmsFile, JSON.stringify([{ name: 'alpha', extraDisks: [{ name: 'config', source: 'config.raw' }] }, 'beta', { name: 'gamma', memoryMiB: 512 }]));
  const args = ['up', '--vms', vmsFile, '--work-dir', workDir, '--cache-dir', cacheDir, '--domain-type', 'qemu', '--json'];
  const first = await basecow(args);
  assert.equal(first.code, 0, first.stderr);
  const manifest = JSON.parse(first.stdout);
  assert.deepEqual(JSON.parse(readFileSync(join(workDir, 'manifest.json'), 'utf8')), manifest);
  assert.equal(manifest.schema, 'basecow.manifest/v1');
  assert.deepEqual(manifest.vms.map((vm: { name: string }) => vm.name), ['alpha', 'beta', 'gamma']);
  const alpha = manifest.vms[0];
  assert.deepEqual(alpha.disks.map((d: { format: string; target: string }) => [d.format, d.target]), [['qcow2', 'vda'], ['raw', 'vdb']]);
  const configDisk = alpha.disks[1].path;
  assert.equal(statSync(configDisk).size, 8192, 'extra disk padded to a 4096-byte multiple');
  assert.equal(statSync(configDisk).mode & 0o777, 0o600);
  assert.deepEqual(readFileSync(configDisk).subarray(0, 5000), Buffer.alloc(5000, 1));
  for (const vm of manifest.vms) await runTool(['virt-xml-validate', vm.xml, 'domain']);

  await runTool(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x42 1M 4k', alpha.overlay]);
  const written = await sha256File(alpha.overlay);
  const second = await basecow(args);
  assert.equal(second.code, 0, second.stderr);
  const again = JSON.parse(second.stdout);
  assert.equal(again.cacheHit, 'l1');
  assert.deepEqual({ ...again, cacheHit: 'miss' }, { ...manifest, cacheHit: 'miss' });
  assert.equal(await sha256File(alpha.overlay), written, 'the second up reused the overlay with its writes');

  const down = await basecow(['down', '--work-dir', workDir, '--json']);
  assert.equal(down.code, 0, down.stderr);
  for (const vm of manifest.vms) {
    assert.equal(existsSync(vm.overlay), false);
    assert.equal(existsSync(vm.xml), false);
  }
  assert.equal(existsSync(configDisk), false);
  assert.equal(existsSync(join(workDir, 'manifest.json')), false);
  assert.ok(existsSync(manifest.base), 'the base stays');
  const downAgain = await basecow(['down', '--work-dir', workDir]);
  assert.equal(downAgain.code, 0, 'down on a torn-down work dir is a no-op');
});

test('down with libvirt unreachable: goes on with a warning for never-started domains, refuses after --start', async () => {
  const nowhere = 'qemu+unix:///system?socket=/nonexistent/basecow-test.sock';
  const workDir = join(dir, 'unreachable');
  const args = ['up', '--vms', '2', '--work-dir', workDir, '--cache-dir', cacheDir, '--domain-type', 'qemu', '--connect', nowhere, '--json'];
  const manifest = JSON.parse((await basecow(args)).stdout);
  assert.equal(manifest.started, false);
  const down = await basecow(['down', '--work-dir', workDir]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stderr, /warning: cannot reach libvirt at qemu\+unix:\/\/\/system\?socket=\/nonexistent\/basecow-test\.sock/);
  for (const vm of manifest.vms) assert.equal(existsSync(vm.overlay), false);

  const startNowhere = await basecow([...args.slice(0, -1), '--start']);
  assert.equal(startNowhere.code, 1);
  assert.match(startNowhere.stderr, /cannot reach libvirt at qemu\+unix:.*is libvirtd running/);
  const manifestFile = join(workDir, 'manifest.json');
  assert.equal(JSON.parse(readFileSync(manifestFile, 'utf8')).started, false, 'nothing started, so down need not be careful');
  const upAgain = await basecow(args);
  assert.equal(upAgain.code, 0, upAgain.stderr);
  // What `up --start` records once its domains are running; starting them here needs no libvirt.
  writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(upAgain.stdout), started: true }));
  const refused = await basecow(['down', '--work-dir', workDir]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /manifest\.json: basecow started these domains, but cannot reach libvirt at .*Nothing was removed/);
  for (const vm of manifest.vms) assert.ok(existsSync(vm.overlay), `${vm.overlay} kept`);
  assert.ok(existsSync(manifestFile));
  const noVirsh = await basecow(['down', '--work-dir', workDir], dir, BIN, { ...process.env, PATH: join(dir, 'empty-path') });
  assert.equal(noVirsh.code, 1, 'without virsh, started domains cannot be checked either');
  assert.match(noVirsh.stderr, /'virsh' was not found on PATH; install it with: apt-get install -y libvirt-clients.*Nothing was removed/);
  for (const vm of manifest.vms) assert.ok(existsSync(vm.overlay), `${vm.overlay} kept`);
  // A manifest from before the field existed says nothing: down is careful too.
  const { started: _unknown, ...unsaid } = JSON.parse(readFileSync(manifestFile, 'utf8'));
  writeFileSync(manifestFile, JSON.stringify(unsaid));
  assert.equal((await basecow(['down', '--work-dir', workDir])).code, 1);
  for (const vm of manifest.vms) assert.ok(existsSync(vm.overlay), `${vm.overlay} kept`);
  writeFileSync(manifestFile, JSON.stringify({ ...unsaid, started: true }));
  const started = await basecow(['up', ...args.slice(1, -1)]);
  assert.equal(started.code, 0, started.stderr);
  assert.equal(JSON.parse(readFileSync(manifestFile, 'utf8')).started, true, 'a later up without --start keeps started');
});

test('down cleans up after an up that failed halfway; up refuses to drop VMs; a broken manifest is named', async () => {
  const workDir = join(dir, 'halfway');
  const vmsFile = join(dir, 'halfway.json');
  writeFileSync(vmsFile, JSON.stringify(['one', { name: 'two', extraDisks: [{ name: 'config', source: 'missing-config.img.zst' }] }]));
  const failed = await basecow(['up', '--vms', vmsFile, '--work-dir', workDir, '--cache-dir', cacheDir, '--domain-type', 'qemu']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /missing-config\.img\.zst/);
  const overlays = ['one', 'two'].map((name) => join(workDir, 'vms', name, 'primary.qcow2'));
  assert.ok(overlays.every((o) => existsSync(o)), 'the overlays were made before the failure');
  // What an `up` killed mid-extraction leaves: a temp disk named after its dead process.
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => dead.on('exit', resolve));
  const partial = join(workDir, 'vms', 'two', `.config.img.tmp-${dead.pid}-0badf00d`);
  writeFileSync(partial, 'half a disk');
  const down = await basecow(['down', '--work-dir', workDir, '--json']);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(overlays.filter((o) => existsSync(o)), [], 'down removed them');
  assert.equal(existsSync(partial), false, 'and the dead partial disk');

  const up = (vms: string, ...more: string[]) => basecow(['up', '--vms', vms, '--work-dir', workDir, '--cache-dir', cacheDir, '--domain-type', 'qemu', ...more]);
  assert.equal((await up('a,b')).code, 0);
  const shrunk = await up('a');
  assert.equal(shrunk.code, 2);
  assert.match(shrunk.stderr, /already has domain \S+-b, .*\/vms\/b\/domain\.xml, .*which this up would no longer list/);
  assert.ok(existsSync(join(workDir, 'vms', 'b', 'primary.qcow2')), "b's overlay is untouched");
  const regrouped = await up('a,b', '--group', 'elsewhere');
  assert.equal(regrouped.code, 2, 'a new group would rename the domains and lose the old ones');
  assert.match(regrouped.stderr, /already has domain \S+-a, domain \S+-b, which this up would no longer list/);

  writeFileSync(join(workDir, 'manifest.json'), '{ not json');
  const broken = await basecow(['down', '--work-dir', workDir]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /manifest\.json: not a valid manifest/);
  rmSync(join(workDir, 'manifest.json'));
});

test('up refuses names that sanitize to the same VM, before touching anything', async () => {
  const workDir = join(dir, 'clash');
  const result = await basecow(['up', '--vms', 'node 1,node/1', '--work-dir', workDir, '--cache-dir', cacheDir]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /both become 'node-1'/);
  assert.deepEqual(listDir(workDir), []);
  // An extra disk called nic0 would share its libvirt alias with the first NIC.
  const vmsFile = join(dir, 'nic-disk.json');
  writeFileSync(vmsFile, JSON.stringify([{ name: 'a', extraDisks: [{ name: 'nic0', source: 'whatever.img' }] }]));
  const reserved = await basecow(['up', '--vms', vmsFile, '--work-dir', workDir, '--cache-dir', cacheDir]);
  assert.equal(reserved.code, 2);
  assert.match(reserved.stderr, /extra disk name 'nic0' is used twice or reserved/);
  assert.deepEqual(listDir(workDir), []);
});

test('SIGINT or SIGTERM mid-extraction: exit 130/143, temp files removed, lock released, nothing published', async () => {
  // Large and incompressible enough that the extraction is still running when the signal comes.
  const big = join(dir, 'interrupt.img');
  await makeSparseFile(big, 768 * 1024 * 1024, [{ offset: 0, length: 512 * 1024 * 1024 }]);
  await runTool(['zstd', '-q', '-1', '-f', big, '-o', `${big}.zst`]);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const store = join(dir, `interrupt-${signal}`);
    const tmp = join(store, 'v1', 'tmp');
    const child = spawn(process.execPath, [BIN, 'prepare', '--image', `${big}.zst`, '--key', 'interrupted', '--cache-dir', store, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let ended = false;
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c))).finally(() => (ended = true));
    // The extraction has begun once its temp image exists.
    while (!ended && !(existsSync(tmp) && listDir(tmp).some((name) => name.endsWith('.img')))) await new Promise((r) => setTimeout(r, 10));
    assert.equal(ended, false, `prepare ended before the signal: ${stderr}`);
    child.kill(signal);
    assert.equal(await exited, code, stderr);
    assert.match(stderr, new RegExp(`interrupted by ${signal}; stopped without leaving anything half-written`));
    assert.deepEqual(listDir(tmp), [], 'temp files removed');
    assert.deepEqual(listDir(join(store, 'v1', 'locks')), [], 'lock released');
    assert.deepEqual(listDir(join(store, 'v1', 'bases')), [], 'nothing published');
  }
});

test('the bundled dist/cli.js runs on its own, compiled zstd addon included', async () => {
  const bundleCache = join(dir, 'bundle-cache');
  const result = await basecow(['prepare', '--cache-dir', bundleCache, '--json'], dir, BUNDLE);
  assert.equal(result.code, 0, result.stderr);
  const prepared = JSON.parse(result.stdout);
  assert.equal(prepared.cacheHit, 'miss', 'the bundle decompressed the demo image itself');
  assert.equal(prepared.apparentBytes, 64 * 1024 * 1024);
});

test('a work dir full of quotes, ampersands and angle brackets still gives valid, faithful XML', async () => {
  const workDir = join(dir, `it's a "work" dir & <more>`);
  const result = await basecow(['up', '--vms', `n'1,n&2`, '--work-dir', workDir, '--cache-dir', cacheDir, '--domain-type', 'qemu', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const manifest = JSON.parse(result.stdout);
  assert.deepEqual(manifest.vms.map((vm: { name: string }) => vm.name), ['n-1', 'n-2']);
  for (const vm of manifest.vms) {
    await runTool(['virt-xml-validate', vm.xml, 'domain']);
    const { stdout } = await runTool(['xmllint', '--xpath', 'string(/domain/devices/disk/source/@file)', vm.xml]);
    assert.equal(stdout.trim(), vm.overlay);
    assert.ok(vm.overlay.startsWith(workDir));
  }
});

test('an overlay that does not fit: the CLI hints at --recreate, the core message names no flag', async () => {
  const workDir = join(dir, 'no-fit');
  const nowhere = 'qemu+unix:///system?socket=/nonexistent/basecow-test.sock';
  const args = ['up', '--vms', 'a', '--work-dir', workDir, '--cache-dir', cacheDir, '--domain-type', 'qemu', '--connect', nowhere];
  assert.equal((await basecow(args)).code, 0);
  try {
    // The overlay has the base's 64 MiB; a larger minimum cannot be met without replacing it.
    const bigger = await basecow([...args, '--min-size', '1G']);
    assert.equal(bigger.code, 1, bigger.stderr);
    assert.match(bigger.stderr, /primary\.qcow2: existing overlay is \d+ bytes, smaller than the requested \d+; run up with --recreate/);
    // The core states the problem and leaves the wording of the way out to each front end.
    const options = { source: fileURLToPath(new URL('../../images/demo.img.zst', import.meta.url)), cacheDir, workDir, domainType: 'qemu' as const, connect: nowhere };
    await assert.rejects(coreUp({ ...options, vms: [{ name: 'a' }], minSizeBytes: 1 << 30 }), (e: Error) => {
      assert.ok(e instanceof BasecowError && e.code === 'overlay-not-reusable', `${e.name}: ${e.message}`);
      assert.doesNotMatch(e.message, /--/);
      return true;
    });
    await assert.rejects(coreUp({ ...options, vms: [{ name: 'b' }] }), (e: Error) => {
      assert.ok(e instanceof BasecowError && e.code === 'would-orphan', `${e.name}: ${e.message}`);
      assert.doesNotMatch(e.message, /--/);
      return true;
    });
    const orphaning = await basecow([...args.slice(0, 2), 'b', ...args.slice(3)]);
    assert.equal(orphaning.code, 2);
    assert.ok(orphaning.stderr.includes(`run \`basecow down --work-dir ${workDir}\` first`), orphaning.stderr);
  } finally {
    await coreDown({ workDir, connect: nowhere });
  }
});

test('prepare decodes a multi-frame source on as many threads as --decode-workers allows, and says how many in timings', async () => {
  // Two independent frames with their content sizes: the parallel path can place both.
  const parts = [join(dir, 'mf-a.img'), join(dir, 'mf-b.img')];
  await makeSparseFile(parts[0], 40 * 1024 * 1024, [{ offset: 0, length: 3 * 1024 * 1024 }]);
  await makeSparseFile(parts[1], 40 * 1024 * 1024, [{ offset: 20 * 1024 * 1024, length: 2 * 1024 * 1024 }]);
  for (const part of parts) await runTool(['zstd', '-q', '-f', part, '-o', `${part}.zst`]);
  const source = join(dir, 'multi-frame.img.zst');
  writeFileSync(source, Buffer.concat(parts.map((p) => readFileSync(`${p}.zst`))));
  const one = await basecow(['prepare', '--image', source, '--cache-dir', join(dir, 'mf-one'), '--decode-workers', '1', '--json']);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(JSON.parse(one.stdout).timings.workers, 1);
  const two = await basecow(['prepare', '--image', source, '--cache-dir', join(dir, 'mf-two'), '--decode-workers', '2', '--json']);
  assert.equal(two.code, 0, two.stderr);
  assert.equal(JSON.parse(two.stdout).timings.workers, 2);
  assert.equal(await sha256File(JSON.parse(two.stdout).base), await sha256File(JSON.parse(one.stdout).base));
  const bad = await basecow(['prepare', '--image', source, '--decode-workers', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--decode-workers must be a positive integer/);
});
