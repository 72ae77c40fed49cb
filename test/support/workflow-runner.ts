// A small runner for one job of a workflow, close enough to GitHub's for the kit's tests: steps run
// in order with bash and the runner's files, local JavaScript actions run their main and then, after
// the last step and in reverse order, their post, and expressions are evaluated by
// workflow-expressions.ts. Whatever it does not implement (another shell, a remote action other than
// checkout and upload-artifact, a matrix, an unknown key) is an error, so a workflow it passes is a
// workflow it understood.
//
// What it maps, and to what:
//   run:                         bash -e (bash --noprofile --norc -eo pipefail with `shell: bash`), in
//                                the workspace, with the workflow's, job's and step's env and what
//                                earlier steps put in GITHUB_ENV / GITHUB_PATH
//   uses: ./<dir>                <workspace>/<dir>/action.yml, validated with @actions/workflow-parser;
//                                a node action's main runs with `node`, INPUT_* from `with:` and the
//                                defaults, and its post after the job's steps, with STATE_* from main
//   uses: actions/checkout@…     a copy of the local directory options.repositories names for the
//                                repository (default: github.repository) into the workspace or `path`
//   uses: actions/upload-artifact@…  a copy of `path` into <artifactsDir>/<name>
//   files                        GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STATE,
//                                GITHUB_STEP_SUMMARY fresh per step under RUNNER_TEMP, removed at the end
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ExpressionError } from '@actions/expressions';
import { evaluateCondition, interpolate, stringify, UnsupportedExpression, type EvalContext, type Value } from './workflow-expressions.js';
import { isMap, parseActionFile, parseWorkflowFile, type Plain, type PlainMap } from './workflow-yaml.js';

export interface RunOptions {
  /** The workflow file. */
  workflow: string;
  /** The job to run; default the workflow's only job. */
  job?: string;
  /** workflow_call inputs (defaults and required inputs are applied as GitHub does). */
  inputs?: Record<string, string | number | boolean>;
  /** GITHUB_WORKSPACE; made empty before the job, as on a fresh runner. */
  workspace: string;
  /** RUNNER_TEMP; must exist. */
  runnerTemp: string;
  /** Where upload-artifact copies to. */
  artifactsDir: string;
  /** Local directories that actions/checkout copies, by repository (`owner/name`). */
  repositories: Record<string, string>;
  /** github.repository: the repository whose event started the run (the caller's). */
  repository: string;
  /** job.workflow_repository and job.workflow_sha: the repository and commit of the workflow file. */
  workflowRepository: string;
  workflowSha: string;
  /** Environment every process starts from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Each line a step prints, as it prints it. */
  log?: (line: string) => void;
}

export type Outcome = 'success' | 'failure' | 'skipped';

export interface StepRecord {
  index: number;
  id: string;
  name: string;
  phase: 'main' | 'post';
  outcome: Outcome;
  outputs: Record<string, string>;
  output: string;
  error?: string;
}

export interface RunResult {
  conclusion: 'success' | 'failure';
  steps: StepRecord[];
  outputs: Record<string, string>;
  checkouts: { repository: string; ref: string; path: string }[];
  artifacts: { name: string; dir: string }[];
  annotations: { level: string; message: string }[];
  runsOn: Value;
}

export class HarnessError extends Error {}

const STEP_KEYS = new Set(['id', 'name', 'if', 'uses', 'with', 'run', 'shell', 'env', 'working-directory', 'timeout-minutes', 'continue-on-error']);
const JOB_KEYS = new Set(['name', 'runs-on', 'outputs', 'steps', 'env', 'permissions', 'timeout-minutes']);
const CHECKOUT_INPUTS = new Set(['repository', 'ref', 'path', 'persist-credentials', 'fetch-depth', 'clean']);
const UPLOAD_INPUTS = new Set(['name', 'path', 'if-no-files-found', 'retention-days']);
/** Top-level entries the checkout stand-in leaves out: nothing GitHub's checkout brings (git metadata, installs, build output). */
const NOT_CHECKED_OUT = new Set(['.git', 'node_modules', 'build', '.basecow']);

/** KEY=value lines and KEY<<DELIM … DELIM blocks, as @actions/core writes them. */
export function parseCommandFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(path)) return out;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end < 0) throw new HarnessError(`${path}: no closing ${heredoc[2]} for ${heredoc[1]}`);
      out[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new HarnessError(`${path}: cannot read the line ${JSON.stringify(line)}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function run(argv: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; log?: (l: string) => void }): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolvePromise, reject) => {
    // Its own process group, so that a timeout stops everything the step started, as the runner does.
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let partial = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) opts.log?.(l);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    let timedOut = false;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000).unref();
    }, opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (partial) opts.log?.(partial);
      resolvePromise({ code, output, timedOut });
    });
  });
}

interface PostStep {
  record: StepRecord;
  dir: string;
  post: string;
  postIf: string;
  env: NodeJS.ProcessEnv;
  state: Record<string, string>;
}

export async function runWorkflowJob(options: RunOptions): Promise<RunResult> {
  const parsed = await parseWorkflowFile(options.workflow);
  if (parsed.errors.length > 0) throw new HarnessError(`${options.workflow} does not validate: ${parsed.errors.join('; ')}`);
  const doc = parsed.doc;
  const jobs = isMap(doc.jobs) ? doc.jobs : {};
  const jobId = options.job ?? (Object.keys(jobs).length === 1 ? Object.keys(jobs)[0] : undefined);
  if (jobId === undefined || !isMap(jobs[jobId])) throw new HarnessError(`name the job to run (${Object.keys(jobs).join(', ')})`);
  const job = jobs[jobId] as PlainMap;
  for (const key of Object.keys(job)) if (!JOB_KEYS.has(key)) throw new HarnessError(`the workflow harness does not support jobs.${jobId}.${key}`);

  const inputs = workflowCallInputs(doc, options.inputs ?? {});
  const fileDir = join(options.runnerTemp, `_runner_file_commands-${randomUUID()}`);
  mkdirSync(fileDir);
  rmSync(options.workspace, { recursive: true, force: true });
  mkdirSync(options.workspace, { recursive: true });
  mkdirSync(options.artifactsDir, { recursive: true });
  const eventPath = join(fileDir, 'event.json');
  writeFileSync(eventPath, '{}');

  const runId = String(Date.now());
  const github: { [key: string]: Value } = {
    repository: options.repository, repository_owner: options.repository.split('/')[0], job: jobId, run_id: runId,
    run_attempt: '1', run_number: '1', sha: '0'.repeat(40), ref: 'refs/heads/main', event_name: 'workflow_call',
    workspace: options.workspace, token: '', server_url: 'https://github.com', api_url: 'https://api.github.com', actor: 'basecow-harness',
  };
  const runner: { [key: string]: Value } = { temp: options.runnerTemp, os: 'Linux', arch: 'X64', name: 'basecow-harness', tool_cache: join(options.runnerTemp, '_tool') };
  const jobCtx: { [key: string]: Value } = { workflow_repository: options.workflowRepository, workflow_sha: options.workflowSha, status: 'success' };
  const stepsCtx: { [key: string]: Value } = {};
  const jobEnvFromFiles: Record<string, string> = {};
  const extraPath: string[] = [];
  let status: 'success' | 'failure' = 'success';

  const ctx = (env: Record<string, string>): EvalContext => ({
    contexts: { inputs, github, runner, job: { ...jobCtx, status }, steps: stepsCtx, env, matrix: {}, strategy: {}, secrets: {}, vars: {} },
    strict: new Set(['github', 'runner', 'job', 'inputs']),
    jobStatus: status,
  });
  const envMap = (plain: Plain | undefined, c: EvalContext): Record<string, string> => {
    const out: Record<string, string> = {};
    if (plain === undefined || plain === null) return out;
    if (!isMap(plain)) throw new HarnessError('env must be a mapping');
    for (const [k, v] of Object.entries(plain)) out[k] = stringify(interpolate(v as Value, c));
    return out;
  };

  const workflowEnv = envMap(doc.env, ctx({}));
  const jobEnv = { ...workflowEnv, ...envMap(job.env, ctx(workflowEnv)) };
  const runsOn = interpolate((job['runs-on'] ?? null) as Value, ctx(jobEnv));

  const baseEnv = (): NodeJS.ProcessEnv => ({
    ...(options.env ?? process.env),
    CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: options.workspace, GITHUB_REPOSITORY: options.repository,
    GITHUB_REPOSITORY_OWNER: String(github.repository_owner), GITHUB_JOB: jobId, GITHUB_RUN_ID: runId, GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RUN_NUMBER: '1', GITHUB_SHA: String(github.sha), GITHUB_REF: String(github.ref), GITHUB_EVENT_NAME: 'workflow_call',
    GITHUB_EVENT_PATH: eventPath, GITHUB_SERVER_URL: String(github.server_url), GITHUB_API_URL: String(github.api_url),
    GITHUB_ACTOR: String(github.actor), RUNNER_TEMP: options.runnerTemp, RUNNER_OS: 'Linux', RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'basecow-harness', RUNNER_TOOL_CACHE: String(runner.tool_cache),
  });

  const result: RunResult = { conclusion: 'success', steps: [], outputs: {}, checkouts: [], artifacts: [], annotations: [], runsOn };
  const posts: PostStep[] = [];
  const steps = Array.isArray(job.steps) ? job.steps : [];

  /** Fresh command files for one step, the env that points at them, and a reader for what the step wrote. */
  const commandFiles = (stepEnv: NodeJS.ProcessEnv) => {
    const id = randomUUID();
    const files = {
      GITHUB_OUTPUT: join(fileDir, `set_output_${id}`), GITHUB_ENV: join(fileDir, `set_env_${id}`), GITHUB_PATH: join(fileDir, `add_path_${id}`),
      GITHUB_STATE: join(fileDir, `save_state_${id}`), GITHUB_STEP_SUMMARY: join(fileDir, `step_summary_${id}`),
    };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const env = { ...stepEnv, ...files, PATH: [...extraPath, stepEnv.PATH ?? ''].join(':') };
    return { env, read: () => ({ outputs: parseCommandFile(files.GITHUB_OUTPUT), env: parseCommandFile(files.GITHUB_ENV), state: parseCommandFile(files.GITHUB_STATE), path: readFileSync(files.GITHUB_PATH, 'utf8').split('\n').filter(Boolean) }) };
  };

  const annotate = (output: string) => {
    for (const m of output.matchAll(/^::(error|warning|notice)(?: [^:]*)?::(.*)$/gm)) result.annotations.push({ level: m[1], message: m[2] });
  };

  /** Takes in what a finished run: or node step left (log, annotations, command files): whether it succeeded, and the state it saved. */
  const absorb = (record: StepRecord, r: { code: number | null; output: string; timedOut: boolean }, files: ReturnType<typeof commandFiles>, what: string, timeoutMinutes: number | undefined) => {
    record.output = r.output;
    annotate(r.output);
    const written = files.read();
    record.outputs = written.outputs;
    Object.assign(jobEnvFromFiles, written.env);
    extraPath.unshift(...written.path);
    if (r.timedOut) record.error = `timed out after ${timeoutMinutes} minutes`;
    else if (r.code !== 0) record.error = `${what} exited with ${r.code}`;
    return { ok: !r.timedOut && r.code === 0, state: written.state };
  };

  for (let index = 0; index < steps.length; index++) {
    const step = steps[index];
    if (!isMap(step)) throw new HarnessError(`step ${index + 1} is not a mapping`);
    for (const key of Object.keys(step)) if (!STEP_KEYS.has(key)) throw new HarnessError(`the workflow harness does not support the step key '${key}' (step ${index + 1})`);
    const id = typeof step.id === 'string' ? step.id : `__step${index + 1}`;
    const envSoFar = { ...jobEnv, ...jobEnvFromFiles };
    const stepEnvCtx = { ...envSoFar, ...envMap(step.env, ctx(envSoFar)) };
    const c = ctx(stepEnvCtx);
    const name = typeof step.name === 'string' ? stringify(interpolate(step.name, c)) : String(step.uses ?? step.run ?? id).split('\n')[0];
    const record: StepRecord = { index, id, name, phase: 'main', outcome: 'skipped', outputs: {}, output: '' };
    result.steps.push(record);
    if (!evaluateCondition(step.if as string | boolean | undefined, c)) {
      stepsCtx[id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      continue;
    }
    const continueOnError = step['continue-on-error'] ?? false;
    if (typeof continueOnError !== 'boolean') throw new HarnessError('the workflow harness supports continue-on-error only as true or false');
    const timeoutMinutes = step['timeout-minutes'] === undefined ? undefined : Number(interpolate(step['timeout-minutes'] as Value, c));
    if (timeoutMinutes !== undefined && !(timeoutMinutes > 0)) throw new HarnessError(`step ${index + 1}: timeout-minutes is not a positive number`);
    const timeoutMs = timeoutMinutes === undefined ? undefined : timeoutMinutes * 60_000;
    const procEnv: NodeJS.ProcessEnv = { ...baseEnv(), ...stepEnvCtx, GITHUB_ACTION: id };
    const cwd = typeof step['working-directory'] === 'string' ? resolve(options.workspace, stringify(interpolate(step['working-directory'], c))) : options.workspace;
    let ok = true;
    try {
      if (typeof step.run === 'string') {
        if (step.uses !== undefined) throw new HarnessError(`step ${index + 1} has both run and uses`);
        const shell = step.shell === undefined ? undefined : stringify(interpolate(step.shell as Value, c));
        if (shell !== undefined && shell !== 'bash') throw new HarnessError(`the workflow harness runs only bash (step ${index + 1} asks for ${shell})`);
        const script = join(fileDir, `${id}-${randomUUID()}.sh`);
        writeFileSync(script, stringify(interpolate(step.run, c)));
        const files = commandFiles(procEnv);
        const argv = shell === 'bash' ? ['bash', '--noprofile', '--norc', '-eo', 'pipefail', script] : ['bash', '-e', script];
        const r = await run(argv, { cwd, env: files.env, timeoutMs, log: options.log });
        rmSync(script, { force: true });
        ok = absorb(record, r, files, 'bash', timeoutMinutes).ok;
      } else if (typeof step.uses === 'string') {
        const uses = step.uses;
        const withValues: Record<string, string> = {};
        if (step.with !== undefined) {
          if (!isMap(step.with)) throw new HarnessError(`step ${index + 1}: with must be a mapping`);
          for (const [k, v] of Object.entries(step.with)) withValues[k] = stringify(interpolate(v as Value, c));
        }
        if (/^actions\/checkout@/.test(uses)) {
          for (const k of Object.keys(withValues)) if (!CHECKOUT_INPUTS.has(k)) throw new HarnessError(`the checkout stand-in does not support the input '${k}'`);
          const repository = withValues.repository || options.repository;
          const source = options.repositories[repository];
          if (source === undefined) throw new HarnessError(`actions/checkout of ${repository}: no local directory for it in options.repositories`);
          const path = withValues.path ?? '';
          const target = resolve(options.workspace, path);
          if (path === '' || path === '.') for (const e of readdirSync(target)) rmSync(join(target, e), { recursive: true, force: true });
          else rmSync(target, { recursive: true, force: true });
          cpSync(source, target, { recursive: true, filter: (src) => !NOT_CHECKED_OUT.has(relative(source, src).split(sep)[0]) });
          result.checkouts.push({ repository, ref: withValues.ref ?? '', path });
        } else if (/^actions\/upload-artifact@/.test(uses)) {
          for (const k of Object.keys(withValues)) if (!UPLOAD_INPUTS.has(k)) throw new HarnessError(`the upload-artifact stand-in does not support the input '${k}'`);
          const name = withValues.name || 'artifact';
          const dir = join(options.artifactsDir, name);
          mkdirSync(dir, { recursive: true });
          let found = 0;
          for (const p of (withValues.path ?? '').split('\n').map((l) => l.trim()).filter(Boolean)) {
            if (/[*?[]/.test(p)) throw new HarnessError('the upload-artifact stand-in does not expand globs');
            const abs = isAbsolute(p) ? p : resolve(options.workspace, p);
            if (!existsSync(abs)) continue;
            found++;
            cpSync(abs, statSync(abs).isDirectory() ? dir : join(dir, basename(abs)), { recursive: true });
          }
          if (found === 0 && withValues['if-no-files-found'] === 'error') throw new Error(`no files at ${withValues.path}`);
          result.artifacts.push({ name, dir });
        } else if (uses.startsWith('./')) {
          const dir = resolve(options.workspace, uses);
          const file = ['action.yml', 'action.yaml'].map((f) => join(dir, f)).find((f) => existsSync(f));
          if (file === undefined) {
            // What the runner says, and a failed step rather than a harness error: this is what a
            // workflow that assumes the wrong checkout gets on GitHub too.
            record.error = `Can't find 'action.yml', 'action.yaml' or 'Dockerfile' under '${dir}'. Did you forget to run actions/checkout before running your local action?`;
            ok = false;
          } else {
            const action = await parseActionFile(file);
            if (action.errors.length > 0 || !action.template) throw new HarnessError(`${file} does not validate: ${action.errors.join('; ')}`);
            const runs = action.template.runs;
            if (!('main' in runs) || !/^node\d+$/.test(runs.using)) throw new HarnessError(`the workflow harness runs only node actions (${file} uses ${runs.using})`);
            const declared = new Map((action.template.inputs ?? []).map((i) => [i.id, i]));
            for (const k of Object.keys(withValues)) if (!declared.has(k)) throw new HarnessError(`step ${index + 1}: ${file} has no input '${k}'`);
            const inputEnv: NodeJS.ProcessEnv = {};
            for (const inputId of declared.keys()) {
              // The default as written in action.yml (it may hold an expression, e.g. ${{ github.token }}).
              const written = isMap(action.doc.inputs) && isMap(action.doc.inputs[inputId]) ? action.doc.inputs[inputId].default : undefined;
              const value = inputId in withValues ? withValues[inputId] : written === undefined || written === null ? '' : stringify(interpolate(written as Value, c));
              inputEnv[`INPUT_${inputId.replace(/ /g, '_').toUpperCase()}`] = value;
            }
            const actionEnv = { ...procEnv, ...inputEnv, GITHUB_ACTION_PATH: dir };
            const files = commandFiles(actionEnv);
            const r = await run([process.execPath, join(dir, runs.main)], { cwd: options.workspace, env: files.env, timeoutMs, log: options.log });
            const absorbed = absorb(record, r, files, `node ${runs.main}`, timeoutMinutes);
            ok = absorbed.ok;
            // The runner registers a post step once main has started, whatever main's outcome.
            if (runs.post) posts.push({ record, dir, post: runs.post, postIf: runs.postIf ?? 'always()', env: { ...baseEnv(), ...stepEnvCtx, ...inputEnv, GITHUB_ACTION_PATH: dir }, state: absorbed.state });
          }
        } else {
          throw new HarnessError(`the workflow harness does not run uses: ${uses}`);
        }
      } else {
        throw new HarnessError(`step ${index + 1} has neither run nor uses`);
      }
    } catch (error) {
      // A workflow the harness cannot follow is the test's failure, not the step's.
      if (error instanceof HarnessError || error instanceof UnsupportedExpression || error instanceof ExpressionError) throw error;
      record.error = (error as Error).message;
      ok = false;
    }
    record.outcome = ok ? 'success' : 'failure';
    const conclusion = ok || continueOnError ? 'success' : 'failure';
    stepsCtx[id] = { outputs: record.outputs, outcome: record.outcome, conclusion };
    if (conclusion === 'failure') status = 'failure';
  }

  for (const p of posts.reverse()) {
    const record: StepRecord = { index: p.record.index, id: p.record.id, name: `Post ${p.record.name}`, phase: 'post', outcome: 'skipped', outputs: {}, output: '' };
    result.steps.push(record);
    if (!evaluateCondition(p.postIf, ctx({ ...jobEnv, ...jobEnvFromFiles }))) continue;
    const stateEnv = Object.fromEntries(Object.entries(p.state).map(([k, v]) => [`STATE_${k}`, v]));
    const files = commandFiles({ ...p.env, ...jobEnvFromFiles, ...stateEnv });
    const r = await run([process.execPath, join(p.dir, p.post)], { cwd: options.workspace, env: files.env, log: options.log });
    record.output = r.output;
    annotate(r.output);
    record.outcome = r.code === 0 ? 'success' : 'failure';
    if (r.code !== 0) {
      record.error = `node ${p.post} exited with ${r.code}`;
      status = 'failure';
    }
  }

  if (isMap(job.outputs)) {
    const c = ctx({ ...jobEnv, ...jobEnvFromFiles });
    for (const [k, v] of Object.entries(job.outputs)) result.outputs[k] = stringify(interpolate(v as Value, c));
  }
  result.conclusion = status;
  rmSync(fileDir, { recursive: true, force: true });
  return result;
}

/** workflow_call inputs as GitHub gives them to `inputs`: declared ones only, typed, defaults filled in. */
function workflowCallInputs(doc: PlainMap, given: Record<string, string | number | boolean>): { [key: string]: Value } {
  const on = isMap(doc.on) ? doc.on : {};
  const call = on.workflow_call;
  const declared = isMap(call) && isMap(call.inputs) ? call.inputs : {};
  const out: { [key: string]: Value } = {};
  for (const name of Object.keys(given)) if (!(name in declared)) throw new HarnessError(`the workflow has no input '${name}'`);
  for (const [name, declPlain] of Object.entries(declared)) {
    const decl = isMap(declPlain) ? declPlain : {};
    const type = decl.type ?? 'string';
    let value: Value | undefined = name in given ? given[name] : (decl.default as Value | undefined);
    if (value === undefined) {
      if (decl.required === true) throw new HarnessError(`the workflow requires the input '${name}'`);
      value = type === 'boolean' ? false : type === 'number' ? 0 : '';
    }
    if (type === 'boolean' && typeof value !== 'boolean') throw new HarnessError(`input '${name}' is a boolean, given ${JSON.stringify(value)}`);
    if (type === 'number' && typeof value !== 'number') throw new HarnessError(`input '${name}' is a number, given ${JSON.stringify(value)}`);
    if (type === 'string' && typeof value !== 'string') throw new HarnessError(`input '${name}' is a string, given ${JSON.stringify(value)}`);
    out[name] = value;
  }
  return out;
}
