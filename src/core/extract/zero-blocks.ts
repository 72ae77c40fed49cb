const ZERO_SPAN = 64 * 1024;
const ZEROS = Buffer.alloc(ZERO_SPAN);

/** Whether buf[start, end) holds only zero bytes. */
export function isZero(buf: Buffer, start: number, end: number): boolean {
  // Most data blocks have a non-zero byte at one of these spots; looking at them here spares the
  // native compare call that would otherwise run for every 4 KiB block.
  if (buf[start] !== 0 || buf[end - 1] !== 0 || buf[(start + end) >>> 1] !== 0) return false;
  for (let at = start; at < end; at += ZERO_SPAN) {
    const stop = Math.min(end, at + ZERO_SPAN);
    if (ZEROS.compare(buf, at, stop, 0, stop - at) !== 0) return false;
  }
  return true;
}
