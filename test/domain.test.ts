import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTemplate, renderDomain, xmlEscape, type DomainView } from '../src/core/libvirt/domain-xml.js';
import { explainAccessDenied } from '../src/core/libvirt/access-hint.js';
import { mapLimited } from '../src/core/shared/map-limited.js';
import { UsageError } from '../src/core/errors.js';
import { sanitizeVmName, sanitizeVmNames, vmIdentity } from '../src/core/testnet/identity.js';
import { parseSize } from '../src/inputs/size.js';
import { parseNetwork, parseVmList } from '../src/inputs/vms.js';
import { runTool } from '../src/core/exec/run-tool.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
const { text: template } = await loadTemplate();

function view(overrides: Partial<DomainView> = {}): DomainView {
  const id = vmIdentity('grp', 'vm1');
  return {
    name: id.domain,
    vmName: 'vm1',
    group: 'grp',
    index: 0,
    uuid: id.uuid,
    mac: id.mac,
    domainType: 'qemu',
    arch: 'x86_64',
    machine: 'q35',
    memoryMiB: 256,
    vcpus: 1,
    hostCpu: false,
    onReboot: 'restart',
    disks: [{ alias: 'ua-basecow-primary', role: 'primary', path: '/w/vms/vm1/primary.qcow2', format: 'qcow2', target: 'vda', cache: 'unsafe', discard: 'unmap', backingFile: '/c/v1/bases/sha256-0.img' }],
    nics: [],
    consoleLog: '/w/vms/vm1/console.log',
    ...overrides,
  };
}

async function validate(xml: string, name: string): Promise<string> {
  const path = join(dir, `${name}.xml`);
  writeFileSync(path, xml);
  await runTool(['virt-xml-validate', path, 'domain']);
  return path;
}

async function xpath(path: string, expr: string): Promise<string> {
  return (await runTool(['xmllint', '--xpath', expr, path])).stdout.replace(/\n$/, '');
}

test('XML escaping uses the five XML entities, not HTML ones', () => {
  assert.equal(xmlEscape(`a&b'c"d<e>f/g`), 'a&amp;b&apos;c&quot;d&lt;e&gt;f/g');
});

test('hostile paths render into valid XML that reads back as the same path', async () => {
  const hostile = `/tmp/it's a "dir" & <more>/../x y/primary.qcow2`;
  const log = `/tmp/log & 'quote'/console.log`;
  const base = `/c/it's & <base>.img`;
  const xml = renderDomain(template, view({ disks: [{ ...view().disks[0], path: hostile, backingFile: base }], consoleLog: log, cmdline: `console=ttyS0 x="<&>"` , kernel: '/k & k/vmlinuz' }));
  const path = await validate(xml, 'hostile');
  assert.equal(await xpath(path, 'string(/domain/devices/disk/source/@file)'), hostile);
  assert.equal(await xpath(path, 'string(/domain/devices/disk/backingStore/source/@file)'), base);
  assert.equal(await xpath(path, 'string(/domain/devices/disk/backingStore/source/seclabel/@relabel)'), 'no');
  assert.equal(await xpath(path, 'string(/domain/devices/serial/source/@path)'), log);
  assert.equal(await xpath(path, 'string(/domain/os/cmdline)'), `console=ttyS0 x="<&>"`);
  assert.ok(!xml.includes('&#39;') && !xml.includes('&#x2F;'), 'no HTML entities');
});

test('every variant of the default template validates: kvm/qemu, kernel boot, UEFI, NICs, extra disks', async () => {
  const variants: [string, Partial<DomainView>][] = [
    ['kvm-disk-boot', { domainType: 'kvm', hostCpu: true }],
    ['qemu-kernel', { kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img', cmdline: 'console=ttyS0' }],
    ['uefi', { loader: { path: '/usr/share/OVMF/OVMF_CODE.fd', nvram: '/w/vms/vm1/VARS.fd' } }],
    [
      'nics-and-disks',
      {
        nics: [
          { type: 'bridge', bridge: 'br0', mac: '06:bc:00:00:00:01', alias: 'ua-basecow-nic0' },
          { type: 'network', network: 'default', mac: '06:bc:00:00:00:02', alias: 'ua-basecow-nic1' },
          { type: 'ethernet', tap: 'tap7', mac: '06:bc:00:00:00:03', alias: 'ua-basecow-nic2' },
        ],
        disks: [...view().disks, { alias: 'ua-basecow-config', role: 'extra', path: '/w/vms/vm1/config.img', format: 'raw', target: 'vdb', cache: 'unsafe', discard: 'unmap' }],
      },
    ],
  ];
  for (const [name, overrides] of variants) {
    const path = await validate(renderDomain(template, view(overrides)), name);
    if (name === 'nics-and-disks') {
      assert.equal(await xpath(path, 'string(/domain/devices/disk[2]/driver/@type)'), 'raw');
      assert.equal(await xpath(path, 'string(/domain/devices/disk[1]/driver/@type)'), 'qcow2');
      assert.equal(await xpath(path, 'count(/domain/devices/interface)'), '3');
    }
  }
});

test('a caller template gets the same view', async () => {
  const custom = join(dir, 'custom.mustache');
  writeFileSync(custom, '<domain type="{{domainType}}"><name>{{name}}</name><uuid>{{uuid}}</uuid>{{#disks}}<d a="{{alias}}" p="{{path}}"/>{{/disks}}</domain>');
  const { text } = await loadTemplate(custom);
  const v = view({ disks: [{ ...view().disks[0], path: '/a&b' }] });
  assert.equal(renderDomain(text, v), `<domain type="qemu"><name>${v.name}</name><uuid>${v.uuid}</uuid><d a="ua-basecow-primary" p="/a&amp;b"/></domain>`);
  await assert.rejects(loadTemplate(join(dir, 'missing.mustache')), (e: Error) => e instanceof UsageError && e.message.includes('missing.mustache'));
});

test('identity: deterministic, locally administered unicast MAC, RFC 9562 v8 UUID, group-scoped', () => {
  const a = vmIdentity('g1', 'node-1');
  assert.deepEqual(vmIdentity('g1', 'node-1'), a);
  assert.match(a.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  const first = parseInt(a.mac.slice(0, 2), 16);
  assert.equal(first & 0b01, 0, 'unicast');
  assert.equal(first & 0b10, 0b10, 'locally administered');
  assert.match(a.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const b = vmIdentity('g2', 'node-1');
  assert.notEqual(a.mac, b.mac);
  assert.notEqual(a.uuid, b.uuid);
  assert.equal(a.domain, 'g1-node-1');
  const macs = new Set(Array.from({ length: 1000 }, (_, i) => vmIdentity('g', `vm${i}`).mac));
  assert.equal(macs.size, 1000);
});

test('VM names are sanitized to a safe charset and clashes are refused', () => {
  assert.equal(sanitizeVmName('node 1'), 'node-1');
  assert.equal(sanitizeVmName('../etc/passwd'), 'etc-passwd');
  assert.equal(sanitizeVmName(`it's <&> "x"`), 'it-s-x');
  assert.equal(sanitizeVmName('..x'), 'x');
  assert.throws(() => sanitizeVmName('..'), UsageError);
  assert.throws(() => sanitizeVmName('///'), UsageError);
  assert.throws(() => sanitizeVmNames(['node 1', 'node/1']), (e: Error) => e instanceof UsageError && /both become 'node-1'/.test(e.message));
  assert.deepEqual(sanitizeVmNames(['a', 'b c']), ['a', 'b-c']);
});

test('sizes parse as qemu-img writes them, and nonsense is refused', () => {
  assert.equal(parseSize('32G'), 32 * 1024 ** 3);
  assert.equal(parseSize('512M'), 512 * 1024 ** 2);
  assert.equal(parseSize('1.5K'), 1536);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('2GiB'), 2 * 1024 ** 3);
  for (const bad of ['', 'G', '-1G', '12X', '1e3']) assert.throws(() => parseSize(bad), UsageError, bad);
});

test('--vms takes a count, a list or a JSON file; --network takes none, bridge, network or tap', () => {
  assert.deepEqual(parseVmList('2', '--vms'), [{ name: 'vm1' }, { name: 'vm2' }]);
  assert.deepEqual(parseVmList('a, b', '--vms'), [{ name: 'a' }, { name: 'b' }]);
  assert.throws(() => parseVmList('0', "input 'vms'"), (e: Error) => e instanceof UsageError && e.message.startsWith("input 'vms' 0:"));
  assert.throws(() => parseVmList('a,,b', '--vms'), UsageError);
  const file = join(dir, 'vms.json');
  writeFileSync(file, JSON.stringify({ vms: [{ name: 'n1', vcpus: 2, extraDisks: [{ source: 'cfg.img' }], nics: ['bridge:br0', { type: 'tap', tap: 'tap3' }] }] }));
  const [vm] = parseVmList(file, '--vms');
  assert.equal(vm.vcpus, 2);
  assert.equal(vm.extraDisks?.[0].source, join(dir, 'cfg.img'), 'relative to the file');
  assert.deepEqual(vm.nics, [{ type: 'bridge', bridge: 'br0' }, { type: 'tap', tap: 'tap3' }]);
  writeFileSync(file, JSON.stringify([{ name: 'n1', vcpus: 0 }]));
  assert.throws(() => parseVmList(file, '--vms'), (e: Error) => e instanceof UsageError && e.message.includes(file) && /vcpus/.test(e.message));
  assert.equal(parseNetwork('none', '--network'), undefined);
  assert.deepEqual(parseNetwork('network:default', '--network'), { type: 'network', network: 'default' });
  for (const bad of ['bridge:', 'wifi:x', 'bridge:a b', 'br0']) assert.throws(() => parseNetwork(bad, '--network'), UsageError, bad);
});

test('access hint: names the first directory QEMU\'s user cannot enter, for both of libvirt\'s messages', async () => {
  const root = tempDir('basecow-access-');
  chmodSync(root, 0o755);
  const closed = join(root, 'closed');
  mkdirSync(join(closed, 'inner'), { recursive: true });
  chmodSync(closed, 0o750);
  const file = join(closed, 'inner', 'base.img');
  writeFileSync(file, '');
  const probed = `Cannot access backing file '${file}' of storage file '/x/primary.qcow2' (as uid:64055, gid:64055): Permission denied`;
  const hint = await explainAccessDenied(probed);
  assert.ok(hint?.startsWith(`${closed} (mode 0750, owner uid ${process.getuid!()}) does not let uid 64055, the user QEMU runs as, reach ${file}.`), hint);
  assert.ok(hint?.endsWith(`chmod o+x '${closed}'`), hint);
  // QEMU's own message does not say who it runs as: only the bits for other users count.
  assert.match((await explainAccessDenied(`Could not open '${file}': Permission denied`)) ?? '', /does not let other users, QEMU's user among them, reach/);
  // The group bits count for QEMU's group.
  const gid = statSync(closed).gid;
  assert.equal(await explainAccessDenied(`Cannot access backing file '${file}' (as uid:64055, gid:${gid}): Permission denied`), undefined);
  assert.equal(await explainAccessDenied(`Could not open '${file}': No such file or directory`), undefined);
});

test('access hint: a directory QEMU\'s user enters through a supplementary group is not blamed', { skip: !qemuUserWithSupplementaryGroup() && 'needs the libvirt-qemu user with a supplementary group' }, async () => {
  const { uid, gid, supplementary } = qemuUserWithSupplementaryGroup()!;
  const root = tempDir('basecow-access-');
  chmodSync(root, 0o755);
  const shared = join(root, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o750);
  const file = join(shared, 'base.img');
  writeFileSync(file, '');
  const message = `Cannot access backing file '${file}' (as uid:${uid}, gid:${gid}): Permission denied`;
  // Owned by a group the user is not in: blamed.
  chownSync(shared, 0, 0);
  assert.match((await explainAccessDenied(message)) ?? '', new RegExp(`^${shared} \\(mode 0750`));
  // Owned by its supplementary group: reachable, so no hint.
  chownSync(shared, 0, supplementary);
  assert.equal(await explainAccessDenied(message), undefined);
});

/** libvirt-qemu's ids, and a group it holds besides its primary one (Debian: primary kvm, plus libvirt-qemu). */
function qemuUserWithSupplementaryGroup(): { uid: number; gid: number; supplementary: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string): number[] => execFileSync('id', [flag, 'libvirt-qemu'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    const [uid] = id('-u');
    const [gid] = id('-g');
    const supplementary = id('-G').find((g) => g !== gid && g !== 0);
    return supplementary === undefined ? undefined : { uid, gid, supplementary };
  } catch {
    return undefined;
  }
}

test('mapLimited: after a failure nothing new starts, calls in flight are awaited, the first failure rejects', async () => {
  const started: number[] = [];
  const finished: number[] = [];
  await assert.rejects(
    mapLimited([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      if (item === 0) throw new Error('first fails');
      await new Promise((resolve) => setTimeout(resolve, 30));
      finished.push(item);
    }),
    /first fails/,
  );
  assert.deepEqual(started, [0, 1], 'item 1 was already running; nothing started after the failure');
  assert.deepEqual(finished, [1], 'the call in flight finished before mapLimited rejected');
});
