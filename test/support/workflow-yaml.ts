// Workflow and action files read through @actions/workflow-parser: its schema errors as text, and the
// document as plain data for the checks and the harness.
//
// The data comes from the YAML library the parser itself reads files with (`yaml`, resolved from the
// parser's own package, so it is the very version the parser validated with), not from the
// parser's token tree: the tree keeps `${{ }}` inside longer text only as a rebuilt format() call
// whose format string, for block scalars, still carries the YAML's indentation. And the parser's
// model (convertWorkflowTemplate) drops what a step passes (`with:`, `shell`, `working-directory`).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ActionTemplate } from '@actions/workflow-parser/actions/index';
import { loadWorkflowParser } from './workflow-parser.js';

/** Plain YAML data; a `${{ }}` value stays a string holding its text, for the caller to evaluate. */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };
export type PlainMap = { [key: string]: Plain };

const parserYaml = createRequire(import.meta.resolve('@actions/workflow-parser'))('yaml') as { parse(text: string): unknown };

/** YAML text as plain data, read by the parser's own YAML library; throws on a syntax error. */
export const parseYaml = (text: string): unknown => parserYaml.parse(text);

function plainDoc(content: string): PlainMap {
  try {
    const doc = parseYaml(content) as Plain;
    return isMap(doc) ? doc : {};
  } catch {
    return {}; // the parser reports the syntax error itself
  }
}

export interface ParsedWorkflow {
  errors: string[];
  doc: PlainMap;
}

export interface ParsedAction {
  errors: string[];
  doc: PlainMap;
  template?: ActionTemplate;
}

const messages = (errors: { message: string }[]): string[] => errors.map((e) => e.message);

export async function parseWorkflowText(name: string, content: string): Promise<ParsedWorkflow> {
  const p = await loadWorkflowParser();
  const result = p.parseWorkflow({ name, content }, new p.NoOperationTraceWriter());
  const errors = messages(result.context.errors.getErrors());
  if (result.value && errors.length === 0) {
    // Conversion reports what the schema alone cannot: unknown `needs`, duplicate step ids, bad cron.
    const template = await p.convertWorkflowTemplate(result.context, result.value);
    for (const e of template.errors ?? []) errors.push(e.Message);
  }
  return { errors, doc: plainDoc(content) };
}

export async function parseWorkflowFile(path: string, name = path): Promise<ParsedWorkflow> {
  return parseWorkflowText(name, readFileSync(path, 'utf8'));
}

export async function parseActionText(name: string, content: string): Promise<ParsedAction> {
  const p = await loadWorkflowParser();
  const result = p.parseAction({ name, content }, new p.NoOperationTraceWriter());
  const errors = messages(result.context.errors.getErrors());
  let template: ActionTemplate | undefined;
  if (result.value && errors.length === 0) {
    template = p.convertActionTemplate(result.context, result.value);
    errors.push(...messages(result.context.errors.getErrors()));
  }
  return { errors, doc: plainDoc(content), template };
}

export async function parseActionFile(path: string, name = path): Promise<ParsedAction> {
  return parseActionText(name, readFileSync(path, 'utf8'));
}

export function isMap(value: Plain | undefined): value is PlainMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
