import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { down } from '../src/core/testnet/down.js';
import { identityHash, uniqueMacs, vmIdentity, type IdentityHash } from '../src/core/testnet/identity.js';
import { up } from '../src/core/testnet/up.js';
import type { VmSpec } from '../src/core/testnet/types.js';
import { tempDir } from './helpers.js';

// A MAC carries 32 bits of hash, so a real collision needs tens of thousands of NICs to be likely.
// These tests force one by injecting a hash that gives several seeds the same bytes.

const DEMO_IMAGE = fileURLToPath(new URL('../../images/demo.img.zst', import.meta.url));
const NOWHERE = 'qemu+unix:///system?socket=/nonexistent/basecow-test.sock';
const SAME = Buffer.alloc(32, 0x5a);

/** The real hash, except that every seed in `colliding` draws SAME. */
function collide(...colliding: string[]): IdentityHash {
  return (group, seed) => (colliding.includes(seed) ? SAME : identityHash(group, seed));
}

const macsOf = (map: Map<string, string>): [string, string][] => [...map].sort(([a], [b]) => a.localeCompare(b));

test('uniqueMacs settles forced collisions, deterministically and whatever the order of the seeds', () => {
  // a and b draw the same MAC, and so does b's first rehash: b must go on to its second.
  const hash = collide('a', 'b', 'b#mac1');
  const seeds = ['a', 'b', 'c'];
  const macs = uniqueMacs('grp', seeds, hash);
  assert.equal(macs.size, 3);
  assert.equal(new Set(macs.values()).size, 3, `MACs clash: ${macsOf(macs).join(' ')}`);
  // The seed first in sorted order keeps its first choice; the other rehashes with a counter.
  assert.equal(macs.get('a'), vmIdentity('grp', 'a', hash).mac);
  assert.equal(macs.get('b'), vmIdentity('grp', 'b#mac2', hash).mac);
  assert.equal(macs.get('c'), vmIdentity('grp', 'c').mac, 'a seed without a clash keeps its own MAC');
  for (const mac of macs.values()) assert.match(mac, /^06:bc(:[0-9a-f]{2}){4}$/, 'still locally administered unicast');
  // The same seeds in any order, listed twice or not, give the same MACs: a VM keeps its MAC when
  // the list is reordered between two runs of up.
  for (const order of [['c', 'b', 'a'], ['b', 'a', 'c'], ['a', 'b', 'c', 'b']]) {
    assert.deepEqual(macsOf(uniqueMacs('grp', order, hash)), macsOf(macs), `order ${order.join(',')}`);
  }
  // Without a collision nothing changes: every seed keeps the MAC of its own identity.
  const plain = uniqueMacs('grp', seeds);
  for (const seed of seeds) assert.equal(plain.get(seed), vmIdentity('grp', seed).mac);
});

test('up with an injected identity hash: the MACs in the manifest and in every domain XML are unique', async () => {
  const dir = tempDir();
  const workDir = join(dir, 'work');
  // VM a's MAC, VM b's second NIC and VM c's MAC all draw the same bytes.
  const hash = collide('a', 'b#nic1', 'c');
  const vms: VmSpec[] = [
    { name: 'a' },
    { name: 'b', nics: [{ type: 'bridge', bridge: 'br0' }, { type: 'bridge', bridge: 'br1' }] },
    { name: 'c' },
  ];
  const options = { source: DEMO_IMAGE, cacheDir: join(dir, 'cache'), workDir, domainType: 'qemu' as const, network: { type: 'bridge' as const, bridge: 'br0' }, connect: NOWHERE, identityHash: hash };
  try {
    const manifest = await up({ ...options, vms });
    const nicMacs = manifest.vms.flatMap((vm) => [...readFileSync(vm.xml, 'utf8').matchAll(/<mac address='([^']+)'\/>/g)].map((m) => m[1]));
    assert.equal(nicMacs.length, 4, 'one MAC per NIC');
    assert.equal(new Set(nicMacs).size, 4, `NIC MACs clash: ${nicMacs.join(' ')}`);
    assert.equal(new Set(manifest.vms.map((vm) => vm.mac)).size, 3);
    for (const vm of manifest.vms) assert.ok(nicMacs.includes(vm.mac), `${vm.name}'s manifest MAC is its first NIC's`);
    // The injected hash was used (a, first in sorted order, keeps the forced MAC), so the clash was real.
    assert.equal(manifest.vms[0].mac, vmIdentity(manifest.group, 'a', hash).mac);

    // Listed in another order, every VM keeps its MAC.
    const again = await up({ ...options, vms: [...vms].reverse() });
    const macByName = (m: typeof manifest): [string, string][] => m.vms.map((vm): [string, string] => [vm.name, vm.mac]).sort();
    assert.deepEqual(macByName(again), macByName(manifest));
  } finally {
    await down({ workDir, connect: NOWHERE });
  }
});
