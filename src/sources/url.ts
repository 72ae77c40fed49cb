import { createHash, randomBytes, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient, type HttpClientResponse } from '@actions/http-client';
import { SourceError, UsageError } from '../core/errors.js';
import type { BaseSource, MaterializedSource, SourceContext } from '../core/store/base-source.js';
import { tempPrefix } from '../core/store/layout.js';
import { TOOL_NAME, TOOL_VERSION } from '../core/shared/version.js';
import { contentRange } from '../core/shared/content-range.js';

/** How a dropped or failed download is tried again. */
export interface RetryPolicy {
  /** Attempts in a row that bring no new bytes before giving up (the first one included). */
  attempts: number;
  /** Wait before the second attempt; doubles for each further one, up to maxDelayMs. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, firstDelayMs: 1000, maxDelayMs: 16_000 };

export interface UrlSourceOptions {
  url: string;
  /** sha256 of the file the URL serves: 64 hex digits (see src/inputs/source.ts for user syntax). */
  sha256: string;
  retry?: Partial<RetryPolicy>;
  /** A connection silent for this long counts as dropped (default 60 s). */
  socketTimeoutMs?: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Bytes gathered from the socket before one write to the temp file. */
const WRITE_BATCH = 1024 * 1024;

/** Credentials in a URL stay out of messages and the sidecar. */
export function redactUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = '***';
  copy.password = '';
  return copy.href;
}

/**
 * The temp file keeps the URL's file name, so that extraction reads its format from the name as it
 * does for a local file (`.img.zst`, `.tar.zst`, ...); a name that states no format leaves it to the
 * content. Characters outside [A-Za-z0-9._-] become '-', and only the tail is kept, where the
 * extension is.
 */
export function downloadName(url: URL): string {
  const last = url.pathname.split('/').pop() ?? '';
  let decoded = last;
  try {
    decoded = decodeURIComponent(last);
  } catch {
    // A malformed escape: the raw segment is as good a name.
  }
  const safe = decoded.replace(/[^A-Za-z0-9._-]+/g, '-').slice(-100).replace(/^[.-]+/, '');
  return safe === '' ? 'download' : safe;
}

/**
 * A file on an HTTP(S) server, pinned by its sha256. The key is `sha256-<that digest>`, known
 * without any request, so a base already in the local store or the remote cache never costs a
 * download. The download is hashed as it streams and checked before the file is used; a mismatch
 * keeps nothing.
 */
export function urlSource(options: UrlSourceOptions): BaseSource {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new UsageError(`invalid URL ${JSON.stringify(options.url)}`, 'bad-url', { url: options.url });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`unsupported URL ${JSON.stringify(redactUrl(url))}: only http and https are downloaded`, 'bad-url', { url: redactUrl(url) });
  }
  const expected = options.sha256.toLowerCase();
  if (!SHA256_HEX.test(expected)) {
    throw new UsageError(`invalid sha256 ${JSON.stringify(options.sha256)}: expected 64 hexadecimal digits`, 'bad-sha256');
  }
  const key = `sha256-${expected}`;
  const label = redactUrl(url);
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  return {
    label,
    async key() {
      return { key, memoized: false };
    },
    async materialize(context: SourceContext): Promise<MaterializedSource> {
      const temp = join(context.tmpDir, `${tempPrefix(key)}${process.pid}-${randomBytes(4).toString('hex')}.${downloadName(url)}`);
      try {
        const bytes = await download(url, temp, expected, label, retry, options.socketTimeoutMs ?? 60_000, context);
        return {
          path: temp,
          origin: 'downloaded',
          dispose: () => rm(temp, { force: true }),
          record: { path: label, kind: 'url', digest: key, bytes },
        };
      } catch (error) {
        await rm(temp, { force: true });
        if (context.signal?.aborted) throw context.signal.reason;
        throw error;
      }
    },
  };
}

/** A response that ends the download for good (404, 403, ...), as opposed to one worth another try. */
class FatalDownloadError extends SourceError {}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Downloads `url` to `dest` and returns its length. A connection that drops, stalls or fails with a
 * retryable status is tried again after a backoff: with `Range: bytes=<have>-` (and `If-Range` with
 * the first response's validator) when bytes already arrived, appending on a matching 206 and
 * starting over on a 200. Only attempts that bring no new bytes count against `retry.attempts`, so
 * a flaky but moving download finishes, and one that keeps failing at the same point stops.
 */
async function download(url: URL, dest: string, expected: string, label: string, retry: RetryPolicy, socketTimeoutMs: number, context: SourceContext): Promise<number> {
  const { signal } = context;
  // The client's own retries cover 502/503/504 answers; dropped connections are ours (below).
  const client = new HttpClient(`${TOOL_NAME}/${TOOL_VERSION}`, [], {
    allowRedirects: true,
    maxRedirects: 10,
    allowRetries: true,
    maxRetries: 2,
    socketTimeout: socketTimeoutMs,
    keepAlive: false,
  });
  const file = await open(dest, 'wx', 0o600);
  const state: DownloadState = { hash: createHash('sha256'), received: 0, total: 0, validator: undefined };
  let best = 0;
  let fruitless = 0;
  let attempt = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      attempt += 1;
      let failure: Error;
      try {
        await fetchOnce(client, url, file, state, label, context);
        break;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        // A response that says no, or a URL the client cannot follow (a bad redirect), will not change.
        if (error instanceof FatalDownloadError) throw error;
        if (error instanceof TypeError || /Redirect from HTTPS to HTTP/.test((error as Error).message)) {
          throw new SourceError(label, `download failed: ${(error as Error).message}`, { cause: error });
        }
        failure = error as Error;
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
        code: 'download-retry',
        message: `${label}: ${failure.message}; ${state.received > 0 ? `resuming at byte ${state.received}` : 'trying again'} in ${(delay / 1000).toFixed(1)} s`,
      });
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        throw signal?.reason;
      }
    }
  } finally {
    client.dispose();
    await file.close();
  }
  const actual = state.hash.digest('hex');
  if (actual !== expected) {
    throw new SourceError(label, `sha256 mismatch: expected ${expected}, got ${actual} (${state.received} bytes downloaded); nothing was kept`);
  }
  return state.received;
}

interface DownloadState {
  /** sha256 of exactly the bytes written to the file so far. */
  hash: Hash;
  received: number;
  /** Full length of the file, 0 when the server did not say. */
  total: number;
  /** ETag (strong) or Last-Modified of the first full response: a resumed part must be of the same file. */
  validator: string | undefined;
}

/** One request: streams the body into `file` at the offset `state` says, keeping the hash in step. */
async function fetchOnce(client: HttpClient, url: URL, file: FileHandle, state: DownloadState, label: string, context: SourceContext): Promise<void> {
  const headers: Record<string, string> = {};
  if (state.received > 0) {
    headers.Range = `bytes=${state.received}-`;
    if (state.validator) headers['If-Range'] = state.validator;
  }
  const response = await getWithAbort(client, url.href, headers, context.signal);
  const message = response.message;
  const status = message.statusCode ?? 0;
  const resumedAt = status === 206 ? contentRange(message.headers['content-range']) : undefined;
  if (status === 200) {
    // A full body: from the start, whatever we had.
    await restart(file, state);
    const length = Number(message.headers['content-length']);
    state.total = Number.isSafeInteger(length) && length >= 0 ? length : 0;
    const etag = message.headers.etag;
    state.validator = etag && !etag.startsWith('W/') ? etag : (message.headers['last-modified'] ?? undefined);
  } else if (status === 206 && state.received > 0 && resumedAt?.start === state.received) {
    if (resumedAt.total !== undefined) state.total = resumedAt.total;
  } else {
    message.resume();
    const reason = `HTTP ${status}${message.statusMessage ? ` ${message.statusMessage}` : ''}`;
    if (status === 206 || status === 416) {
      // A part we did not ask for, or a range the server will not serve: start over next time.
      await restart(file, state);
      throw new Error(`${reason} to a resumed request; starting over`);
    }
    if (RETRYABLE_STATUS.has(status)) throw new Error(reason);
    throw new FatalDownloadError(label, `download failed: ${reason}`);
  }

  const onAbort = () => message.destroy(context.signal?.reason as Error);
  context.signal?.addEventListener('abort', onAbort, { once: true });
  let batch: Buffer[] = [];
  let batchBytes = 0;
  // Bytes are counted and hashed only once they are in the file, so a drop at any point leaves the
  // file, the count and the hash in step for the next attempt's Range.
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
    context.onProgress?.({ phase: 'download', done: state.received, total: state.total });
  };
  try {
    for await (const chunk of message as AsyncIterable<Buffer>) {
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH) await flush();
      else context.onProgress?.({ phase: 'download', done: state.received + batchBytes, total: state.total });
    }
  } catch (error) {
    await flush();
    throw new Error(`connection dropped after ${state.received} bytes: ${(error as Error).message}`, { cause: error });
  } finally {
    context.signal?.removeEventListener('abort', onAbort);
  }
  await flush();
  if (state.total > 0 && state.received < state.total) {
    throw new Error(`connection closed after ${state.received} of ${state.total} bytes`);
  }
}

async function restart(file: FileHandle, state: DownloadState): Promise<void> {
  await file.truncate(0);
  state.hash = createHash('sha256');
  state.received = 0;
  state.total = 0;
  state.validator = undefined;
}

/**
 * The client takes no AbortSignal: an abort rejects at once, and a response that still arrives
 * afterwards is destroyed unread so that its socket closes.
 */
function getWithAbort(client: HttpClient, url: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<HttpClientResponse> {
  signal?.throwIfAborted();
  const pending = client.get(url, headers);
  if (!signal) return pending;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      pending.then((late) => late.message.destroy(), () => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (response) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) response.message.destroy();
        else resolve(response);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
