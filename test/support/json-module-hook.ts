// A module `load` hook that serves @actions/workflow-parser's schema files as JavaScript modules.
//
// The parser imports its JSON schemas with a bare `import schema from "../workflow-v1.0.min.json"`.
// Node 20's ESM loader refuses JSON without `with { type: 'json' }`, so importing the package fails
// before any code of ours runs. A load hook was chosen over bundling the parser with esbuild at test
// time because it changes nothing but these two files' format: the parser still runs from
// node_modules as published (its stack traces and source maps stay true) and no build step sits
// between a dependency update and the tests. It only touches .json files inside that package and
// only when the importer did not ask for JSON itself, so every other import is left to Node.
import { readFile } from 'node:fs/promises';

type LoadContext = { format?: string | null; importAttributes?: Record<string, string> };
type LoadResult = { format: string; source?: string | Buffer; shortCircuit?: boolean };
type NextLoad = (url: string, context?: LoadContext) => Promise<LoadResult>;

export async function load(url: string, context: LoadContext, nextLoad: NextLoad): Promise<LoadResult> {
  if (url.startsWith('file:') && url.endsWith('.json') && url.includes('/@actions/workflow-parser/') && context.importAttributes?.type !== 'json') {
    const text = await readFile(new URL(url), 'utf8');
    JSON.parse(text); // a damaged schema file fails here with a JSON error, not as odd JavaScript
    return { format: 'module', source: `export default ${text};\n`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
