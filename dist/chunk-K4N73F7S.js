import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  gc
} from "./chunk-MPQVKSM4.js";
import {
  STATE,
  cacheWritable,
  entryPathFor,
  failStep,
  label,
  saveEntry,
  warn
} from "./chunk-GCIZTC67.js";
import {
  getState,
  group,
  info
} from "./chunk-NWON5JDP.js";
import {
  formatBytes,
  parseBudget
} from "./chunk-OFAZTKQF.js";
import {
  HOLE_FRAME_MAX,
  encodeHeaderFrame,
  encodePlanFrame,
  encodeSeekTable,
  holeFrame
} from "./chunk-KZYD2Y56.js";
import {
  releaseLease
} from "./chunk-ZBR2KLNB.js";
import {
  replaceAtomically
} from "./chunk-PP3B4BCK.js";
import {
  storeLayout
} from "./chunk-CP6IPV72.js";
import {
  SourceError
} from "./chunk-BHNCOJM6.js";
import {
  RAW_DIGEST_SEGMENT,
  parseRawDigest,
  rawDigestFromSegments
} from "./chunk-WB6ZLOID.js";

// src/action/run-post.ts
import { rm } from "node:fs/promises";

// src/core/entry/write.ts
import { availableParallelism } from "node:os";
import { open, stat } from "node:fs/promises";
import { Worker } from "node:worker_threads";
var LEVEL = 3;
var MIN_HOLE = 1024 * 1024;
var MAX_DEFAULT_WORKERS = 8;
async function writeEntry(basePath, entryPath, options = {}) {
  const started = performance.now();
  let size;
  try {
    size = (await stat(basePath)).size;
  } catch (error) {
    throw new SourceError(basePath, `cannot read the base to make an entry of it: ${error.message}`, { cause: error });
  }
  const segments = Math.ceil(size / RAW_DIGEST_SEGMENT);
  const workers = Math.max(1, Math.min(options.workers ?? Math.min(availableParallelism(), MAX_DEFAULT_WORKERS), Math.max(1, segments)));
  try {
    const { bytes, frames, rawDigest } = await replaceAtomically(entryPath, async (temp) => {
      const out = await open(temp, "wx", 420);
      try {
        const written = await writeFrames(basePath, size, segments, workers, out, options);
        await out.sync();
        return written;
      } finally {
        await out.close();
      }
    });
    return { bytes, frames, rawDigest, workers, seconds: (performance.now() - started) / 1e3 };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof SourceError) throw error;
    throw new SourceError(basePath, `cannot write the entry ${entryPath}: ${error.message}`, { cause: error });
  }
}
var FrameSink = class {
  constructor(out) {
    this.out = out;
  }
  out;
  position = 0;
  seek = [];
  kinds = [];
  async frame(bytes, decompressedSize, kind) {
    await this.append(bytes);
    this.seek.push({ compressedSize: bytes.length, decompressedSize });
    if (kind) this.kinds.push(kind);
  }
  async append(bytes) {
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await this.out.write(bytes, done, bytes.length - done, this.position);
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }
};
async function writeFrames(basePath, size, segments, workerCount, out, options) {
  const sink = new FrameSink(out);
  await sink.frame(encodeHeaderFrame(size), 0);
  const hashes = [];
  let pendingHole = 0;
  const flushHole = async () => {
    for (; pendingHole > 0; pendingHole -= Math.min(pendingHole, HOLE_FRAME_MAX)) {
      const length = Math.min(pendingHole, HOLE_FRAME_MAX);
      await sink.frame(holeFrame(length), length, "hole");
    }
  };
  await forEachSegmentInOrder(basePath, size, segments, workerCount, options.signal, async (done) => {
    hashes.push(done.hash);
    let at = 0;
    for (const run of done.runs) {
      if (run.kind === "hole") {
        pendingHole += run.length;
        continue;
      }
      await flushHole();
      await sink.frame(done.frames.subarray(at, at + run.compressedSize), run.length, "data");
      at += run.compressedSize;
    }
    options.onProgress?.(Math.min(size, (done.index + 1) * RAW_DIGEST_SEGMENT), size);
  });
  await flushHole();
  const rawDigest = rawDigestFromSegments(hashes);
  const frames = sink.kinds.length;
  await sink.frame(encodePlanFrame(parseRawDigest(rawDigest), sink.kinds), 0);
  await sink.append(encodeSeekTable(sink.seek));
  return { bytes: sink.position, frames, rawDigest };
}
async function forEachSegmentInOrder(basePath, size, segments, workerCount, signal, take) {
  signal?.throwIfAborted();
  const init = { path: basePath, segmentSize: RAW_DIGEST_SEGMENT, level: LEVEL, minHole: MIN_HOLE };
  const workers = Array.from({ length: workerCount }, () => new Worker(new URL("./entry-compress-worker.js", import.meta.url)));
  const finished = /* @__PURE__ */ new Map();
  let nextToSend = 0;
  let nextToTake = 0;
  let failure;
  let wake;
  const fail = (error) => {
    failure ??= error;
    wake?.();
  };
  const onAbort = () => fail(signal.reason);
  signal?.addEventListener("abort", onAbort);
  const send = (worker) => {
    if (nextToSend >= segments || nextToSend >= nextToTake + 2 * workerCount) {
      idle.push(worker);
      return;
    }
    const start = nextToSend * RAW_DIGEST_SEGMENT;
    worker.postMessage({ index: nextToSend, start, length: Math.min(RAW_DIGEST_SEGMENT, size - start) });
    nextToSend++;
  };
  const idle = [];
  try {
    for (const worker of workers) {
      worker.on("message", (reply) => {
        if (reply.kind === "failed") return fail(new Error(reply.message));
        finished.set(reply.index, reply);
        wake?.();
        send(worker);
      });
      worker.on("error", fail);
      worker.on("exit", (code) => fail(new Error(`an entry compression worker exited with code ${code}`)));
      worker.postMessage(init);
      send(worker);
    }
    while (nextToTake < segments) {
      while (failure === void 0 && !finished.has(nextToTake)) await new Promise((resolve) => wake = resolve);
      if (failure !== void 0) throw failure;
      const done = finished.get(nextToTake);
      finished.delete(nextToTake);
      nextToTake++;
      await take(done);
      for (let worker = idle.pop(); worker; worker = idle.pop()) {
        const before = nextToSend;
        send(worker);
        if (nextToSend === before) break;
      }
    }
    if (failure !== void 0) throw failure;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    for (const worker of workers) worker.removeAllListeners("exit");
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

// src/action/teardown.ts
async function tearDownTestnet() {
  const workDir = getState(STATE.workDir);
  if (!workDir) return;
  const connect = getState(STATE.connect) || void 0;
  await group("basecow: tear down the testnet", async () => {
    const { down } = await import("./down-MKJ3GYUJ.js");
    const result = await down({ workDir, connect, onWarning: warn });
    info(`${result.workDir}: stopped ${result.destroyed.length} domain(s), removed ${result.removed.length} file(s); console logs kept`);
  });
}

// src/action/run-post.ts
async function saveToRemote() {
  const key = getState(STATE.savedKey);
  const base = getState(STATE.base);
  if (!key || !base) return;
  if (!cacheWritable()) {
    info(`the runner's cache mode (${process.env.ACTIONS_CACHE_MODE}) does not allow saving: base ${key} stays on this runner only`);
    return;
  }
  await group("basecow: save the base to the Actions cache", async () => {
    const entryPath = await entryPathFor(key);
    try {
      const started = performance.now();
      const entry = await writeEntry(base, entryPath, {});
      info(`entry made: ${formatBytes(entry.bytes)} in ${entry.frames} frames, ${((performance.now() - started) / 1e3).toFixed(2)} s`);
      const savedStarted = performance.now();
      const outcome = await saveEntry(key);
      if (outcome.saved) info(`saved as cache entry ${outcome.cacheId} in ${((performance.now() - savedStarted) / 1e3).toFixed(2)} s`);
      else warn({ code: "remote-save-failed", message: `base ${key} was not saved to the Actions cache: ${outcome.reason}` });
    } catch (error) {
      warn({ code: "remote-save-failed", message: `base ${key} was not saved to the Actions cache: ${error.message}` });
    } finally {
      await rm(entryPath, { force: true });
    }
  });
}
async function releaseJobLease() {
  const cacheDir = getState(STATE.gcCacheDir);
  const key = getState(STATE.leaseKey);
  const id = getState(STATE.leaseId);
  if (!cacheDir || !key || !id) return;
  try {
    await releaseLease(storeLayout(cacheDir), key, id);
  } catch (error) {
    warn({ code: "lease-not-released", message: `the lease ${id} on base ${key} could not be released (gc ignores it once this job is gone): ${error.message}` });
  }
}
async function collectGarbage() {
  const cacheDir = getState(STATE.gcCacheDir);
  if (!cacheDir) return;
  const budgetText = getState(STATE.gcBudget);
  await group("basecow: keep the store within its budget", async () => {
    try {
      const result = await gc({ cacheDir, ...budgetText ? parseBudget(budgetText, label("cache-budget")) : {}, onWarning: warn });
      for (const removed of result.removed) info(`removed ${removed.key} (${formatBytes(removed.allocatedBytes)}, last used ${removed.lastUsed})`);
      info(`store ${formatBytes(result.afterBytes)} of a ${formatBytes(result.budgetBytes)} budget; ${result.kept.length} base(s) over it kept (in use)`);
    } catch (error) {
      warn({ code: "gc-failed", message: `the store ${cacheDir} could not be brought within its budget: ${error.message}` });
    }
  });
}
async function runPost() {
  try {
    await tearDownTestnet();
  } catch (error) {
    failStep(error);
  }
  await saveToRemote();
  await releaseJobLease();
  await collectGarbage();
}

export {
  tearDownTestnet,
  releaseJobLease,
  runPost
};
