import { failStep } from './run-main.js';
import { releaseJobLease } from './run-post.js';
import { tearDownTestnet } from './teardown.js';

/** The overlay sub-action's post: always tear the testnet down, whatever the job's outcome, then give its lease back. */
export async function runOverlayPost(): Promise<void> {
  try {
    await tearDownTestnet();
  } catch (error) {
    failStep(error);
  }
  await releaseJobLease();
}
