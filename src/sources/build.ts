import { randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exec } from '@actions/exec';
import { SourceError, UsageError } from '../core/errors.js';
import type { BaseSource, MaterializedSource, SourceContext } from '../core/store/base-source.js';
import { tempPrefix } from '../core/store/layout.js';
import { buildKey } from './key-files.js';

export interface BuildSourceOptions {
  /** Shell text run by `bash -e -o pipefail -c`; it writes the image (raw or compressed) to $BASECOW_OUTPUT. */
  command: string;
  /** Globs (hashFiles semantics) of the files the image is made from; with the command, they are the key. */
  keyFiles: string[];
  /** Where the globs are rooted and the command runs: GITHUB_WORKSPACE in the action, the cwd in the CLI. */
  workspace: string;
  /** Receives the command's stdout and stderr as they come (default: process.stderr). */
  output?: NodeJS.WritableStream;
  /** Receives the globber's debug lines instead of stdout (see key-files.ts); the CLI sets it. */
  onGlobDebug?: (line: string) => void;
  /** After an abort, how long the command's process group has between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

/** Lines of the command's stderr an error message quotes. */
const STDERR_TAIL_LINES = 20;
const STDERR_TAIL_BYTES = 8192;

/**
 * Runs in its own session (setsid), so that its process group, and only it, can be stopped on an
 * abort; it writes that group's id to $1 before it becomes the user's command, so the id is known
 * even though @actions/exec does not hand out the child process. Its stdin is /dev/null: a command
 * that reads it must not hang a CI job.
 */
const WRAPPER = 'printf "%s" "$$" > "$1" || exit 125; exec bash -e -o pipefail -c "$2" < /dev/null';

/** The command, on one line and short enough for a message. */
function describeCommand(command: string): string {
  const line = command.trim().replace(/\s*\n\s*/g, '; ');
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/**
 * An image made by a shell command. The key is the digest of the key files and the command (see
 * key-files.ts), so the command runs only when no base with that key exists in the local store or
 * the remote cache, and, because the store materializes a source only under the key's lock, at most
 * once per key on a machine however many jobs ask at once.
 */
export function buildSource(options: BuildSourceOptions): BaseSource {
  const command = options.command;
  if (command.trim() === '') throw new UsageError('the build command is empty', 'bad-build');
  const workspace = resolve(options.workspace);
  const label = `build command '${describeCommand(command)}'`;
  let keyed: string | undefined;
  return {
    label,
    async key(context: SourceContext) {
      const found = await buildKey({ command, patterns: options.keyFiles, workspace, digestsDir: context.digestsDir, signal: context.signal, onWarning: context.onWarning, onGlobDebug: options.onGlobDebug });
      keyed = found.key;
      return { key: found.key, memoized: found.memoized };
    },
    async materialize(context: SourceContext): Promise<MaterializedSource> {
      // No extension: what the command writes is recognised by its content.
      const output = join(context.tmpDir, `${tempPrefix(keyed ?? 'build')}${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await run(command, label, workspace, output, options, context);
        const info = await stat(output).catch(() => undefined);
        if (!info?.isFile() || info.size === 0) {
          throw new SourceError(label, `exited with status 0 but ${info ? (info.isFile() ? 'wrote an empty file to' : 'made something other than a file at') : 'wrote nothing to'} $BASECOW_OUTPUT (${output}); nothing was kept`);
        }
        return {
          path: output,
          origin: 'built',
          dispose: () => rm(output, { force: true }),
          record: { path: command, kind: 'build', digest: null, bytes: info.size },
        };
      } catch (error) {
        await rm(output, { recursive: true, force: true });
        if (context.signal?.aborted) throw context.signal.reason;
        throw error;
      }
    },
  };
}

async function run(command: string, label: string, workspace: string, output: string, options: BuildSourceOptions, context: SourceContext): Promise<void> {
  const { signal } = context;
  signal?.throwIfAborted();
  const sink = options.output ?? process.stderr;
  const groupFile = `${output}.pgid`;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  env.BASECOW_OUTPUT = output;
  let tail = Buffer.alloc(0);
  let produced = 0;
  const started = performance.now();
  sink.write(`basecow: building the base: ${describeCommand(command)}\n`);
  const report = setInterval(() => {
    void stat(output).then(
      (info) => {
        produced = info.size;
        context.onProgress?.({ phase: 'build', done: produced, total: 0 });
      },
      () => undefined,
    );
  }, 1000);
  let finished = false;
  const running = exec('setsid', ['--wait', 'bash', '-c', WRAPPER, 'basecow-build', groupFile, command], {
    cwd: workspace,
    env,
    silent: true,
    ignoreReturnCode: true,
    listeners: {
      stdout: (data) => sink.write(data),
      stderr: (data) => {
        sink.write(data);
        tail = Buffer.concat([tail, data]).subarray(-STDERR_TAIL_BYTES);
      },
    },
  }).finally(() => {
    finished = true;
  });
  const onAbort = () => void stopGroup(groupFile, () => finished, options.killGraceMs ?? 5000);
  signal?.addEventListener('abort', onAbort, { once: true });
  let status: number | null;
  try {
    status = await running;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new SourceError(label, `could not be started: ${(error as Error).message}`, { cause: error });
  } finally {
    clearInterval(report);
    signal?.removeEventListener('abort', onAbort);
    await rm(groupFile, { force: true });
  }
  if (signal?.aborted) throw signal.reason;
  if (status !== 0) {
    const lines = tail.toString('utf8').trimEnd().split('\n').slice(-STDERR_TAIL_LINES);
    const stderr = lines.join('\n').trim() === '' ? ' (its stderr was empty)' : `; the end of its stderr:\n${lines.join('\n')}`;
    const how = status === null ? 'was killed by a signal' : `failed with exit status ${status}`;
    throw new SourceError(label, `${how} after ${((performance.now() - started) / 1000).toFixed(1)} s; nothing was kept${stderr}`);
  }
}

/**
 * Stops the command's whole process group: SIGTERM, then SIGKILL for what is still there after the
 * grace period. The group id appears in `groupFile` as soon as the wrapper runs.
 */
async function stopGroup(groupFile: string, finished: () => boolean, graceMs: number): Promise<void> {
  let group: number | undefined;
  while (!finished()) {
    const text = await readFile(groupFile, 'utf8').catch(() => '');
    if (/^\d+$/.test(text) && Number(text) > 1) {
      group = Number(text);
      break;
    }
    await sleep(20);
  }
  if (group === undefined) return;
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-(group as number), sig);
    } catch {
      // The group is gone already.
    }
  };
  kill('SIGTERM');
  const deadline = performance.now() + graceMs;
  while (!finished() && performance.now() < deadline) await sleep(50);
  kill('SIGKILL');
}
