// The action as a self-hosted runner runs it: not as root, but as a user in the kvm and libvirt
// groups whose home is 0750 (Ubuntu's default for new users), with the default cache-dir. The VMs
// must boot under qemu:///system, and that user must read their console logs during and after.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type { Manifest } from '../src/core/testnet/manifest.js';
import { listDomains } from '../src/core/libvirt/virsh.js';
import { isRoot, tempDir } from './helpers.js';
import { REPO, logOf, runStep, type Runner } from './support/action-runner.js';
import { readyTestGuest, type TestGuest } from './support/test-guest.js';

const USER = 'basecow-runner';
const HOME = `/home/${USER}`;
const URI = 'qemu:///system';
const skip = !isRoot() && 'the test creates a runner user and starts a root libvirtd';

let uid = 0;
let gid = 0;
let guest: TestGuest;
before(async () => {
  if (skip) return;
  guest = await readyTestGuest();
  try {
    execFileSync('id', [USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--create-home', '--home-dir', HOME, '--groups', 'kvm,libvirt', '--shell', '/bin/bash', USER]);
  }
  execFileSync('usermod', ['-a', '-G', 'kvm,libvirt', USER]);
  chmodSync(HOME, 0o750);
  uid = Number(execFileSync('id', ['-u', USER]).toString());
  gid = Number(execFileSync('id', ['-g', USER]).toString());
});

const asRunner = (path: string): void => void execFileSync('chown', ['-R', `${uid}:${gid}`, path]);

test('as a non-root runner user (kvm, libvirt; home 0750) with the default cache-dir: main boots the VMs, the user reads their console logs, post tears down', { skip, timeout: 600_000 }, async () => {
  // The runner's files live in its home, as under actions-runner/_work; the action too.
  const root = join(HOME, `job-${process.pid}`);
  const runner: Runner = { workspace: join(root, 'workspace'), temp: join(root, 'temp'), toolCache: join(root, 'tool-cache'), env: { HOME } };
  for (const dir of [runner.workspace, runner.temp, runner.toolCache]) mkdirSync(dir, { recursive: true });
  const action = join(root, 'actions', 'basecow');
  cpSync(join(REPO, 'dist'), join(action, 'dist'), { recursive: true });
  copyFileSync(join(REPO, 'action.yml'), join(action, 'action.yml'));
  copyFileSync(guest.image, join(runner.workspace, 'guest.img'));
  // Boot files must be reachable by QEMU's user, which the 0750 home keeps out (the README says so).
  const boot = tempDir('basecow-runner-boot-');
  chmodSync(boot, 0o755);
  copyFileSync(guest.kernel, join(boot, 'vmlinuz'));
  copyFileSync(guest.initrd, join(boot, 'initrd.img'));
  asRunner(root);
  const cacheDir = `/var/tmp/basecow-${uid}`;
  after(() => rmSync(cacheDir, { recursive: true, force: true }));
  after(() => rmSync(root, { recursive: true, force: true }));

  const inputs = {
    image: 'guest.img',
    'remote-cache': 'none',
    vms: 'r1,r2',
    start: 'true',
    'domain-type': 'qemu',
    memory: '256',
    kernel: join(boot, 'vmlinuz'),
    initrd: join(boot, 'initrd.img'),
    cmdline: `${guest.cmdline}{{vmName}}`,
  };
  const main = await runStep(runner, 'main', { inputs, distDir: join(action, 'dist'), uid, gid });
  assert.equal(main.code, 0, logOf(main));
  assert.ok(main.outputs['base-image'].startsWith(`${cacheDir}/`), `the default store: ${main.outputs['base-image']}`);
  const manifest = JSON.parse(readFileSync(main.outputs.manifest, 'utf8')) as Manifest;
  assert.equal(manifest.started, true);

  // Wait for both guests to power off, reading their logs as the runner's user meanwhile.
  const readAsRunner = (path: string): string => execFileSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', 'cat', path]).toString();
  const deadline = Date.now() + 240_000;
  for (;;) {
    for (const vm of manifest.vms) readAsRunner(vm.consoleLog);
    const known = await listDomains(URI);
    if (!manifest.vms.some((vm) => known.has(vm.domain))) break;
    assert.ok(Date.now() < deadline, 'the guests did not power off in time');
    await sleep(500);
  }
  for (const vm of manifest.vms) {
    const log = readAsRunner(vm.consoleLog).replace(/\r/g, '');
    assert.match(log, new RegExp(`basecow: base-marker=${guest.marker}`), `${vm.name} booted from the base: ${log.slice(-500)}`);
    assert.match(log, /basecow: done/);
  }

  const post = await runStep(runner, 'post', { state: main.state, distDir: join(action, 'dist'), uid, gid });
  assert.equal(post.code, 0, logOf(post));
  for (const vm of manifest.vms) {
    assert.equal(existsSync(vm.overlay), false, `${vm.overlay} removed`);
    assert.match(readAsRunner(vm.consoleLog), /basecow: done/, 'console logs stay readable after teardown');
  }
});
