// `node build/bench/decode.js <source> <dest> <max-workers>`: basecow's extraction of one source
// with a bound on its decode threads, as a process of its own, so that the benchmark can time it
// whole (start-up included) and read its peak RSS. No command-line flag sets the bound: this is
// `extractToRaw`'s `maxWorkers`, the one option the parallel decoder takes. Prints one JSON line.
import { extractToRaw } from '../src/core/extract/index.js';

const [source, dest, workers] = process.argv.slice(2);
if (!source || !dest || !workers) {
  console.error('usage: decode.js <source> <dest> <max-workers>');
  process.exit(2);
}
const started = performance.now();
const result = await extractToRaw(source, dest, { maxWorkers: Number(workers) });
console.log(JSON.stringify({ workers: result.workers, format: result.format, size: result.size, seconds: (performance.now() - started) / 1000 }));
