// Bundles the CLI into dist/ (what a runner executes without npm install), with zstd-napi's
// compiled addon next to it. `node scripts/package.mjs --check` fails when dist/ is stale: a bundle
// that differs from src/, or an addon that differs from node_modules/zstd-napi's build.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const ADDON = 'zstd-napi.node';
// Each worker thread is an entry of its own: the module that starts it looks for it beside the bundle.
const entries = {
  cli: 'src/cli/index.ts',
  'decode-worker': 'src/core/extract/zstd/decode-worker.ts',
  'frames-worker': 'src/core/extract/parallel/frames-worker.ts',
  'entry-compress-worker': 'src/core/entry/entry-compress-worker.ts',
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
  mkdirSync(outdir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir,
    bundle: true,
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
}

if (check) {
  const fresh = mkdtempSync(join(tmpdir(), 'basecow-dist-'));
  try {
    await bundle(fresh);
    // The addon is compared too: a dist/ whose bundles are fresh but whose addon was built from
    // another zstd-napi (or another Node ABI) fails at its first decompression, not at load.
    const files = [...Object.keys(entries).map((name) => `${name}.js`), ADDON];
    const stale = files.filter((file) => {
      try {
        return !readFileSync(join(fresh, file)).equals(readFileSync(join(root, 'dist', file)));
      } catch {
        return true;
      }
    });
    if (stale.length > 0) {
      console.error(`dist/ is stale (${stale.map((f) => `dist/${f}`).join(', ')} differ from src/ and node_modules/): run \`npm run package\` and commit dist/`);
      // exitCode, not exit(): the finally below still removes the fresh bundle.
      process.exitCode = 1;
    } else {
      console.error('dist/ matches src/');
    }
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
} else {
  await bundle(join(root, 'dist'));
}
