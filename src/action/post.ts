import { runPost } from './run-post.js';

await runPost();
// A stalled cache download can leave a socket that would keep the step running after its work.
process.exit();
