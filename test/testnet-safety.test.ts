import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, lstatSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BasecowError } from '../src/core/errors.js';
import { down } from '../src/core/testnet/down.js';
import { up as coreUp } from '../src/core/testnet/up.js';
import { withWorkDirLock } from '../src/core/testnet/work-dir-lock.js';
import type { Warning } from '../src/core/warnings.js';
import { tempDir } from './helpers.js';

// What `down` removes is decided by a file anyone with write access to the work dir can edit. These
// tests edit it (and plant symlinks) the way a confused script or a hostile neighbour could, and
// check that every file outside the work dir survives with its content.

const BIN = fileURLToPath(new URL('../../bin/basecow.js', import.meta.url));
const dir = tempDir();
const cacheDir = join(dir, 'cache');
// No libvirt is needed: the domains are never started, and down may then go on without libvirt.
const NOWHERE = 'qemu+unix:///system?socket=/nonexistent/basecow-test.sock';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function basecow(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let testnets = 0;

/** A fresh testnet of VMs a and b (b with an extra disk), made by `up` without --start. */
async function makeTestnet(): Promise<{ workDir: string; manifestFile: string; original: string; files: string[] }> {
  const workDir = join(dir, `work-${++testnets}`);
  const vmsFile = join(dir, `vms-${testnets}.json`);
  writeFileSync(join(dir, 'config.raw'), Buffer.alloc(4096, 7));
  writeFileSync(vmsFile, JSON.stringify(['a', { name: 'b', extraDisks: [{ name: 'config', source: 'config.raw' }] }]));
  const result = await basecow(['up', '--vms', vmsFile, '--work-dir', workDir, '--cache-dir', cacheDir, '--domain-type', 'qemu', '--connect', NOWHERE, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const manifestFile = join(workDir, 'manifest.json');
  const files = ['a', 'b'].flatMap((vm) => ['primary.qcow2', 'domain.xml'].map((f) => join(workDir, 'vms', vm, f)));
  files.push(join(workDir, 'vms', 'b', 'config.img'));
  for (const file of files) assert.ok(existsSync(file), `up made ${file}`);
  return { workDir, manifestFile, original: readFileSync(manifestFile, 'utf8'), files };
}

/** Files outside every work dir, each with content that must still be there after each down. */
function makeVictims(name: string): Map<string, string> {
  const victims = new Map<string, string>();
  const victimDir = join(dir, name);
  mkdirSync(victimDir, { recursive: true });
  for (const file of ['precious.qcow2', 'precious.xml', 'precious.img']) {
    const path = join(victimDir, file);
    const content = `${name}/${file} must survive`;
    writeFileSync(path, content);
    victims.set(path, content);
  }
  return victims;
}

function assertIntact(victims: Map<string, string>, context: string): void {
  for (const [path, content] of victims) {
    assert.ok(existsSync(path), `${context}: ${path} was removed`);
    assert.equal(readFileSync(path, 'utf8'), content, `${context}: ${path} changed`);
  }
}

test('down refuses a manifest whose paths or names are not the ones basecow derives, and removes nothing', async () => {
  const { workDir, manifestFile, original, files } = await makeTestnet();
  const victims = makeVictims('outside');
  const [victimQcow2, victimXml, victimImg] = [...victims.keys()];
  const climbOut = `${workDir}/vms/b/../../../${relative(dir, victimXml)}`;
  // Each edit touches VM b, listed after a: a down that removed VM by VM as it checked them would
  // already have removed a's files when it found b's problem.
  type Vm = { name: string; domain: string; xml: string; disks: { role: string; path: string }[] };
  const tamperings: { what: string; edit: (vms: Vm[]) => void; named: string }[] = [
    { what: 'an overlay path outside the work dir', edit: (vms) => (vms[1].disks[0].path = victimQcow2), named: victimQcow2 },
    { what: 'a domain XML path outside the work dir', edit: (vms) => (vms[1].xml = victimXml), named: victimXml },
    { what: 'an extra disk path outside the work dir', edit: (vms) => (vms[1].disks[1].path = victimImg), named: victimImg },
    // Spelled out, not joined: join would resolve the '..' away.
    { what: 'a path that climbs out with ..', edit: (vms) => (vms[1].xml = climbOut), named: climbOut },
    {
      // Lexically this is inside the work dir, and .. resolves back onto it; still not the derived path.
      what: 'an inside path spelled with ..',
      edit: (vms) => (vms[1].disks[0].path = `${workDir}/vms/a/../b/primary.qcow2`),
      named: `${workDir}/vms/a/../b/primary.qcow2`,
    },
    { what: 'an extra disk named like the overlay', edit: (vms) => (vms[1].disks[1].path = join(workDir, 'vms', 'a', 'primary.img')), named: 'primary.img' },
    { what: "another VM's directory", edit: (vms) => (vms[1].xml = join(workDir, 'vms', 'a', 'domain.xml')), named: join(workDir, 'vms', 'a', 'domain.xml') },
    { what: 'a domain that is not <group>-<name>', edit: (vms) => (vms[1].domain = 'someone-elses-vm'), named: 'someone-elses-vm' },
    { what: 'a VM name that sanitizes differently', edit: (vms) => (vms[1].name = '../../outside'), named: '../../outside' },
  ];
  for (const { what, edit, named } of tamperings) {
    const manifest = JSON.parse(original);
    edit(manifest.vms);
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const result = await basecow(['down', '--work-dir', workDir]);
    assertIntact(victims, what);
    for (const file of files) assert.ok(existsSync(file), `${what}: ${file} in the work dir was removed before the check`);
    assert.equal(result.code, 1, `${what}: down should fail\n${result.stderr}`);
    assert.ok(result.stderr.includes(manifestFile), `${what}: names the manifest: ${result.stderr}`);
    assert.ok(result.stderr.includes(named), `${what}: names ${named}: ${result.stderr}`);
    assert.match(result.stderr, /nothing was removed/);
    assert.ok(existsSync(manifestFile), `${what}: the manifest stays`);
  }

  // Through the core too: the code lets a front end tell this from other failures.
  const manifest = JSON.parse(original);
  manifest.vms[1].domain = 'someone-elses-vm';
  writeFileSync(manifestFile, JSON.stringify(manifest));
  await assert.rejects(down({ workDir, connect: NOWHERE }), (e: Error) => e instanceof BasecowError && e.code === 'manifest-untrusted' && e.message.includes(manifestFile));
  assertIntact(victims, 'core down');

  // The untouched manifest still tears down, and only what basecow made.
  writeFileSync(manifestFile, original);
  const result = await basecow(['down', '--work-dir', workDir]);
  assert.equal(result.code, 0, result.stderr);
  for (const file of files) assert.equal(existsSync(file), false, `${file} removed`);
  assertIntact(victims, 'a genuine down');
});

test('down refuses a symlink planted in place of vms/<name>/ or vms/, and removes nothing', async () => {
  for (const planted of ['vms/b', 'vms'] as const) {
    const { workDir, manifestFile, files } = await makeTestnet();
    // The link leads to a directory with the same file names outside the work dir: the paths in the
    // manifest are exactly the derived ones, so only a check of the directories can tell.
    const outside = join(dir, `outside-${planted.replace('/', '-')}-${testnets}`);
    mkdirSync(join(outside, '..'), { recursive: true });
    renameSync(join(workDir, planted), outside);
    symlinkSync(outside, join(workDir, planted));
    const outsideFiles = readdirSync(planted === 'vms' ? join(outside, 'b') : outside).map((f) => join(planted === 'vms' ? join(outside, 'b') : outside, f));
    assert.ok(outsideFiles.length >= 3, outsideFiles.join(', '));
    const before = new Map(outsideFiles.map((f) => [f, readFileSync(f)]));

    const result = await basecow(['down', '--work-dir', workDir]);
    assert.equal(result.code, 1, `${planted}: down should fail\n${result.stderr}`);
    assert.ok(result.stderr.includes(manifestFile), result.stderr);
    assert.ok(result.stderr.includes(`${join(workDir, planted)} is a symbolic link`), result.stderr);
    for (const [file, content] of before) {
      assert.ok(existsSync(file), `${planted}: ${file} behind the link was removed`);
      assert.ok(readFileSync(file).equals(content), `${planted}: ${file} changed`);
    }
    if (planted === 'vms/b') {
      // VM a comes first and is real: it must not be removed before b's link is found.
      for (const file of files.filter((f) => f.includes('/vms/a/'))) assert.ok(existsSync(file), `${file} was removed before the check`);
    }
    // Put the directory back, so that a genuine down cleans up.
    rmSync(join(workDir, planted));
    renameSync(outside, join(workDir, planted));
    assert.equal((await basecow(['down', '--work-dir', workDir])).code, 0);
  }
});

test('a symlink planted in place of an overlay or a domain XML: down removes the link, not its target', async () => {
  const { workDir, manifestFile } = await makeTestnet();
  const victims = makeVictims('link-targets');
  const [victimQcow2, victimXml, victimImg] = [...victims.keys()];
  const planted = [
    [join(workDir, 'vms', 'a', 'primary.qcow2'), victimQcow2],
    [join(workDir, 'vms', 'a', 'domain.xml'), victimXml],
    [join(workDir, 'vms', 'b', 'config.img'), victimImg],
  ];
  for (const [link, target] of planted) {
    rmSync(link);
    symlinkSync(target, link);
  }
  const result = await basecow(['down', '--work-dir', workDir]);
  assertIntact(victims, 'down through planted links');
  assert.equal(result.code, 0, result.stderr);
  for (const [link] of planted) assert.equal(lstatSync(link, { throwIfNoEntry: false }), undefined, `${link} is gone`);
  assert.equal(existsSync(manifestFile), false);
});

/** Every file under vms/ that up makes (console logs aside), relative to the work dir. */
function filesUnderVms(workDir: string): string[] {
  const found: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name !== 'console.log') found.push(relative(workDir, path));
    }
  };
  if (existsSync(join(workDir, 'vms'))) walk(join(workDir, 'vms'));
  return found.sort();
}

/** The manifest lists exactly the files on disk; without a manifest there are none. Returns the VM names. */
function assertManifestAgrees(workDir: string, context: string): string[] {
  const manifestFile = join(workDir, 'manifest.json');
  const manifest = existsSync(manifestFile) ? JSON.parse(readFileSync(manifestFile, 'utf8')) : undefined;
  type Vm = { name: string; xml: string; disks: { path: string }[] };
  const listed = ((manifest?.vms ?? []) as Vm[]).flatMap((vm) => [vm.xml, ...vm.disks.map((d) => d.path)]).map((p) => relative(workDir, p));
  assert.deepEqual(filesUnderVms(workDir), listed.sort(), `${context}: files under vms/ and the manifest disagree`);
  // No lock, owner file or temp manifest is left behind either.
  assert.deepEqual(readdirSync(workDir).filter((name) => name !== 'vms' && name !== 'manifest.json'), [], `${context}: debris in the work dir`);
  return ((manifest?.vms ?? []) as Vm[]).map((vm) => vm.name);
}

test('up beside up, and up beside down, on one work dir: the manifest and the files always agree', async () => {
  const workDir = join(dir, 'concurrent');
  const up = (vms: string) => basecow(['up', '--vms', vms, '--work-dir', workDir, '--cache-dir', cacheDir, '--domain-type', 'qemu', '--connect', NOWHERE]);
  const downRun = () => basecow(['down', '--work-dir', workDir]);
  // Warm the store, so that both processes of a round spend their time on the work dir.
  assert.equal((await basecow(['prepare', '--cache-dir', cacheDir])).code, 0);
  for (let round = 1; round <= 3; round++) {
    // Two testnets that cannot both be: whichever runs second finds the other's VMs in the manifest
    // and is refused, unless both ran on the same empty work dir at once (then each would write its
    // own manifest over the other's, and one set of files would be listed nowhere).
    const [abc, five] = await Promise.all([up('a,b,c'), up('5')]);
    assert.deepEqual([abc.code, five.code].sort(), [0, 2], `round ${round}: one up wins, the other is refused\n${abc.stderr}\n${five.stderr}`);
    const names = assertManifestAgrees(workDir, `round ${round}, up beside up`);
    assert.deepEqual(names, abc.code === 0 ? ['a', 'b', 'c'] : ['vm1', 'vm2', 'vm3', 'vm4', 'vm5']);

    // The same up again beside a down: in either order both succeed, and what is left agrees.
    const [again, gone] = await Promise.all([up(names.join(',')), downRun()]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(gone.code, 0, gone.stderr);
    assertManifestAgrees(workDir, `round ${round}, up beside down`);

    assert.equal((await downRun()).code, 0);
    assert.deepEqual(assertManifestAgrees(workDir, `round ${round}, after down`), []);
    assert.deepEqual(filesUnderVms(workDir), []);
  }
});

test('an up on a busy work dir warns once, waits, then fails naming the holder, having touched nothing', async () => {
  const workDir = join(dir, 'busy');
  let release!: () => void;
  let held!: () => void;
  const isHeld = new Promise<void>((resolve) => (held = resolve));
  // This process holds the work dir as another up or down would, until the waiter has given up.
  const holder = withWorkDirLock(workDir, () => {
    held();
    return new Promise<void>((resolve) => (release = resolve));
  });
  await isHeld;
  const warnings: Warning[] = [];
  try {
    await assert.rejects(
      coreUp({ source: fileURLToPath(new URL('../../images/demo.img.zst', import.meta.url)), cacheDir, workDir, vms: [{ name: 'a' }], domainType: 'qemu', connect: NOWHERE, workDirWaitMs: 300, lockTiming: { pollMs: 50 }, onWarning: (w) => warnings.push(w) }),
      (e: Error) => e instanceof BasecowError && e.code === 'work-dir-busy' && e.message.includes(`pid ${process.pid}`) && !e.message.includes('--'),
    );
  } finally {
    release();
    await holder;
  }
  assert.deepEqual(warnings.map((w) => w.code), ['work-dir-busy']);
  assert.ok(warnings[0].message.includes(`pid ${process.pid}`), warnings[0].message);
  assert.deepEqual(readdirSync(workDir), [], 'no manifest, no VM files, and the lock released');
});
