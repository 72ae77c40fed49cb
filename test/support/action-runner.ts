// Runs the bundled action the way the runner does: `node dist/<entry>.js` as its own process, with
// INPUT_* variables, the runner's command files (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY,
// GITHUB_ENV), RUNNER_TEMP, RUNNER_TOOL_CACHE and GITHUB_WORKSPACE, and the state main saved handed
// to post as STATE_* variables.
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandFile } from './workflow-runner.js';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/** One runner: its own workspace, temp and tool cache; the state of one step's main for its post. */
export interface Runner {
  workspace: string;
  temp: string;
  toolCache: string;
  /** Extra environment every step gets (the cache service's, a HOME, ...). */
  env: NodeJS.ProcessEnv;
}

export interface StepResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  /** `::warning::` and `::error::` annotations the step wrote, in order. */
  warnings: string[];
  errors: string[];
  seconds: number;
}

export function makeRunner(root: string, name: string, env: NodeJS.ProcessEnv = {}): Runner {
  const base = join(root, name);
  const runner = { workspace: join(base, 'workspace'), temp: join(base, 'temp'), toolCache: join(base, 'tool-cache'), env };
  for (const dir of [runner.workspace, runner.temp, runner.toolCache]) mkdirSync(dir, { recursive: true });
  return runner;
}

const inputVar = (name: string): string => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

function annotations(stdout: string, kind: 'warning' | 'error'): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`::${kind}`))
    .map((line) => line.slice(line.indexOf('::', 2) + 2).replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%'));
}

/**
 * Runs dist/<entry>.js (or `distDir`'s) once. `state` is what an earlier main saved, passed the
 * way the runner passes it to post.
 */
export async function runStep(
  runner: Runner,
  entry: 'main' | 'post' | 'overlay-main' | 'overlay-post',
  options: { inputs?: Record<string, string>; state?: Record<string, string>; distDir?: string; uid?: number; gid?: number; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<StepResult> {
  const files = mkdtempSync(join(runner.temp, `${entry}-files-`));
  const outputFile = join(files, 'output');
  const stateFile = join(files, 'state');
  const summaryFile = join(files, 'summary');
  const envFile = join(files, 'env');
  for (const f of [outputFile, stateFile, summaryFile, envFile]) writeFileSync(f, '');
  // A step run as another user (the runner's) must be able to write its command files.
  if (options.uid !== undefined) for (const f of [files, outputFile, stateFile, summaryFile, envFile]) chownSync(f, options.uid, options.gid ?? -1);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: runner.workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STATE: stateFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ENV: envFile,
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'test',
    GITHUB_ACTION: '__basecow',
    RUNNER_TEMP: runner.temp,
    RUNNER_TOOL_CACHE: runner.toolCache,
    BASECOW_POISON_RELEASED_SLOTS: process.env.BASECOW_POISON_RELEASED_SLOTS,
    ...runner.env,
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.inputs ?? {})) env[inputVar(name)] = value;
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;
  const script = join(options.distDir ?? join(REPO, 'dist'), `${entry}.js`);
  const started = performance.now();
  // As another user, through setpriv: spawn's own uid/gid would drop the user's supplementary
  // groups (kvm, libvirt), which are what a runner's user reaches libvirt and KVM through.
  const argv = options.uid === undefined ? [process.execPath, script] : ['setpriv', `--reuid=${options.uid}`, `--regid=${options.gid ?? options.uid}`, '--init-groups', '--', process.execPath, script];
  const child = spawn(argv[0], argv.slice(1), { cwd: runner.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const stdout = Buffer.concat(out).toString('utf8');
  const result: StepResult = {
    code,
    signal,
    stdout,
    stderr: Buffer.concat(err).toString('utf8'),
    outputs: parseCommandFile(outputFile),
    state: parseCommandFile(stateFile),
    summary: readFileSync(summaryFile, 'utf8'),
    warnings: annotations(stdout, 'warning'),
    errors: annotations(stdout, 'error'),
    seconds: (performance.now() - started) / 1000,
  };
  rmSync(files, { recursive: true, force: true });
  return result;
}

/** A step's log for assertion messages. */
export const logOf = (step: StepResult): string => `exit ${step.code}\n--- stdout\n${step.stdout}\n--- stderr\n${step.stderr}`;
