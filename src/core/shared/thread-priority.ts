import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The niceness of work that only fills cores others leave idle. */
const BACKGROUND_NICE = 15;

/**
 * Lowers the calling thread's scheduling priority to background work, so that it takes only the
 * CPU that the process's other threads and other processes leave. Linux names a thread by its own
 * id in /proc/thread-self and lets setpriority take it; elsewhere, or if refused, this does
 * nothing. A thread cannot raise its priority again without privileges: only threads that end with
 * their background work call this.
 */
export function runInBackground(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, BACKGROUND_NICE);
  } catch {
    // No per-thread priority here: the work runs at the normal one.
  }
}
