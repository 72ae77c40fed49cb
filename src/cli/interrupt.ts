import { constants } from 'node:os';

/** The run was stopped by a signal; its exit status is the shell's 128 + the signal's number. */
export class InterruptedError extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }

  get exitCode(): number {
    return 128 + constants.signals[this.signal];
  }
}

/**
 * SIGINT and SIGTERM (Ctrl-C, a cancelled CI job) abort the work through an AbortSignal, so that the
 * core's own cleanup runs: temp files removed, the lock released, nothing published. A second
 * signal exits at once, for a user who will not wait for that.
 */
export function interruptOnSignals(): { signal: AbortSignal; explain: (error: unknown) => unknown; dispose: () => void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(128 + constants.signals[name]);
    controller.abort(new InterruptedError(name));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    // A terminal's Ctrl-C reaches the children too (qemu-img, virsh), whose failure then surfaces
    // first: once we were interrupted, that is the story.
    explain: (error) => (controller.signal.aborted ? controller.signal.reason : error),
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
