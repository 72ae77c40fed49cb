// Bundles what runs without npm install into dist/: the CLI, the action's entry points and the
// decoder worker, with zstd-napi's compiled addon, the default domain template and a package.json
// (module type, name and version) beside them, so that a bare copy of dist/ + action.yml runs.
// `node scripts/package.mjs --check` fails when any of it differs from what src/ would give.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const ADDON = 'zstd-napi.node';
// Each worker thread is an entry of its own: the module that starts it looks for it beside the bundle.
const entries = {
  cli: 'src/cli/index.ts',
  main: 'src/action/main.ts',
  post: 'src/action/post.ts',
  'overlay-main': 'src/action/overlay-main.ts',
  'overlay-post': 'src/action/overlay-post.ts',
  'decode-worker': 'src/core/extract/zstd/decode-worker.ts',
  'frames-worker': 'src/core/extract/parallel/frames-worker.ts',
  'entry-compress-worker': 'src/core/entry/entry-compress-worker.ts',
  'archive-feed-worker': 'src/core/entry/archive-feed-worker.ts',
  'hash-worker': 'src/core/store/hash-worker.ts',
};

// zstd-napi picks its addon with a computed require() that no bundler can follow; point it at the
// copy shipped beside the bundle instead.
const zstdAddon = {
  name: 'zstd-napi-addon',
  setup(b) {
    b.onResolve({ filter: /^zstd-napi\/binding(\.js)?$/ }, () => ({ path: 'zstd-napi-binding', namespace: 'zstd-addon' }));
    b.onLoad({ filter: /.*/, namespace: 'zstd-addon' }, () => ({
      contents: `import { createRequire } from 'node:module';\nexport default createRequire(import.meta.url)('./${ADDON}');\n`,
      loader: 'js',
    }));
  },
};

async function bundle(outdir) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir,
    bundle: true,
    splitting: true,
    // Chunks sit beside the entries: code in them resolves the worker and the addon relative to itself.
    chunkNames: '[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'warning',
    // Module paths end up in the bundle's comments and keys: taken as they are under the checkout,
    // not resolved through a symlinked node_modules (a worktree sharing another's), so that the
    // bundle, and so the freshness check, does not depend on where node_modules really lives.
    preserveSymlinks: true,
    plugins: [zstdAddon],
    // CommonJS dependencies call require(); ESM output needs a real one.
    banner: { js: "import { createRequire as __basecowRequire } from 'node:module';\nconst require = __basecowRequire(import.meta.url);" },
  });
  copyFileSync(join(root, 'node_modules/zstd-napi/build/Release/binding.node'), join(outdir, ADDON));
  // The default domain template, and the demo image the CLI uses when given no source.
  for (const dir of ['templates', 'images']) {
    mkdirSync(join(outdir, dir));
    for (const name of readdirSync(join(root, dir))) copyFileSync(join(root, dir, name), join(outdir, dir, name));
  }
  const { name, version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // The bundle finds its version and templates by this file (see src/core/shared/package-root.ts).
  writeFileSync(join(outdir, 'package.json'), `${JSON.stringify({ name, version, private: true, type: 'module' }, null, 2)}\n`);
}

function listFiles(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

if (check) {
  const fresh = mkdtempSync(join(tmpdir(), 'basecow-dist-'));
  try {
    await bundle(fresh);
    const wanted = listFiles(fresh).sort();
    let present = [];
    try {
      present = listFiles(join(root, 'dist')).sort();
    } catch {
      // no dist/ at all: every file is missing
    }
    const differ = wanted.filter((f) => {
      try {
        return !readFileSync(join(fresh, f)).equals(readFileSync(join(root, 'dist', f)));
      } catch {
        return true;
      }
    });
    const extra = present.filter((f) => !wanted.includes(f));
    if (differ.length > 0 || extra.length > 0) {
      const list = [...differ.map((f) => `dist/${f} differs or is missing`), ...extra.map((f) => `dist/${f} should not be there`)];
      console.error(`dist/ is stale (${list.join('; ')}): run \`npm run package\` and commit dist/`);
      // exitCode, not exit(): the finally below still removes the fresh bundle.
      process.exitCode = 1;
    } else {
      console.error('dist/ matches src/ (bundles, addon, templates, package.json)');
    }
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
} else {
  await bundle(join(root, 'dist'));
}
