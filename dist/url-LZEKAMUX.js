import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  contentRange
} from "./chunk-RGHLSL6Z.js";
import {
  HttpClient
} from "./chunk-6CTZAA2R.js";
import {
  TOOL_NAME,
  TOOL_VERSION
} from "./chunk-4F4VMEEG.js";
import {
  tempPrefix
} from "./chunk-CP6IPV72.js";
import {
  SourceError,
  UsageError
} from "./chunk-BHNCOJM6.js";
import "./chunk-NCNTTV4Q.js";

// src/sources/url.ts
import { createHash, randomBytes } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
var DEFAULT_RETRY = { attempts: 5, firstDelayMs: 1e3, maxDelayMs: 16e3 };
var SHA256_HEX = /^[0-9a-f]{64}$/;
var WRITE_BATCH = 1024 * 1024;
function redactUrl(url) {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = "***";
  copy.password = "";
  return copy.href;
}
function downloadName(url) {
  const last = url.pathname.split("/").pop() ?? "";
  let decoded = last;
  try {
    decoded = decodeURIComponent(last);
  } catch {
  }
  const safe = decoded.replace(/[^A-Za-z0-9._-]+/g, "-").slice(-100).replace(/^[.-]+/, "");
  return safe === "" ? "download" : safe;
}
function urlSource(options) {
  let url;
  try {
    url = new URL(options.url);
  } catch {
    throw new UsageError(`invalid URL ${JSON.stringify(options.url)}`, "bad-url", { url: options.url });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`unsupported URL ${JSON.stringify(redactUrl(url))}: only http and https are downloaded`, "bad-url", { url: redactUrl(url) });
  }
  const expected = options.sha256.toLowerCase();
  if (!SHA256_HEX.test(expected)) {
    throw new UsageError(`invalid sha256 ${JSON.stringify(options.sha256)}: expected 64 hexadecimal digits`, "bad-sha256");
  }
  const key = `sha256-${expected}`;
  const label = redactUrl(url);
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  return {
    label,
    async key() {
      return { key, memoized: false };
    },
    async materialize(context) {
      const temp = join(context.tmpDir, `${tempPrefix(key)}${process.pid}-${randomBytes(4).toString("hex")}.${downloadName(url)}`);
      try {
        const bytes = await download(url, temp, expected, label, retry, options.socketTimeoutMs ?? 6e4, context);
        return {
          path: temp,
          origin: "downloaded",
          dispose: () => rm(temp, { force: true }),
          record: { path: label, kind: "url", digest: key, bytes }
        };
      } catch (error) {
        await rm(temp, { force: true });
        if (context.signal?.aborted) throw context.signal.reason;
        throw error;
      }
    }
  };
}
var FatalDownloadError = class extends SourceError {
};
var RETRYABLE_STATUS = /* @__PURE__ */ new Set([408, 425, 429, 500, 502, 503, 504]);
async function download(url, dest, expected, label, retry, socketTimeoutMs, context) {
  const { signal } = context;
  const client = new HttpClient(`${TOOL_NAME}/${TOOL_VERSION}`, [], {
    allowRedirects: true,
    maxRedirects: 10,
    allowRetries: true,
    maxRetries: 2,
    socketTimeout: socketTimeoutMs,
    keepAlive: false
  });
  const file = await open(dest, "wx", 384);
  const state = { hash: createHash("sha256"), received: 0, total: 0, validator: void 0 };
  let best = 0;
  let fruitless = 0;
  let attempt = 0;
  try {
    for (; ; ) {
      signal?.throwIfAborted();
      attempt += 1;
      let failure;
      try {
        await fetchOnce(client, url, file, state, label, context);
        break;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof FatalDownloadError) throw error;
        if (error instanceof TypeError || /Redirect from HTTPS to HTTP/.test(error.message)) {
          throw new SourceError(label, `download failed: ${error.message}`, { cause: error });
        }
        failure = error;
      }
      if (state.received > best) {
        best = state.received;
        fruitless = 0;
      } else {
        fruitless += 1;
      }
      if (fruitless >= retry.attempts) {
        throw new SourceError(label, `download failed after ${attempt} attempts (${state.received} bytes received): ${failure.message}`, { cause: failure });
      }
      const delay = Math.min(retry.maxDelayMs, retry.firstDelayMs * 2 ** Math.max(0, fruitless - 1));
      context.onWarning?.({
        code: "download-retry",
        message: `${label}: ${failure.message}; ${state.received > 0 ? `resuming at byte ${state.received}` : "trying again"} in ${(delay / 1e3).toFixed(1)} s`
      });
      try {
        await sleep(delay, void 0, { signal });
      } catch {
        throw signal?.reason;
      }
    }
  } finally {
    client.dispose();
    await file.close();
  }
  const actual = state.hash.digest("hex");
  if (actual !== expected) {
    throw new SourceError(label, `sha256 mismatch: expected ${expected}, got ${actual} (${state.received} bytes downloaded); nothing was kept`);
  }
  return state.received;
}
async function fetchOnce(client, url, file, state, label, context) {
  const headers = {};
  if (state.received > 0) {
    headers.Range = `bytes=${state.received}-`;
    if (state.validator) headers["If-Range"] = state.validator;
  }
  const response = await getWithAbort(client, url.href, headers, context.signal);
  const message = response.message;
  const status = message.statusCode ?? 0;
  const resumedAt = status === 206 ? contentRange(message.headers["content-range"]) : void 0;
  if (status === 200) {
    await restart(file, state);
    const length = Number(message.headers["content-length"]);
    state.total = Number.isSafeInteger(length) && length >= 0 ? length : 0;
    const etag = message.headers.etag;
    state.validator = etag && !etag.startsWith("W/") ? etag : message.headers["last-modified"] ?? void 0;
  } else if (status === 206 && state.received > 0 && resumedAt?.start === state.received) {
    if (resumedAt.total !== void 0) state.total = resumedAt.total;
  } else {
    message.resume();
    const reason = `HTTP ${status}${message.statusMessage ? ` ${message.statusMessage}` : ""}`;
    if (status === 206 || status === 416) {
      await restart(file, state);
      throw new Error(`${reason} to a resumed request; starting over`);
    }
    if (RETRYABLE_STATUS.has(status)) throw new Error(reason);
    throw new FatalDownloadError(label, `download failed: ${reason}`);
  }
  const onAbort = () => message.destroy(context.signal?.reason);
  context.signal?.addEventListener("abort", onAbort, { once: true });
  let batch = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batchBytes === 0) return;
    const data = batch.length === 1 ? batch[0] : Buffer.concat(batch, batchBytes);
    batch = [];
    batchBytes = 0;
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await file.write(data, written, data.length - written, state.received + written);
      written += bytesWritten;
    }
    state.hash.update(data);
    state.received += data.length;
    context.onProgress?.({ phase: "download", done: state.received, total: state.total });
  };
  try {
    for await (const chunk of message) {
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH) await flush();
      else context.onProgress?.({ phase: "download", done: state.received + batchBytes, total: state.total });
    }
  } catch (error) {
    await flush();
    throw new Error(`connection dropped after ${state.received} bytes: ${error.message}`, { cause: error });
  } finally {
    context.signal?.removeEventListener("abort", onAbort);
  }
  await flush();
  if (state.total > 0 && state.received < state.total) {
    throw new Error(`connection closed after ${state.received} of ${state.total} bytes`);
  }
}
async function restart(file, state) {
  await file.truncate(0);
  state.hash = createHash("sha256");
  state.received = 0;
  state.total = 0;
  state.validator = void 0;
}
function getWithAbort(client, url, headers, signal) {
  signal?.throwIfAborted();
  const pending = client.get(url, headers);
  if (!signal) return pending;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      pending.then((late) => late.message.destroy(), () => void 0);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(
      (response) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) response.message.destroy();
        else resolve(response);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      }
    );
  });
}
export {
  DEFAULT_RETRY,
  downloadName,
  redactUrl,
  urlSource
};
