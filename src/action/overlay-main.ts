import { runOverlayMain } from './run-overlay-main.js';

await runOverlayMain();
// A stalled cache download can leave a socket that would keep the step running after its work.
process.exit();
