import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  DIGEST_KEY,
  writeFileAtomically
} from "./chunk-PP3B4BCK.js";
import {
  SourceError
} from "./chunk-BHNCOJM6.js";

// src/core/store/source-digest.ts
import { createHash } from "node:crypto";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
var HASH_READ_SIZE = 8 * 1024 * 1024;
async function hashFile(path, onRead, signal) {
  const hash = createHash("sha256");
  const file = await open(path, "r");
  try {
    const buffers = [Buffer.allocUnsafe(HASH_READ_SIZE), Buffer.allocUnsafe(HASH_READ_SIZE)];
    let position = 0;
    let turn = 0;
    let pending = file.read(buffers[turn], 0, HASH_READ_SIZE, position);
    for (; ; ) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      turn ^= 1;
      pending = file.read(buffers[turn], 0, HASH_READ_SIZE, position);
      hash.update(buffer.subarray(0, bytesRead));
      onRead?.(position);
      signal?.throwIfAborted();
    }
  } finally {
    await file.close();
  }
  return `sha256-${hash.digest("hex")}`;
}
async function hashFileOffThread(path, onRead, signal) {
  signal?.throwIfAborted();
  const worker = new Worker(new URL("./hash-worker.js", import.meta.url));
  try {
    return await new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      const settle = () => signal?.removeEventListener("abort", onAbort);
      worker.on("message", (reply) => {
        if (reply.kind === "read") return onRead?.(reply.done);
        settle();
        if (reply.kind === "done") resolve(reply.key);
        else reject(new Error(reply.message));
      });
      worker.on("error", (error) => {
        settle();
        reject(error);
      });
      worker.on("exit", (code) => {
        settle();
        reject(new Error(`the hashing thread exited with code ${code}`));
      });
      worker.postMessage(path);
    });
  } finally {
    worker.removeAllListeners("exit");
    await worker.terminate();
  }
}
async function statSource(source) {
  let info;
  try {
    info = await stat(source, { bigint: true });
  } catch (error) {
    throw new SourceError(source, `cannot read the source image: ${error.message}`, { cause: error });
  }
  if (!info.isFile()) throw new SourceError(source, "is not a regular file");
  return info;
}
async function sourceKey(source, info, memoDir, hooks = {}) {
  const { onRead, signal } = hooks;
  const memoPath = memoPathOf(info, memoDir);
  const identity = memoIdentity(info);
  const remembered = await memoizedKey(info, memoDir);
  if (remembered) return { key: remembered, memoized: true };
  let key;
  try {
    key = await (hooks.offThread ? hashFileOffThread : hashFile)(source, onRead, signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new SourceError(source, `cannot read the source image: ${error.message}`, { cause: error });
  }
  try {
    await mkdir(memoDir, { recursive: true });
    await writeFileAtomically(memoPath, JSON.stringify({ ...identity, key }));
  } catch (error) {
    hooks.onWarning?.({ code: "digest-memo-not-written", message: `cannot remember the digest of ${source} in ${memoPath} (the next run hashes it again): ${error.message}` });
  }
  return { key, memoized: false };
}
var memoPathOf = (info, memoDir) => join(memoDir, `${info.dev}-${info.ino}.json`);
var memoIdentity = (info) => ({ size: String(info.size), mtimeNs: String(info.mtimeNs), ctimeNs: String(info.ctimeNs) });
async function memoizedKey(info, memoDir) {
  const identity = memoIdentity(info);
  const memo = await readMemo(memoPathOf(info, memoDir));
  if (memo && memo.size === identity.size && memo.mtimeNs === identity.mtimeNs && memo.ctimeNs === identity.ctimeNs) return memo.key;
  return void 0;
}
async function readMemo(path) {
  try {
    const memo = JSON.parse(await readFile(path, "utf8"));
    return DIGEST_KEY.test(memo.key) ? memo : void 0;
  } catch {
    return void 0;
  }
}

export {
  hashFile,
  statSource,
  sourceKey,
  memoizedKey
};
