// End to end through a real libvirtd and QEMU (TCG): a testnet of VMs boots from one shared base.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../src/core/testnet/manifest.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { createDomain, listDomains } from '../src/core/libvirt/virsh.js';
import { isRoot, sha256File, tempDir } from './helpers.js';
import { readyTestGuest, type TestGuest } from './support/test-guest.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO, 'bin/basecow.js');
const URI = 'qemu:///system';
const skip = !isRoot() && 'the e2e test starts a root libvirtd';

async function basecow(args: string[]): Promise<string> {
  return (await runTool([process.execPath, BIN, ...args])).stdout;
}

async function waitUntilGone(domains: string[], timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const known = await listDomains(URI);
    const present = domains.filter((d) => known.has(d));
    if (present.length === 0) return;
    if (Date.now() > deadline) throw new Error(`domains still present after ${timeoutMs} ms: ${present.join(', ')}`);
    await sleep(500);
  }
}

/** Console lines without the carriage returns the guest tty adds and the firmware's escape codes. */
function consoleLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r/g, ''))
    .map((l) => l.slice(Math.max(0, l.indexOf('basecow: '))))
    .filter((l) => l.startsWith('basecow: '));
}

/** What the VM left at 1 MiB, read through the overlay (and so through to the base where it did not write). */
async function readOverlayBlock(overlay: string, dir: string): Promise<string> {
  const out = join(dir, `flat-${Math.random().toString(36).slice(2)}.raw`);
  await runTool(['qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw', overlay, out]);
  const bytes = readFileSync(out).subarray(1024 * 1024, 1024 * 1024 + 4096);
  rmSync(out);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('latin1');
}

let guest: TestGuest;
before(async () => {
  if (skip) return;
  guest = await readyTestGuest();
});

test('3 VMs boot concurrently from one base through libvirt, each writing only its own overlay', { skip, timeout: 600_000 }, async () => {
  // QEMU runs as libvirt-qemu, as on a runner: everything it opens must be reachable by that user,
  // so the test dir is opened up (mkdtemp makes it 0700) and the boot files are copied out of the
  // guest cache under root's home.
  const dir = tempDir('basecow-e2e-');
  chmodSync(dir, 0o755);
  const boot = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img') };
  copyFileSync(guest.kernel, boot.kernel);
  copyFileSync(guest.initrd, boot.initrd);
  const workDir = join(dir, 'work');
  const cacheDir = join(dir, 'cache');
  const common = ['--image', guest.image, '--cache-dir', cacheDir, '--work-dir', workDir];
  const prepared = JSON.parse(await basecow(['prepare', '--image', guest.image, '--cache-dir', cacheDir, '--json']));
  const baseDigest = await sha256File(prepared.base);

  const manifest = JSON.parse(
    await basecow([
      'up', ...common, '--vms', 'node-a,node-b,node-c', '--domain-type', 'qemu', '--memory', '256',
      '--kernel', boot.kernel, '--initrd', boot.initrd, '--cmdline', `${guest.cmdline}{{vmName}}`,
      '--start', '--json',
    ]),
  ) as Manifest;
  assert.equal(manifest.base, prepared.base);
  assert.equal(manifest.cacheHit, 'l1');
  assert.equal(manifest.started, true);
  await waitUntilGone(manifest.vms.map((vm) => vm.domain));

  for (const vm of manifest.vms) {
    const lines = consoleLines(vm.consoleLog);
    assert.ok(lines.includes(`basecow: base-marker=${guest.marker}`), `${vm.name} read the base: ${lines.join(' | ')}`);
    assert.ok(lines.includes(`basecow: wrote=BASECOW-VM:${vm.name}`), `${vm.name} wrote: ${lines.join(' | ')}`);
    assert.ok(lines.includes('basecow: done'));
    assert.equal(await readOverlayBlock(vm.overlay, dir), `BASECOW-VM:${vm.name}`, `${vm.overlay} holds its own VM's write`);
  }
  assert.equal(await sha256File(prepared.base), baseDigest, 'the shared base is unchanged');
  const baseAfterRun = statSync(prepared.base);
  assert.deepEqual([baseAfterRun.uid, baseAfterRun.gid, baseAfterRun.mode & 0o777], [process.getuid!(), process.getgid!(), 0o444], 'libvirt did not relabel the shared base');
  for (const vm of manifest.vms) assert.equal(statSync(vm.overlay).uid, process.getuid!(), `${vm.overlay} was given back to its owner`);

  // Restart one VM: its second boot must see what its first boot wrote.
  const restarted = manifest.vms[1];
  await createDomain(URI, restarted.xml);
  await waitUntilGone([restarted.domain]);
  assert.ok(consoleLines(restarted.consoleLog).includes(`basecow: previous-write=BASECOW-VM:${restarted.name}`));
  assert.equal(await sha256File(prepared.base), baseDigest);

  // Start them again and tear down while they may still be running.
  await basecow(['up', ...common, '--vms', 'node-a,node-b,node-c', '--domain-type', 'qemu', '--memory', '256',
    '--kernel', boot.kernel, '--initrd', boot.initrd, '--cmdline', `${guest.cmdline}{{vmName}}`, '--start']);
  await basecow(['down', '--work-dir', workDir]);
  const { stdout } = await runTool(['virsh', '-q', '-c', URI, 'list', '--all', '--name']);
  for (const vm of manifest.vms) {
    assert.ok(!stdout.split('\n').includes(vm.domain), `${vm.domain} is gone`);
    assert.equal(existsSync(vm.overlay), false, `${vm.overlay} is removed`);
  }
  assert.equal(await sha256File(prepared.base), baseDigest);
});

test('a base QEMU cannot reach: up --start names the directory in the way and the fix', { skip, timeout: 300_000 }, async () => {
  const dir = tempDir('basecow-e2e-private-');
  chmodSync(dir, 0o700);
  const open = tempDir('basecow-e2e-open-');
  chmodSync(open, 0o755);
  const boot = { kernel: join(open, 'vmlinuz'), initrd: join(open, 'initrd.img') };
  copyFileSync(guest.kernel, boot.kernel);
  copyFileSync(guest.initrd, boot.initrd);
  mkdirSync(join(open, 'work'));
  const failed = await runTool([
    process.execPath, BIN, 'up', '--image', guest.image, '--cache-dir', join(dir, 'cache'), '--work-dir', join(open, 'work'),
    '--vms', 'lonely', '--domain-type', 'qemu', '--memory', '256', '--kernel', boot.kernel, '--initrd', boot.initrd, '--start',
  ]).then(
    () => assert.fail('up --start succeeded with a base QEMU cannot reach'),
    (error: Error) => error.message,
  );
  assert.match(failed, /Permission denied/);
  assert.ok(failed.includes(`${dir} (mode 0700, owner uid 0) does not let `), failed);
  assert.ok(failed.includes(`chmod o+x '${dir}'`), failed);
  const known = await listDomains(URI);
  assert.equal([...known].some((d) => d.endsWith('-lonely')), false, 'no domain was left behind');
});
