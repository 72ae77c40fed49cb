import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/extract/write/spill-policy.ts
var SpillPolicy = class {
  /** What a page cache copy costs until one is measured: between the two machines above. */
  nsPerByte = 0.5;
  /** How long to wait for the disk before writing `bytes` through the page cache instead, in ms. */
  patienceMs(bytes) {
    return bytes * this.nsPerByte / 1e6;
  }
  /** Records a page cache copy of `bytes` that took `ms`. */
  learn(bytes, ms) {
    if (bytes < 64 * 1024) return;
    this.nsPerByte = 0.75 * this.nsPerByte + 0.25 * (ms * 1e6 / bytes);
  }
};
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

export {
  SpillPolicy,
  settlesWithin
};
