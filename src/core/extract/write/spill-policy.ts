/**
 * When a base need not reach the disk before it is published (durability: deferred), its data still
 * goes out with direct writes, which cost next to no CPU; but when the disk falls behind the
 * decoder, a writer may copy a piece through the page cache instead of waiting for the disk. Which
 * is cheaper depends on the machine: a page cache copy cost 0.2-0.3 s per GiB on machines whose
 * memory was in use before, and 2-2.9 s per GiB here, on a VM whose freed memory goes back to its
 * host (free page reporting), so that every fresh page faults in; a disk took 0.6 s for the bench
 * base's 1.1 GiB on one machine and 1.4-4.2 s on another.
 *
 * Neither cost is known in advance, so a writer that finds the disk busy waits for it, but only as
 * long as copying the piece through the page cache would take, and then copies it (the rent-or-buy
 * rule: never more than twice the better choice's time). The copy's cost is learnt from the copies
 * made so far.
 */
export class SpillPolicy {
  /** What a page cache copy costs until one is measured: between the two machines above. */
  private nsPerByte = 0.5;

  /** How long to wait for the disk before writing `bytes` through the page cache instead, in ms. */
  patienceMs(bytes: number): number {
    return (bytes * this.nsPerByte) / 1e6;
  }

  /** Records a page cache copy of `bytes` that took `ms`. */
  learn(bytes: number, ms: number): void {
    if (bytes < 64 * 1024) return; // too short to time
    this.nsPerByte = 0.75 * this.nsPerByte + 0.25 * ((ms * 1e6) / bytes);
  }
}

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
