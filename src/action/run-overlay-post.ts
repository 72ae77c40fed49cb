import { failStep } from './run-main.js';
import { tearDownTestnet } from './teardown.js';

/** The overlay sub-action's post: always tear the testnet down, whatever the job's outcome. */
export async function runOverlayPost(): Promise<void> {
  try {
    await tearDownTestnet();
  } catch (error) {
    failStep(error);
  }
}
