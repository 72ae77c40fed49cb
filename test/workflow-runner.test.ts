// The workflow harness (test/support/workflow-runner.ts), proven on its own with a stand-in for
// basecow's bundled action: it runs the kit's reusable workflow in order, reaches the action the way
// GitHub would from another repository, runs post steps last, keeps artifacts on failure, leaves
// nothing behind, and refuses what it does not understand.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { evaluateCondition, interpolate, type EvalContext } from './support/workflow-expressions.js';
import { HarnessError, runWorkflowJob, type RunOptions } from './support/workflow-runner.js';
import { tempDir } from './helpers.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const KIT = join(REPO, '.github/workflows/local-system-tests.yml');
const SHA = 'c0ffee'.padEnd(40, '0');

interface Fixture {
  options: RunOptions;
  caller: string;
  log: string;
  dir: string;
}

/**
 * A caller repository holding only its tests (no action.yml anywhere), and a "basecow" repository
 * holding the real action.yml files with the stand-in main/post where dist/ will be.
 */
function fixture(inputs: RunOptions['inputs'], workflow = KIT): Fixture {
  const dir = tempDir('basecow-harness-');
  const caller = join(dir, 'caller');
  mkdirSync(join(caller, 'ci'), { recursive: true });
  writeFileSync(join(caller, 'ci/test.sh'), [
    '#!/usr/bin/env bash',
    'set -eu',
    'test -f "$BASECOW_MANIFEST"',
    'echo "manifest=$BASECOW_MANIFEST work-dir=$BASECOW_WORK_DIR"',
    'echo "args=$*"',
    '',
  ].join('\n'), { mode: 0o755 });
  const basecow = join(dir, 'basecow');
  mkdirSync(join(basecow, 'dist'), { recursive: true });
  mkdirSync(join(basecow, 'overlay'));
  copyFileSync(join(REPO, 'action.yml'), join(basecow, 'action.yml'));
  copyFileSync(join(REPO, 'overlay/action.yml'), join(basecow, 'overlay/action.yml'));
  copyFileSync(join(REPO, 'test/fixtures/fake-basecow/main.js'), join(basecow, 'dist/main.js'));
  copyFileSync(join(REPO, 'test/fixtures/fake-basecow/post.js'), join(basecow, 'dist/post.js'));
  writeFileSync(join(basecow, 'package.json'), '{"type":"module"}');
  const runnerTemp = join(dir, 'runner-temp');
  mkdirSync(runnerTemp);
  const log = join(dir, 'fake.log');
  writeFileSync(log, '');
  return {
    dir, caller, log,
    options: {
      workflow, inputs, workspace: join(dir, 'workspace'), runnerTemp, artifactsDir: join(dir, 'artifacts'),
      repositories: { 'acme/app': caller, 'basecow/basecow': basecow },
      repository: 'acme/app', workflowRepository: 'basecow/basecow', workflowSha: SHA,
      env: { ...process.env, FAKE_BASECOW_LOG: log },
    },
  };
}

const events = (log: string) => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
const stepNames = (r: Awaited<ReturnType<typeof runWorkflowJob>>) => r.steps.map((s) => `${s.phase === 'post' ? 'post:' : ''}${s.id.startsWith('__') ? s.name : s.id}=${s.outcome}`);

test('the kit runs in order from a caller without basecow in it: checkout, basecow at the pinned commit, tests, post teardown', async () => {
  const f = fixture({ image: 'images/guest.img.zst', vms: '2', test: './ci/test.sh one two' });
  assert.equal(existsSync(join(f.caller, 'action.yml')), false, 'the caller holds no action');
  const r = await runWorkflowJob(f.options);
  assert.equal(r.conclusion, 'success', JSON.stringify(r.steps, null, 2));
  assert.deepEqual(stepNames(r), [
    'Check out the repository under test=success',
    "Check that this GitHub names this workflow's repository and commit=success",
    "Check out basecow at this workflow's commit=success",
    'basecow=success',
    'Run the system tests=success',
    'Collect console logs and the manifest=skipped',
    'Upload console logs and the manifest=skipped',
    'post:basecow=success',
  ]);
  // basecow came from its own repository at the workflow's commit, not from the caller's checkout.
  assert.deepEqual(r.checkouts, [
    { repository: 'acme/app', ref: '', path: '' },
    { repository: 'basecow/basecow', ref: SHA, path: '.basecow-action' },
  ]);
  const [main, post] = events(f.log);
  assert.equal(main.phase, 'main');
  assert.equal(main.actionPath, join(f.options.workspace, '.basecow-action'));
  assert.equal(main.cwd, f.options.workspace);
  assert.equal(main.inputs.INPUT_IMAGE, 'images/guest.img.zst');
  assert.equal(main.inputs.INPUT_VMS, '2');
  assert.equal(main.inputs.INPUT_START, 'true', 'a boolean input reaches the action as text');
  assert.equal(main.inputs['INPUT_REMOTE-CACHE'], 'actions');
  assert.equal(main.inputs.INPUT_MEMBER, 'disk.img');
  assert.equal(main.inputs.INPUT_VERIFY, 'changed', "an input the workflow does not pass gets action.yml's default");
  assert.equal(main.inputs['INPUT_CACHE-BUDGET'], '');
  const tests = r.steps.find((s) => s.name === 'Run the system tests')!;
  const manifest = r.steps.find((s) => s.id === 'basecow')!.outputs.manifest;
  assert.match(tests.output, new RegExp(`manifest=${manifest} work-dir=`));
  assert.match(tests.output, /args=one two/);
  assert.deepEqual(post, { phase: 'post', workDir: join(f.options.runnerTemp, 'fake-testnet') });
  assert.deepEqual(r.outputs, { key: 'fake-key', 'cache-hit': 'miss' });
  assert.deepEqual(r.runsOn, ['self-hosted', 'linux', 'x64', 'kvm']);
  assert.deepEqual(readdirSync(f.options.runnerTemp), [], 'the teardown and the harness left nothing in RUNNER_TEMP');
  assert.deepEqual(r.artifacts, []);
});

test('a failing test command: console logs and the manifest are uploaded, then post still tears down', async () => {
  const f = fixture({ image: 'x.img', vms: '2', test: 'echo failing; exit 3' });
  const r = await runWorkflowJob(f.options);
  assert.equal(r.conclusion, 'failure');
  assert.deepEqual(stepNames(r).slice(4), [
    'Run the system tests=failure',
    'Collect console logs and the manifest=success',
    'Upload console logs and the manifest=success',
    'post:basecow=success',
  ]);
  assert.equal(r.artifacts.length, 1);
  const dir = r.artifacts[0].dir;
  assert.match(r.artifacts[0].name, /^basecow-system-tests-\d+-1$/);
  assert.deepEqual(readdirSync(dir).sort(), ['manifest.json', 'vm1', 'vm2']);
  assert.equal(readFileSync(join(dir, 'vm2/console.log'), 'utf8'), 'basecow: vm=vm2\n');
  assert.deepEqual(events(f.log).map((e) => e.phase), ['main', 'post']);
});

test('keep-artifacts: false uploads nothing; a test command past its timeout is stopped and post still runs', async () => {
  const f = fixture({ image: 'x.img', vms: '1', test: 'sleep 60', 'timeout-minutes': 0.02, 'keep-artifacts': false });
  const started = Date.now();
  const r = await runWorkflowJob(f.options);
  assert.ok(Date.now() - started < 20_000, 'the step was stopped at its timeout');
  assert.equal(r.conclusion, 'failure');
  const tests = r.steps.find((s) => s.name === 'Run the system tests')!;
  assert.equal(tests.error, 'timed out after 0.02 minutes');
  assert.deepEqual(stepNames(r).slice(5), ['Collect console logs and the manifest=skipped', 'Upload console logs and the manifest=skipped', 'post:basecow=success']);
  assert.deepEqual(r.artifacts, []);
});

test('a GitHub that does not name the called workflow\'s commit fails before the action, loudly', async () => {
  const f = fixture({ image: 'x.img', test: 'true' });
  f.options.workflowSha = '';
  const r = await runWorkflowJob(f.options);
  assert.equal(r.conclusion, 'failure');
  assert.match(r.annotations.map((a) => a.message).join('\n'), /job\.workflow_repository and job\.workflow_sha are empty/);
  assert.equal(r.steps.find((s) => s.id === 'basecow')!.outcome, 'skipped');
  assert.deepEqual(events(f.log), [], 'the action never ran, so there is no post either');
});

test('the same workflow with uses: ./ would look for the action in the caller\'s checkout, and fail', async () => {
  const dir = tempDir('basecow-harness-wf-');
  const broken = join(dir, 'local-system-tests.yml');
  writeFileSync(broken, readFileSync(KIT, 'utf8').replace('uses: ./.basecow-action', 'uses: ./'));
  const f = fixture({ image: 'x.img', test: 'true' }, broken);
  const r = await runWorkflowJob(f.options);
  assert.equal(r.conclusion, 'failure');
  const step = r.steps.find((s) => s.id === 'basecow')!;
  assert.match(step.error ?? '', /Can't find 'action\.yml', 'action\.yaml' or 'Dockerfile' under '.*\/workspace'/);
  assert.deepEqual(events(f.log), []);
});

test('an action whose main fails still gets its post; later steps are skipped', async () => {
  const f = fixture({ image: 'fail-in-main', test: 'true' });
  const r = await runWorkflowJob(f.options);
  assert.equal(r.conclusion, 'failure');
  assert.deepEqual(stepNames(r).slice(3), [
    'basecow=failure', 'Run the system tests=skipped', 'Collect console logs and the manifest=skipped',
    'Upload console logs and the manifest=skipped', 'post:basecow=success',
  ]);
  assert.deepEqual(r.annotations, [{ level: 'error', message: 'fake main fails as asked' }]);
});

/** A one-job workflow_call workflow with these steps. */
function workflowWith(steps: string, extra = ''): string {
  const dir = tempDir('basecow-harness-wf-');
  const file = join(dir, 'w.yml');
  writeFileSync(file, `on:\n  workflow_call:\n    inputs:\n      flag: { type: boolean, default: false }\n${extra}jobs:\n  j:\n    runs-on: ubuntu-latest\n    env:\n      FROM_JOB: job\n    steps:\n${steps}`);
  return file;
}

test('run steps share GITHUB_ENV, GITHUB_PATH and outputs (multi-line too); env layers as on GitHub; post steps run in reverse order', async () => {
  const steps = `      - id: one
        run: |
          echo "FROM_FILE=file value" >>"$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool ran\\n' >"$RUNNER_TEMP/bin/mytool" && chmod +x "$RUNNER_TEMP/bin/mytool"
          echo "$RUNNER_TEMP/bin" >>"$GITHUB_PATH"
          { echo 'text<<EOF'; echo 'line 1'; echo 'line 2'; echo 'EOF'; } >>"$GITHUB_OUTPUT"
      - id: two
        env:
          TEXT: \${{ steps.one.outputs.text }}
          FROM_STEP: \${{ env.FROM_JOB }}-step
        run: |
          test "$TEXT" = "$(printf 'line 1\\nline 2')"
          test "$FROM_FILE" = "file value"
          test "$FROM_STEP" = "job-step"
          mytool
      - uses: ./.basecow-action
        with: { image: first, vms: '0' }
      - uses: ./.basecow-action/
        with: { image: second, vms: '0' }
`;
  const f = fixture({}, workflowWith(`      - uses: actions/checkout@v4\n        with: { repository: basecow/basecow, path: .basecow-action }\n${steps}`));
  const r = await runWorkflowJob(f.options);
  assert.equal(r.conclusion, 'success', JSON.stringify(r.steps, null, 2));
  assert.match(r.steps[2].output, /tool ran/);
  assert.deepEqual(events(f.log).map((e) => `${e.phase}:${e.inputs?.INPUT_IMAGE ?? ''}`), ['main:first', 'main:second', 'post:', 'post:']);
  assert.deepEqual(stepNames(r).slice(-2), ['post:Post ./.basecow-action/=success', 'post:Post ./.basecow-action=success']);
});

test('expressions: GitHub\'s implicit success(), status functions, loose equality, typed inputs', () => {
  const ctx = (jobStatus: 'success' | 'failure'): EvalContext => ({
    contexts: { inputs: { flag: true, n: 3, s: 'Yes' }, steps: { a: { outputs: { x: '' } } }, env: {}, job: {}, github: {}, runner: {} },
    strict: new Set(['github', 'job', 'runner', 'inputs']), jobStatus,
  });
  assert.equal(evaluateCondition('inputs.flag', ctx('success')), true);
  assert.equal(evaluateCondition('inputs.flag', ctx('failure')), false, 'no status function: success() && ...');
  assert.equal(evaluateCondition('failure() && inputs.flag', ctx('failure')), true);
  assert.equal(evaluateCondition("${{ failure() && steps.a.outputs.x != '' }}", ctx('failure')), false);
  assert.equal(evaluateCondition('always()', ctx('failure')), true);
  assert.equal(evaluateCondition("inputs.s == 'yes' && inputs.n == '3'", ctx('success')), true);
  assert.equal(evaluateCondition(undefined, ctx('failure')), false);
  assert.equal(interpolate('${{ inputs.flag }}', ctx('success')), true);
  assert.equal(interpolate('n=${{ inputs.n }} ${{ steps.a.outputs.missing }}.', ctx('success')), 'n=3 .');
  assert.deepEqual(interpolate('${{ fromJSON(\'["a", 1]\') }}', ctx('success')), ['a', 1]);
});

test('the harness refuses what it does not implement instead of guessing', async () => {
  const refused: [string, RegExp, string?][] = [
    ["      - run: echo ${{ hashFiles('x') }}\n", /hashFiles/],
    ['      - uses: actions/setup-node@v4\n', /does not run uses: actions\/setup-node@v4/],
    ['      - run: print(1)\n        shell: python\n', /runs only bash/],
    ['      - run: echo ${{ github.no_such_thing }}\n', /github\.no_such_thing: the harness does not provide it/],
    ['      - run: echo ${{ vars.X > 1 }}\n', /does not support the operator >/],
    ['      - run: echo ${{ steps.nope.outputs.x }}\n', /reading 'outputs' of null/],
    ['      - run: "true"\n        continue-on-error: ${{ inputs.flag }}\n', /continue-on-error only as true or false/],
  ];
  for (const [steps, expected] of refused) {
    const f = fixture({}, workflowWith(steps));
    await assert.rejects(runWorkflowJob(f.options), (e: Error) => e instanceof Error && expected.test(e.message), steps);
  }
  const f = fixture({ nope: 'x' }, workflowWith('      - run: "true"\n'));
  await assert.rejects(runWorkflowJob(f.options), (e: Error) => e instanceof HarnessError && /has no input 'nope'/.test(e.message));
  const g = fixture({}, KIT);
  await assert.rejects(runWorkflowJob(g.options), /requires the input 'test'/);
});

test('the checkout stand-in copies what a checkout would hold: no .git, node_modules or build output', async () => {
  const f = fixture({}, workflowWith('      - uses: actions/checkout@v4\n        with: { repository: basecow/basecow, path: b }\n'));
  const source = f.options.repositories['basecow/basecow'];
  for (const d of ['.git', 'node_modules/x', 'build/test', 'src/build']) mkdirSync(join(source, d), { recursive: true });
  const r = await runWorkflowJob(f.options);
  assert.equal(r.conclusion, 'success');
  assert.deepEqual(readdirSync(join(f.options.workspace, 'b')).sort(), ['action.yml', 'dist', 'overlay', 'package.json', 'src']);
  assert.ok(existsSync(join(f.options.workspace, 'b/src/build')), 'only top-level build output is left out');
});
