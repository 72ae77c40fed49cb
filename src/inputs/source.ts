import { UsageError } from '../core/errors.js';

/** Where the base comes from, as the user chose it. */
export type SourceChoice =
  | { kind: 'image'; image: string; member?: string }
  | { kind: 'url'; url: string; sha256: string; member?: string }
  | { kind: 'build'; command: string; keyFiles: string[]; member?: string };

/** The raw values; undefined or '' (an action input left out) mean not given. */
export interface SourceInputs {
  image?: string;
  member?: string;
  url?: string;
  sha256?: string;
  build?: string;
  keyFiles?: string;
}

/** How the front end names each value in errors: '--url' for the CLI, "input 'url'" for the action. */
export type SourceLabels = Record<keyof SourceInputs, string>;

export interface SourceChoiceOptions {
  /** Used when no source is given at all; without it, no source is an error. */
  defaultImage?: string;
  /** Commas separate globs too (the CLI's one-line form); a glob is otherwise one line. */
  keyFilesCommas?: boolean;
}

const given = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * Exactly one source: an image, a URL with its sha256, or a build command with its key files.
 * A half-given pair (a URL without sha256, a build without key files) names what is missing.
 */
export function parseSourceChoice(inputs: SourceInputs, labels: SourceLabels, options: SourceChoiceOptions = {}): SourceChoice {
  const exactlyOne = `give exactly one source: ${labels.image}, ${labels.url} + ${labels.sha256}, or ${labels.build} + ${labels.keyFiles}`;
  const chosen = [given(inputs.image) && labels.image, (given(inputs.url) || given(inputs.sha256)) && labels.url, (given(inputs.build) || given(inputs.keyFiles)) && labels.build].filter(
    (x): x is string => typeof x === 'string',
  );
  if (chosen.length > 1) throw new UsageError(`${exactlyOne} (got ${chosen.join(' and ')})`);
  const member = given(inputs.member) ? inputs.member.trim() : undefined;
  if (given(inputs.url) || given(inputs.sha256)) {
    if (!given(inputs.url)) throw new UsageError(`${labels.sha256} needs ${labels.url}: ${exactlyOne}`);
    if (!given(inputs.sha256)) throw new UsageError(`${labels.url} needs ${labels.sha256} (the sha256 of the file it names, to verify the download)`);
    return { kind: 'url', url: parseUrl(inputs.url.trim(), labels.url), sha256: parseSha256(inputs.sha256, labels.sha256), member };
  }
  if (given(inputs.build) || given(inputs.keyFiles)) {
    if (!given(inputs.build)) throw new UsageError(`${labels.keyFiles} needs ${labels.build}: ${exactlyOne}`);
    if (!given(inputs.keyFiles)) throw new UsageError(`${labels.build} needs ${labels.keyFiles} (globs of the files the image is made from: they and the command are its key)`);
    return { kind: 'build', command: inputs.build, keyFiles: parseKeyFiles(inputs.keyFiles, labels.keyFiles, options.keyFilesCommas ?? false), member };
  }
  if (given(inputs.image)) return { kind: 'image', image: inputs.image, member };
  if (options.defaultImage !== undefined) return { kind: 'image', image: options.defaultImage, member };
  throw new UsageError(exactlyOne);
}

/** 64 hex digits, with an optional `sha256:` (or `sha256-`) in front; returned in lowercase. */
export function parseSha256(text: string, label: string): string {
  const hex = text.trim().replace(/^sha256[:-]/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new UsageError(`${label} must be 64 hexadecimal digits (optionally after 'sha256:'), got ${JSON.stringify(text)}`);
  return hex.toLowerCase();
}

function parseUrl(text: string, label: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${label} ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${label} must be an http or https URL, got ${url.protocol.slice(0, -1)}`);
  return text;
}

/** One glob per line (and per comma, when `commas`); blank lines and `#` comments are dropped. */
export function parseKeyFiles(text: string, label: string, commas: boolean): string[] {
  const globs = text
    .split(commas ? /[\n,]/ : /\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (globs.length === 0) throw new UsageError(`${label} has no glob`);
  return globs;
}
