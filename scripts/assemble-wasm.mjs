// Assembles src/core/extract/zstd/xxh64.wat into xxh64-wasm.ts (the module's bytes, base64), which is
// committed so that building needs no assembler. `--check` fails when the committed file is stale.
import wabtInit from 'wabt';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../src/core/extract/zstd');
const source = join(dir, 'xxh64.wat');
const target = join(dir, 'xxh64-wasm.ts');
const wabt = await wabtInit();
const module = wabt.parseWat('xxh64.wat', readFileSync(source, 'utf8'), { threads: true });
module.validate({ threads: true });
const bytes = Buffer.from(module.toBinary({}).buffer);
const text = `// Generated from xxh64.wat by scripts/assemble-wasm.mjs: edit the .wat and run \`npm run assemble\`.\nexport const XXH64_WASM = '${bytes.toString('base64')}';\n`;
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // Missing counts as stale.
  }
  if (committed !== text) {
    console.error('src/core/extract/zstd/xxh64-wasm.ts does not match xxh64.wat: run `npm run assemble` and commit it');
    process.exit(1);
  }
  console.error('xxh64-wasm.ts matches xxh64.wat');
} else {
  writeFileSync(target, text);
}
