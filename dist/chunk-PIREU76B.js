import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/extract/write/spill-policy.ts
var SpillPolicy = class {
  /** What a page cache copy costs until one is measured, in ns per byte: between the machines above. */
  nsPerByte = 1;
  measured = false;
  decisions = 0;
  /** How long to wait for the disk before writing `bytes` through the page cache instead, in ms. */
  patienceMs(bytes) {
    return bytes * this.nsPerByte / 1e6;
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
  prefersCopy() {
    return this.measured && this.nsPerByte < CHEAP_COPY_NS_PER_BYTE;
  }
  /** While writing directly: true once in a while, so that a copy measures whether memory got cheaper. */
  sampleDue() {
    this.decisions++;
    return this.decisions === FIRST_SAMPLE || this.decisions % SAMPLE_EVERY === 0;
  }
  /** Runs `copy`, a page cache copy of `bytes`, and learns from how long it took. */
  timeCopy(bytes, copy) {
    const started = performance.now();
    copy();
    this.learn(bytes, performance.now() - started);
  }
  learn(bytes, ms) {
    if (bytes < 64 * 1024) return;
    const cost = ms * 1e6 / bytes;
    this.nsPerByte = this.measured ? 0.75 * this.nsPerByte + 0.25 * cost : cost;
    this.measured = true;
  }
};
var CHEAP_COPY_NS_PER_BYTE = 1.2;
var FIRST_SAMPLE = 8;
var SAMPLE_EVERY = 64;
async function settlesWithin(pending, ms) {
  let timer;
  const settled = pending.then(
    () => true,
    () => true
  );
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

// src/core/extract/write/page-cache-writes.ts
import { fdatasync, writeSync } from "node:fs";
import { promisify } from "node:util";
var fdatasyncAsync = promisify(fdatasync);
var FLUSH_EVERY = 32 * 1024 * 1024;
function writeFully(fd, buf, start, end, position) {
  let done = 0;
  const length = end - start;
  while (done < length) {
    const written = writeSync(fd, buf, start + done, length - done, position + done);
    if (written === 0) throw new Error(`write at offset ${position + done} made no progress`);
    done += written;
  }
}
var PageCacheWrites = class {
  /** `flushAsWritten` off: no background flushes, for a file nobody will wait to see on the disk. */
  constructor(fd, options = {}) {
    this.fd = fd;
    this.flushAsWritten = options.flushAsWritten ?? true;
  }
  fd;
  /** Bytes written (data, not holes): what the background flushes are paced by. */
  bytes = 0;
  flushedUpTo = 0;
  flushing;
  flushFailure;
  flushAsWritten;
  write(buf, start, end, position) {
    if (this.flushFailure !== void 0) throw this.flushFailure;
    writeFully(this.fd, buf, start, end, position);
    this.bytes += end - start;
    if (this.flushAsWritten && !this.flushing && this.bytes - this.flushedUpTo >= FLUSH_EVERY) this.startFlush();
  }
  /** Waits for the background flush in flight and reports its failure. */
  async settle() {
    await this.flushing;
    if (this.flushFailure !== void 0) throw this.flushFailure;
  }
  startFlush() {
    this.flushedUpTo = this.bytes;
    this.flushing = fdatasyncAsync(this.fd).then(
      () => {
        this.flushing = void 0;
      },
      (error) => {
        this.flushFailure ??= error;
        this.flushing = void 0;
      }
    );
  }
};

export {
  SpillPolicy,
  settlesWithin,
  writeFully,
  PageCacheWrites
};
