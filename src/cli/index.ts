import { prestartDecoder } from '../core/extract/zstd/stream.js';

// A cold prepare or up spends its first ~40 ms starting the decoder thread. Started here, before
// the rest of the CLI loads, that start-up runs on the other core meanwhile. On a warm cache the
// thread goes unused: its start-up CPU is all it costs.
if (process.argv[2] === 'prepare' || process.argv[2] === 'up') prestartDecoder();

const { main } = await import('./main.js');
process.exitCode = await main(process.argv.slice(2));
