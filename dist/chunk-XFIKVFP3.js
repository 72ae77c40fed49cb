import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/shared/thread-priority.ts
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
var BACKGROUND_NICE = 15;
function runInBackground() {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, BACKGROUND_NICE);
  } catch {
  }
}

export {
  runInBackground
};
