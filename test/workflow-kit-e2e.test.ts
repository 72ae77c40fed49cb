// The kit end to end: the reusable workflow, run by the harness from a caller repository that holds
// no basecow, prepares the test guest's base with the real bundled action, boots two VMs through a
// real libvirtd (TCG unless BASECOW_E2E_DOMAIN_TYPE=kvm), runs the caller's test command against
// the manifest, and leaves no domain, overlay or temp file behind; a second run on the same store
// hits L1, fails its tests on purpose and uploads the console logs before tearing down.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runTool } from '../src/core/exec/run-tool.js';
import { runWorkflowJob, type RunOptions } from './support/workflow-runner.js';
import { isRoot, tempDir } from './helpers.js';
import { readyTestGuest, type TestGuest } from './support/test-guest.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const KIT = join(REPO, '.github/workflows/local-system-tests.yml');
const URI = 'qemu:///system';
const DOMAIN_TYPE = process.env.BASECOW_E2E_DOMAIN_TYPE ?? 'qemu';
const skip = !isRoot() && 'the e2e test starts a root libvirtd';

let guest: TestGuest;
before(async () => {
  if (skip) return;
  guest = await readyTestGuest();
});

/** The caller's repository: the guest image, a domain template that boots the test kernel, and a test script. */
function callerRepository(dir: string): string {
  const caller = join(dir, 'caller');
  mkdirSync(join(caller, 'ci'), { recursive: true });
  mkdirSync(join(caller, 'images'));
  copyFileSync(guest.image, join(caller, 'images/guest.img.zst'));
  // QEMU runs as libvirt-qemu: the kernel and initrd go where that user can read them.
  const boot = join(dir, 'boot');
  mkdirSync(boot);
  copyFileSync(guest.kernel, join(boot, 'vmlinuz'));
  copyFileSync(guest.initrd, join(boot, 'initrd.img'));
  const template = readFileSync(join(REPO, 'templates/domain.xml.mustache'), 'utf8')
    .replace("<domain type='{{domainType}}'>", `<domain type='${DOMAIN_TYPE}'>`)
    .replace(/<memory unit='MiB'>\{\{memoryMiB\}\}<\/memory>/, "<memory unit='MiB'>256</memory>")
    .replace(/\{\{#kernel\}\}[\s\S]*?\{\{\^kernel\}\}[\s\S]*?\{\{\/kernel\}\}/, [
      `<kernel>${join(boot, 'vmlinuz')}</kernel>`,
      `    <initrd>${join(boot, 'initrd.img')}</initrd>`,
      `    <cmdline>${guest.cmdline}{{vmName}}</cmdline>`,
    ].join('\n'))
    .replace('{{#hostCpu}}', DOMAIN_TYPE === 'kvm' ? '{{#hostCpu}}' : '{{#noHostCpuUnderTcg}}')
    .replace('{{/hostCpu}}', DOMAIN_TYPE === 'kvm' ? '{{/hostCpu}}' : '{{/noHostCpuUnderTcg}}');
  assert.ok(template.includes('<kernel>') && !template.includes('{{#kernel}}'), 'the template boots the test kernel');
  writeFileSync(join(caller, 'ci/domain.xml.mustache'), template);
  // The system test: wait for every VM to power off, then read what each printed on its console.
  writeFileSync(join(caller, 'ci/system-test.sh'), `#!/usr/bin/env bash
set -euo pipefail
mapfile -t domains < <(node -e 'for (const v of JSON.parse(require("fs").readFileSync(process.argv[1])).vms) console.log(v.domain)' "$BASECOW_MANIFEST")
mapfile -t logs < <(node -e 'for (const v of JSON.parse(require("fs").readFileSync(process.argv[1])).vms) console.log(v.consoleLog)' "$BASECOW_MANIFEST")
for i in $(seq 1 360); do
  running=0
  for d in "\${domains[@]}"; do virsh -q -c ${URI} domstate "$d" >/dev/null 2>&1 && running=1; done
  [ "$running" = 0 ] && break
  sleep 0.5
done
for log in "\${logs[@]}"; do
  tr -d '\\r' <"$log" | grep -qx 'basecow: base-marker=${guest.marker}'
  tr -d '\\r' <"$log" | grep -qx 'basecow: done'
  echo "checked $log"
done
`, { mode: 0o755 });
  return caller;
}

function options(dir: string, caller: string, inputs: RunOptions['inputs']): RunOptions {
  const runnerTemp = join(dir, `runner-temp-${Math.random().toString(36).slice(2)}`);
  mkdirSync(runnerTemp);
  return {
    workflow: KIT, inputs, workspace: join(dir, 'workspace'), runnerTemp, artifactsDir: join(dir, 'artifacts'),
    // The caller's checkout holds no action.yml: basecow can only come from its own checkout.
    repositories: { 'acme/app': caller, 'basecow/basecow': REPO },
    repository: 'acme/app', workflowRepository: 'basecow/basecow', workflowSha: 'e2e'.padEnd(40, '0'),
    log: (line) => process.stderr.write(`  | ${line}\n`),
  };
}

async function domainsOf(group: string): Promise<string[]> {
  const { stdout } = await runTool(['virsh', '-q', '-c', URI, 'list', '--all', '--name']);
  return stdout.split('\n').map((l) => l.trim()).filter((d) => d.startsWith(`${group}-`));
}

test('the reusable workflow boots a testnet from a caller without basecow, runs its tests, and leaves nothing behind', { skip, timeout: 900_000 }, async () => {
  const dir = tempDir('basecow-kit-e2e-');
  chmodSync(dir, 0o755);
  const caller = callerRepository(dir);
  assert.equal(existsSync(join(caller, 'action.yml')), false);
  const common = {
    image: 'images/guest.img.zst', vms: 'node-a,node-b', template: 'ci/domain.xml.mustache', start: true,
    'cache-dir': join(dir, 'cache'), 'remote-cache': 'none', 'work-dir': join(dir, 'testnet'), 'timeout-minutes': 10,
  };

  const started = Date.now();
  const first = options(dir, caller, { ...common, test: './ci/system-test.sh' });
  const r1 = await runWorkflowJob(first);
  const seconds1 = (Date.now() - started) / 1000;
  assert.equal(r1.conclusion, 'success', JSON.stringify(r1.steps.map((s) => [s.name, s.outcome, s.error, s.output.slice(-2000)]), null, 2));
  assert.equal(r1.outputs['cache-hit'], 'miss');
  assert.match(r1.outputs.key, /^sha256-[0-9a-f]{64}$/);
  const basecow = r1.steps.find((s) => s.id === 'basecow')!;
  assert.match(r1.steps.find((s) => s.name === 'Run the system tests')!.output, /checked .*node-a.*console\.log[\s\S]*checked .*node-b/);
  const base = basecow.outputs['base-image'];
  assert.equal(statSync(base).mode & 0o777, 0o444, 'the base stays in the store, read-only');
  assert.deepEqual(readdirSync(first.runnerTemp), [], 'no temp file left in RUNNER_TEMP');
  assert.deepEqual(readdirSync(join(dir, 'cache/v1/tmp')), [], 'no temp file left in the store');
  const workDir = basecow.outputs['work-dir'];
  for (const vm of ['node-a', 'node-b']) {
    assert.equal(existsSync(join(workDir, 'vms', vm, 'primary.qcow2')), false, `${vm}'s overlay is removed`);
    assert.ok(existsSync(join(workDir, 'vms', vm, 'console.log')), `${vm}'s console log stays for post-mortems`);
  }
  assert.equal(existsSync(basecow.outputs.manifest), false, 'the manifest is removed with the testnet');
  const known = (await runTool(['virsh', '-q', '-c', URI, 'list', '--all', '--name'])).stdout;
  assert.ok(!/-node-(a|b)$/m.test(known), `no domain left: ${known}`);

  // Second job on the same runner: the base is in the store; its tests fail, so the logs are kept.
  const second = options(dir, caller, { ...common, test: './ci/system-test.sh && echo "failing on purpose" && exit 7' });
  const r2 = await runWorkflowJob(second);
  assert.equal(r2.conclusion, 'failure');
  assert.equal(r2.outputs['cache-hit'], 'l1');
  assert.equal(r2.artifacts.length, 1);
  const artifact = r2.artifacts[0].dir;
  assert.ok(existsSync(join(artifact, 'manifest.json')));
  for (const vm of ['node-a', 'node-b']) assert.match(readFileSync(join(artifact, vm, 'console.log'), 'utf8'), /basecow: done/);
  const group = JSON.parse(readFileSync(join(artifact, 'manifest.json'), 'utf8')).group as string;
  assert.deepEqual(await domainsOf(group), [], 'post tore the testnet down after the failure');
  assert.deepEqual(readdirSync(second.runnerTemp).filter((e) => e !== 'basecow-artifacts'), [], 'only the collected artifacts are left in RUNNER_TEMP');
  assert.equal(existsSync(join(workDir, 'vms/node-a/primary.qcow2')), false);
  process.stderr.write(`kit e2e: first run (cold, 2 VMs) ${seconds1.toFixed(1)} s\n`);
});
