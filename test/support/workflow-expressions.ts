// The subset of GitHub Actions expressions the workflow harness evaluates. The kit's workflows keep
// to it, and anything outside it (another function, a context the harness does not provide, an
// operator it does not implement) throws, so the harness never quietly runs a step GitHub would
// run differently.
//
// Supported: literals; the contexts the caller passes (inputs, steps, env, job, github, runner, ...)
// with `.name` and `['name']` access; ! && || == != (GitHub's loose equality: strings compare
// case-insensitively, other mixed types as numbers); ( ); success() failure() always() cancelled()
// and fromJSON().
import { Lexer, Parser } from '@actions/expressions';
import { Binary, ContextAccess, FunctionCall, Grouping, IndexAccess, Literal, Logical, Unary, type Expr } from '@actions/expressions/ast';
import { TokenType } from '@actions/expressions/lexer';

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

export interface EvalContext {
  /** Contexts by name; a name not here is an error. */
  contexts: Record<string, Value>;
  /**
   * Contexts whose every property must be present (github, job, runner): reading one the harness
   * does not provide is an error rather than the null GitHub would give for a real miss.
   */
  strict: Set<string>;
  /** 'success' or 'failure': what the status functions look at. */
  jobStatus: 'success' | 'failure';
}

const STATUS_FUNCTIONS = ['success', 'failure', 'always', 'cancelled'];

export class UnsupportedExpression extends Error {}

function parse(text: string, contexts: string[]): Expr {
  const tokens = new Lexer(text).lex().tokens;
  return new Parser(tokens, contexts, [
    ...STATUS_FUNCTIONS.map((name) => ({ name, minArgs: 0, maxArgs: 0 })),
  ]).parse();
}

export function truthy(v: Value): boolean {
  return !(v === false || v === 0 || v === '' || v === null || (typeof v === 'number' && Number.isNaN(v)));
}

function toNumber(v: Value): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim() === '' ? 0 : Number(v);
  return NaN;
}

function looseEquals(a: Value, b: Value): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  // null is not an object here: null == '' and null == 0 hold, as they do on GitHub.
  if ((a !== null && typeof a === 'object') || (b !== null && typeof b === 'object')) return a === b;
  return toNumber(a) === toNumber(b);
}

/** What a value becomes where a string is needed (a `with:` value, text around `${{ }}`). */
export function stringify(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v, null, 2);
  return String(v);
}

function usesStatusFunction(e: Expr): boolean {
  if (e instanceof FunctionCall) return STATUS_FUNCTIONS.includes(e.functionName.lexeme.toLowerCase()) || e.args.some(usesStatusFunction);
  if (e instanceof Logical) return e.args.some(usesStatusFunction);
  if (e instanceof Binary) return usesStatusFunction(e.left) || usesStatusFunction(e.right);
  if (e instanceof Unary) return usesStatusFunction(e.expr);
  if (e instanceof Grouping) return usesStatusFunction(e.group);
  if (e instanceof IndexAccess) return usesStatusFunction(e.expr) || usesStatusFunction(e.index);
  return false;
}

function evaluate(e: Expr, ctx: EvalContext, text: string): Value {
  const fail = (what: string): never => {
    throw new UnsupportedExpression(`the workflow harness does not support ${what} (in \${{ ${text} }})`);
  };
  if (e instanceof Literal) {
    const d = e.literal as { value?: unknown; kind: number };
    return d.value === undefined ? null : (d.value as Value);
  }
  if (e instanceof Grouping) return evaluate(e.group, ctx, text);
  if (e instanceof Unary) {
    if (e.operator.type !== TokenType.BANG) fail(`the operator ${e.operator.lexeme}`);
    return !truthy(evaluate(e.expr, ctx, text));
  }
  if (e instanceof Logical) {
    let result: Value = null;
    for (const arg of e.args) {
      result = evaluate(arg, ctx, text);
      if (e.operator.type === TokenType.AND ? !truthy(result) : truthy(result)) break;
    }
    return result;
  }
  if (e instanceof Binary) {
    const left = evaluate(e.left, ctx, text);
    const right = evaluate(e.right, ctx, text);
    if (e.operator.type === TokenType.EQUAL_EQUAL) return looseEquals(left, right);
    if (e.operator.type === TokenType.BANG_EQUAL) return !looseEquals(left, right);
    return fail(`the operator ${e.operator.lexeme}`);
  }
  if (e instanceof ContextAccess) {
    const name = e.name.lexeme;
    if (!(name in ctx.contexts)) fail(`the context '${name}'`);
    return ctx.contexts[name];
  }
  if (e instanceof IndexAccess) {
    const target = evaluate(e.expr, ctx, text);
    const key = evaluate(e.index, ctx, text);
    if (typeof key !== 'string' && typeof key !== 'number') return fail('an index that is not a name or a number');
    const root = rootContext(e);
    if (target === null || typeof target !== 'object') {
      // Reading into nothing: GitHub gives null, but here it means a step or input the harness never saw.
      return fail(`reading '${key}' of ${JSON.stringify(target)} (${describe(e.expr)})`);
    }
    const found = Array.isArray(target) ? target[Number(key)] : findKey(target, String(key));
    if (found === undefined) {
      if (root !== undefined && ctx.strict.has(root)) fail(`${describe(e)}: the harness does not provide it`);
      return null;
    }
    return found;
  }
  if (e instanceof FunctionCall) {
    const name = e.functionName.lexeme.toLowerCase();
    if (e.args.length > 0 && STATUS_FUNCTIONS.includes(name)) fail(`arguments to ${name}()`);
    switch (name) {
      case 'success':
        return ctx.jobStatus === 'success';
      case 'failure':
        return ctx.jobStatus === 'failure';
      case 'always':
        return true;
      case 'cancelled':
        return false; // the harness never cancels a run
      case 'fromjson': {
        const arg = evaluate(e.args[0], ctx, text);
        if (typeof arg !== 'string') return fail('fromJSON() of something other than text');
        return JSON.parse(arg) as Value;
      }
      default:
        return fail(`the function ${e.functionName.lexeme}()`);
    }
  }
  return fail(`the expression node ${e.constructor.name}`);
}

// Context keys are case-insensitive in GitHub (inputs.Foo is inputs.foo).
function findKey(obj: { [key: string]: Value }, key: string): Value | undefined {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  const match = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return match === undefined ? undefined : obj[match];
}

function rootContext(e: Expr): string | undefined {
  let cur: Expr = e;
  while (cur instanceof IndexAccess) cur = cur.expr;
  return cur instanceof ContextAccess ? cur.name.lexeme : undefined;
}

function describe(e: Expr): string {
  if (e instanceof ContextAccess) return e.name.lexeme;
  if (e instanceof IndexAccess) {
    const idx = e.index instanceof Literal ? String((e.index.literal as { value?: unknown }).value) : '?';
    return `${describe(e.expr)}.${idx}`;
  }
  return e.constructor.name;
}

/** One expression, without `${{ }}`. */
export function evaluateExpression(text: string, ctx: EvalContext): Value {
  return evaluate(parse(text, Object.keys(ctx.contexts)), ctx, text);
}

/**
 * A step's or job's `if:`. Like GitHub, a condition that calls no status function only holds while
 * the job succeeds (`success() && (...)`), and `${{ }}` around it is optional.
 */
export function evaluateCondition(text: string | boolean | undefined, ctx: EvalContext): boolean {
  if (text === undefined) return ctx.jobStatus === 'success';
  if (typeof text === 'boolean') return text && ctx.jobStatus === 'success';
  let inner = text.trim();
  const whole = /^\$\{\{([\s\S]*)\}\}$/.exec(inner);
  if (whole && !whole[1].includes('}}')) inner = whole[1].trim();
  const expr = parse(inner, Object.keys(ctx.contexts));
  const value = evaluate(expr, ctx, inner);
  return usesStatusFunction(expr) ? truthy(value) : ctx.jobStatus === 'success' && truthy(value);
}

/** Splits text into literal pieces and `${{ }}` expressions (quotes inside an expression respected). */
function pieces(text: string): ({ text: string } | { expr: string })[] {
  const out: ({ text: string } | { expr: string })[] = [];
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('${{', i);
    if (start < 0) {
      out.push({ text: text.slice(i) });
      break;
    }
    if (start > i) out.push({ text: text.slice(i, start) });
    let j = start + 3;
    let quoted = false;
    for (; j < text.length; j++) {
      if (text[j] === "'") quoted = !quoted;
      else if (!quoted && text.startsWith('}}', j)) break;
    }
    if (j >= text.length) throw new UnsupportedExpression(`an unterminated \${{ in ${JSON.stringify(text)}`);
    out.push({ expr: text.slice(start + 3, j).trim() });
    i = j + 2;
  }
  return out;
}

/**
 * A YAML value with `${{ }}` in it. A value that is one expression keeps its type (a boolean input
 * stays a boolean); text around expressions makes a string.
 */
export function interpolate(value: Value, ctx: EvalContext): Value {
  if (typeof value !== 'string' || !value.includes('${{')) return value;
  const parts = pieces(value);
  if (parts.length === 1 && 'expr' in parts[0]) return evaluateExpression(parts[0].expr, ctx);
  return parts.map((p) => ('expr' in p ? stringify(evaluateExpression(p.expr, ctx)) : p.text)).join('');
}
