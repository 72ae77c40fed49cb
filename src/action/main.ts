import { runMain } from './run-main.js';

await runMain();
// A stalled cache download can leave a socket that would keep the step running after its work.
process.exit();
