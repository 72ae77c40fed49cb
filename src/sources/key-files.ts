import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { create } from '@actions/glob';
import { SourceError, UsageError } from '../core/errors.js';
import { sourceKey } from '../core/store/source-digest.js';
import type { WarningSink } from '../core/warnings.js';

export interface KeyFile {
  /** Relative to the workspace, '/'-separated. */
  path: string;
  /** Lowercase hex. */
  sha256: string;
}

export interface BuildKey {
  key: string;
  files: KeyFile[];
  /** Every file's digest came from the digest memo: no file was read. */
  memoized: boolean;
}

/** The first line of the serialization: changing the format changes every key. */
const KEY_FORMAT = 'basecow build key v1';

/**
 * The key of a build: `sha256-<hex>` of this text (UTF-8), one item per line:
 *
 *     basecow build key v1
 *     command <the command as a JSON string>
 *     file <sha256 hex of its bytes> <its path relative to the workspace, '/'-separated, as a JSON string>
 *     ...
 *
 * with one `file` line per matched file, sorted by path (UTF-8 byte order). JSON strings make a
 * path or a command with a newline or a space unambiguous; the relative paths make the key the same
 * wherever the workspace is checked out. The content of the files and the command text are all that
 * count: mtimes, modes and the environment do not.
 */
export function serializeBuildKey(command: string, files: KeyFile[]): string {
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return [KEY_FORMAT, `command ${JSON.stringify(command)}`, ...sorted.map((f) => `file ${f.sha256} ${JSON.stringify(f.path)}`)].join('\n') + '\n';
}

let diverted = 0;
let divertTo: ((line: string) => void) | undefined;
let stdoutWrite: typeof process.stdout.write | undefined;

/**
 * @actions/glob logs through @actions/core, which writes `::debug::` workflow commands to stdout:
 * the action's log shows them only in debug mode, but a CLI's stdout is its result (`--json`). With
 * a sink, those lines go to it instead while the globber runs; all other output passes unchanged.
 */
async function withGlobDebug<T>(sink: ((line: string) => void) | undefined, run: () => Promise<T>): Promise<T> {
  if (!sink) return run();
  divertTo = sink;
  if (diverted++ === 0) {
    const original = process.stdout.write;
    stdoutWrite = original;
    process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      if (typeof chunk === 'string' && chunk.startsWith('::debug::')) {
        divertTo?.(chunk.trimEnd());
        const callback = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  }
  try {
    return await run();
  } finally {
    if (--diverted === 0 && stdoutWrite) {
      process.stdout.write = stdoutWrite;
      stdoutWrite = undefined;
      divertTo = undefined;
    }
  }
}

/** The same escaping @actions/glob applies to the working directory it roots relative patterns at. */
function globEscape(path: string): string {
  return path
    .replace(/\\/g, '\\\\')
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]');
}

/**
 * Roots a relative pattern at `workspace` (@actions/glob would root it at the process's cwd).
 * Leading `.` and `..` segments are resolved here, because the globber takes them only at the very
 * start of a pattern. `!` (exclude) stays in front; absolute and `~` patterns are left as they are.
 */
export function rootPattern(line: string, workspace: string): string {
  const negation = /^!*/.exec(line)?.[0] ?? '';
  const body = line.slice(negation.length);
  if (body.startsWith('/') || body.startsWith('~')) return line;
  const segments = body.split('/');
  let base = workspace;
  while (segments.length > 0 && (segments[0] === '.' || segments[0] === '..' || segments[0] === '')) {
    base = resolve(base, segments.shift() as string);
  }
  const rest = segments.join('/');
  return `${negation}${globEscape(base)}${rest === '' ? '' : `/${rest}`}`;
}

/**
 * The files `patterns` match under `workspace`, with `hashFiles` semantics: one glob per entry,
 * `!` excludes, `**` crosses directories, a directory stands for everything beneath it, symbolic
 * links are followed, and files outside the workspace are left out. Then the key (see
 * serializeBuildKey). File digests are remembered in `digestsDir` (per inode, while size, mtime and
 * ctime are unchanged), so an unchanged large key file is not read again.
 */
export async function buildKey(options: {
  command: string;
  patterns: string[];
  workspace: string;
  digestsDir: string;
  signal?: AbortSignal;
  onWarning?: WarningSink;
  /** See withGlobDebug; without it the globber's debug lines go to stdout (the action's log). */
  onGlobDebug?: (line: string) => void;
}): Promise<BuildKey> {
  const workspace = resolve(options.workspace);
  const lines = options.patterns.map((p) => p.trim()).filter((p) => p !== '' && !p.startsWith('#'));
  if (lines.length === 0) throw new UsageError('key-files: no glob given', 'no-key-files', { workspace });
  const matched = await withGlobDebug(options.onGlobDebug, async () => {
    const globber = await create(lines.map((line) => rootPattern(line, workspace)).join('\n'), {
      followSymbolicLinks: true,
      implicitDescendants: true,
      matchDirectories: false,
    });
    return globber.glob();
  });
  const files: KeyFile[] = [];
  let memoized = true;
  for (const path of matched) {
    options.signal?.throwIfAborted();
    if (!path.startsWith(`${workspace}${sep}`)) continue;
    const info = await stat(path, { bigint: true }).catch((error: Error) => {
      throw new SourceError(path, `cannot read this key file: ${error.message}`, { cause: error });
    });
    if (!info.isFile()) continue;
    const digest = await sourceKey(path, info, options.digestsDir, { signal: options.signal, onWarning: options.onWarning });
    memoized &&= digest.memoized;
    files.push({ path: relative(workspace, path).split(sep).join('/'), sha256: digest.key.slice('sha256-'.length) });
  }
  if (files.length === 0) {
    throw new UsageError(
      `the key-files globs matched no file under ${workspace}: ${lines.map((l) => JSON.stringify(l)).join(', ')}`,
      'no-key-files',
      { workspace, globs: lines.join('\n') },
    );
  }
  const key = `sha256-${createHash('sha256').update(serializeBuildKey(options.command, files)).digest('hex')}`;
  return { key, files, memoized };
}
