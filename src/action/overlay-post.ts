import { runOverlayPost } from './run-overlay-post.js';

await runOverlayPost();
// A stalled cache download can leave a socket that would keep the step running after its work.
process.exit();
