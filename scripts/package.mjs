// Bundles the CLI into dist/ (what a runner executes without npm install), with zstd-napi's
// compiled addon next to it. `node scripts/package.mjs --check` fails when dist/ is stale.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const ADDON = 'zstd-napi.node';
// The decompression worker is its own entry: zstd-stream.ts starts it from beside the bundle.
const entries = { cli: 'src/cli/index.ts', 'decode-worker': 'src/core/extract/zstd/decode-worker.ts' };

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
    const stale = Object.keys(entries).filter((name) => {
      try {
        return !readFileSync(join(fresh, `${name}.js`)).equals(readFileSync(join(root, 'dist', `${name}.js`)));
      } catch {
        return true;
      }
    });
    if (stale.length > 0) {
      console.error(`dist/ is stale (${stale.map((n) => `dist/${n}.js`).join(', ')} differ from src/): run \`npm run package\` and commit dist/`);
      process.exit(1);
    }
    console.error('dist/ matches src/');
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
} else {
  await bundle(join(root, 'dist'));
}
