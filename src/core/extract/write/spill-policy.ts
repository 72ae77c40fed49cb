/**
 * How a base that need not reach the disk before it is published (durability: deferred) gets its
 * data written: directly (O_DIRECT), or copied through the page cache. Which is cheaper depends on
 * the machine: a page cache copy cost 0.2-0.8 ns per byte where the memory had been in use a moment
 * before, and 2-2.9 ns per byte on this project's VMs where it had not (they hand freed memory back
 * to their host, so every fresh page faults in); a disk took 0.6 s for the bench base's 1.1 GiB on
 * one machine and 1.4-4.2 s on another. Neither is known in advance, so the writers measure.
 *
 * Whoever writes directly and finds the disk still busy with its previous write waits for it, but
 * only as long as copying the new piece would take, and then copies it (the rent-or-buy rule:
 * never more than twice the better choice's time). One stream's writer (DirectWrites) also copies
 * everything once copies have proven cheap (prefersCopy), and copies a piece now and then while it
 * writes directly, to measure them again. The threads decoding an entry never prefer copies:
 * buffered writes from several threads into one file queue on the file's lock, and the bench entry
 * took 2.0-3.3 s through the page cache against 1.0 s directly, with the memory warm or fresh.
 */
export class SpillPolicy {
  /** What a page cache copy costs until one is measured, in ns per byte: between the machines above. */
  private nsPerByte = 1;
  private measured = false;
  private decisions = 0;

  /** How long to wait for the disk before writing `bytes` through the page cache instead, in ms. */
  patienceMs(bytes: number): number {
    return (bytes * this.nsPerByte) / 1e6;
  }

  /**
   * For one stream's writer: whether copying through the page cache beats writing directly even
   * when the disk keeps up. Not before a copy has been measured. A stream's copies run beside its
   * decoding thread, so they cost nothing until they outlast it: the bench's .tar.zst took 1.46 s
   * through the page cache and 1.7 s directly (the kernel allocating blocks and converting extents
   * for each direct write) where a copy cost 0.8 ns per byte on average, and a single-frame .img.zst
   * took 2.8 s through the page cache and 1.5 s with this policy where a copy cost 2-2.9 ns per byte.
   * The decoding threads of an entry never ask: their buffered writes queue on the file's lock.
   */
  prefersCopy(): boolean {
    return this.measured && this.nsPerByte < CHEAP_COPY_NS_PER_BYTE;
  }

  /** While writing directly: true once in a while, so that a copy measures whether memory got cheaper. */
  sampleDue(): boolean {
    this.decisions++;
    return this.decisions === FIRST_SAMPLE || this.decisions % SAMPLE_EVERY === 0;
  }

  /** Runs `copy`, a page cache copy of `bytes`, and learns from how long it took. */
  timeCopy(bytes: number, copy: () => void): void {
    const started = performance.now();
    copy();
    this.learn(bytes, performance.now() - started);
  }

  private learn(bytes: number, ms: number): void {
    if (bytes < 64 * 1024) return; // too short to time
    const cost = (ms * 1e6) / bytes;
    this.nsPerByte = this.measured ? 0.75 * this.nsPerByte + 0.25 * cost : cost;
    this.measured = true;
  }
}

/** Where a stream's page cache copies start to take longer than writing directly: about 1.7 s for 1.1 GiB. */
const CHEAP_COPY_NS_PER_BYTE = 1.2;
/** The first copy made only to measure one (the 8th 1 MiB stage), then one write in SAMPLE_EVERY. */
const FIRST_SAMPLE = 8;
const SAMPLE_EVERY = 64;

/** Whether `pending` settles (either way) within `ms`; at once when it already has. */
export async function settlesWithin(pending: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = pending.then(
    () => true,
    () => true,
  );
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
