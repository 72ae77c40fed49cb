/**
 * Decoding threads that fill one base at once write their windows directly (O_DIRECT) whatever the
 * durability: buffered writes from several threads into one file queue on the file's lock, and
 * an entry decoded on two cores took 2.0-3.3 s through the page cache against 1.0 s directly
 * here, with the memory warm or fresh. When the base need not reach the disk before it is
 * published (durability: deferred) and the disk falls behind the decoders, a thread may copy a
 * window through the page cache instead of waiting. Which is cheaper depends on the machine: a
 * page cache copy cost 0.2-0.4 ns per byte where the memory had been in use a moment before, and
 * 2-2.9 ns per byte on this project's VMs where it had not (they hand freed memory back to their
 * host, so every fresh page faults in); a disk took 0.6 s for the bench base's 1.1 GiB on one
 * machine and 1.4-4.2 s on another.
 *
 * Neither cost is known in advance, so a thread that finds the disk still busy with its previous
 * window waits for it, but only as long as copying the new one would take, and then copies it (the
 * rent-or-buy rule: never more than twice the better choice's time). A copy's cost is learnt from
 * the copies made so far.
 */
export class SpillPolicy {
  /** What a page cache copy costs until one is measured, in ns per byte: between the machines above. */
  private nsPerByte = 1;
  private measured = false;

  /** How long to wait for the disk before writing `bytes` through the page cache instead, in ms. */
  patienceMs(bytes: number): number {
    return (bytes * this.nsPerByte) / 1e6;
  }

  /** Records a page cache copy of `bytes` that took `ms`. */
  learn(bytes: number, ms: number): void {
    if (bytes < 64 * 1024) return; // too short to time
    const cost = (ms * 1e6) / bytes;
    this.nsPerByte = this.measured ? 0.75 * this.nsPerByte + 0.25 * cost : cost;
    this.measured = true;
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
