import * as core from '@actions/core';
import { HttpClient } from '@actions/http-client';
import { tarMemberData } from '../core/extract/tar.js';
import { decompressChunks } from '../core/extract/zstd/decompress-chunks.js';
import { RemoteTransferError, type RestoreOptions, type StreamLookup } from '../core/remote/remote-cache.js';
import { contentRange } from '../core/shared/content-range.js';
import { TOOL_NAME, TOOL_VERSION } from '../core/shared/version.js';
import { getCacheServiceVersion, getCacheVersion, getCompressionMethod, internalCacheTwirpClient } from '#actions-cache-internal';

/**
 * How long a range request may send nothing before it is tried again. The client gives each
 * request of its Azure download 30 s; SEGMENT_DOWNLOAD_TIMEOUT_MINS, the client's own
 * setting for a whole segment, shortens it when set lower.
 */
export function stallTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const minutes = Number(env.SEGMENT_DOWNLOAD_TIMEOUT_MINS);
  return Number.isFinite(minutes) && minutes > 0 ? Math.min(30_000, minutes * 60_000) : 30_000;
}

/** The compression the client would use on this runner when an entry can be streamed here, else why not. */
export async function streamingMethod(readable: boolean, env: NodeJS.ProcessEnv = process.env): Promise<{ why: string } | { method: string }> {
  if ((env.BASECOW_ACTIONS_CACHE_RESTORE ?? '').trim() === 'client') return { why: 'BASECOW_ACTIONS_CACHE_RESTORE=client' };
  // v1 is the older service (GHES): its entries are reached another way, which restoreCache knows.
  if (getCacheServiceVersion() !== 'v2') return { why: 'the cache service is v1' };
  // restoreCache says why it skips reads, in its own words.
  if (!readable) return { why: 'the cache mode forbids reads' };
  const method = await getCompressionMethod();
  if (method === 'gzip') return { why: 'no zstd on this runner: entries are tar.gz archives' };
  return { method };
}

/**
 * An entry of the Actions cache as a stream: looked up by the client's own twirp call with the
 * version restoreCache would ask for, then downloaded from its signed URL in ranges (see
 * BlobTransfer) and unpacked as it arrives: zstd, then the entry's member of the tar. No archive
 * file in RUNNER_TEMP and no entry file in the workspace: the bytes go straight to the decoding
 * threads. The archive's zstd checksum is not checked, because the raw digest the
 * store checks covers every byte that is used.
 */
export async function streamActionsCacheEntry(cacheKey: string, relativePath: string, method: string, options: Pick<RestoreOptions, 'signal' | 'onProgress'>): Promise<StreamLookup> {
  const version = getCacheVersion([relativePath], method as Parameters<typeof getCacheVersion>[1]);
  const answer = await internalCacheTwirpClient().GetCacheEntryDownloadURL({ key: cacheKey, restoreKeys: [], version });
  if (!answer.ok || !answer.signedDownloadUrl) return { kind: 'absent' };
  core.info(`Cache hit for: ${answer.matchedKey}; decoding it as it downloads`);
  const transfer = new BlobTransfer(answer.signedDownloadUrl, options);
  const source = `the Actions cache archive of ${cacheKey}`;
  return { kind: 'entry', entry: { bytes: tarMemberData(decompressChunks(transfer.chunks(), source, false), relativePath, source), cancel: () => transfer.cancel() } };
}

/** Each request fetches this much of the blob. */
const RANGE_BYTES = 8 * 1024 * 1024;
/** Ranges in flight ahead of the one the decoding reads: as the client's Azure download, several connections at once. */
const RANGES_AHEAD = 4;
/** Tries per range before the transfer is given up (and the entry restored through restoreCache). */
const RANGE_ATTEMPTS = 3;
const RETRY_DELAY_MS = 1000;

type Message = import('node:http').IncomingMessage;

/** A range request's answer: a whole range, or (from a server that ignores ranges) the whole blob as it comes. */
type RangeAnswer = { kind: 'range'; body: Buffer; total: number } | { kind: 'whole'; message: Message; total: number };

/** Failures worth another try: the connection, a stall, the server's 5xx or 429. */
class RetryableError extends RemoteTransferError {}

/**
 * A blob read in ranges of 8 MiB, four requests in flight, handed on in order as the consumer
 * asks for chunks: the download runs ahead of the decoding by at most those ranges, a connection
 * that breaks or stalls costs one range again (up to 3 tries), and one slow connection does not
 * bound the transfer. Every way it can fail is a RemoteTransferError.
 */
class BlobTransfer {
  private readonly client = new HttpClient(`${TOOL_NAME}/${TOOL_VERSION}`, [], { keepAlive: true });
  private readonly inFlight = new Set<Message>();
  /** Range buffers the consumer is done with (a chunk is valid until the next is asked for): fewer fresh pages. */
  private readonly spare: Buffer[] = [];
  private cancelled = false;
  private readonly stallMs = stallTimeoutMs();

  constructor(
    private readonly url: string,
    private readonly options: Pick<RestoreOptions, 'signal' | 'onProgress'>,
  ) {}

  cancel(): void {
    this.cancelled = true;
    for (const message of this.inFlight) message.destroy();
    this.client.dispose();
  }

  async *chunks(): AsyncGenerator<Buffer> {
    const onAbort = () => this.cancel();
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const first = await this.range(0);
      if (first.kind === 'whole') {
        yield* this.whole(first.message, first.total);
        return;
      }
      const total = first.total;
      const count = Math.ceil(total / RANGE_BYTES);
      const pending = new Map<number, Promise<RangeAnswer>>();
      const request = (index: number) => {
        if (index >= count || pending.has(index)) return;
        const answer = this.range(index * RANGE_BYTES);
        // Settled in order below; one that fails meanwhile is not unhandled.
        answer.catch(() => undefined);
        pending.set(index, answer);
      };
      let received = 0;
      for (let index = 0; index < count; index++) {
        for (let ahead = index + 1; ahead <= index + RANGES_AHEAD; ahead++) request(ahead);
        const answer = index === 0 ? first : await pending.get(index)!;
        pending.delete(index);
        if (answer.kind !== 'range' || answer.total !== total) throw new RemoteTransferError(`the blob changed size during the download (${total} bytes, then ${answer.total})`);
        received += answer.body.length;
        this.options.onProgress?.(received, total);
        yield answer.body;
        this.spare.push(answer.body);
      }
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      this.cancel();
    }
  }

  /** The range at `start`, tried up to RANGE_ATTEMPTS times. */
  private async range(start: number): Promise<RangeAnswer> {
    for (let attempt = 1; ; attempt++) {
      if (this.cancelled) throw new RemoteTransferError('the download was cancelled');
      try {
        return await this.tryRange(start);
      } catch (error) {
        if (!(error instanceof RetryableError) || attempt >= RANGE_ATTEMPTS || this.cancelled) {
          throw error instanceof RemoteTransferError ? error : new RemoteTransferError((error as Error).message);
        }
        core.debug(`range at ${start}: try ${attempt} of ${RANGE_ATTEMPTS} failed (${(error as Error).message}); trying again`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
      }
    }
  }

  private async tryRange(start: number): Promise<RangeAnswer> {
    let message: Message;
    try {
      ({ message } = await this.client.get(this.url, { range: `bytes=${start}-${start + RANGE_BYTES - 1}` }));
    } catch (error) {
      throw new RetryableError(`the download could not reach the cache's storage: ${(error as Error).message}`);
    }
    const status = message.statusCode ?? 0;
    if (status === 200 && start === 0) {
      // A server that ignores ranges: the whole blob, read as it comes.
      return { kind: 'whole', message, total: Number(message.headers['content-length'] ?? Number.NaN) };
    }
    this.inFlight.add(message);
    try {
      if (status !== 206) {
        message.resume();
        const failure = `the download of bytes ${start}- answered HTTP ${status}`;
        throw status >= 500 || status === 429 ? new RetryableError(failure) : new RemoteTransferError(failure);
      }
      const range = contentRange(message.headers['content-range']);
      if (!range || range.start !== start || range.total === undefined) throw new RemoteTransferError(`the download of bytes ${start}- answered the range ${message.headers['content-range'] ?? '(none)'}`);
      const length = range.end - start + 1;
      const reused = this.spare.length > 0 && this.spare[this.spare.length - 1].length >= length ? this.spare.pop() : undefined;
      const body = reused ? reused.subarray(0, length) : Buffer.allocUnsafe(length);
      let filled = 0;
      const iterator = message[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      for (;;) {
        const next = await this.within(message, iterator.next()).catch((error: Error) => {
          throw error instanceof RetryableError ? new RetryableError(`the download of bytes ${start}- stopped after ${filled} bytes: ${error.message}`) : error;
        });
        if (next.done) break;
        if (filled + next.value.length > body.length) throw new RetryableError(`the download of bytes ${start}- sent more than its range`);
        next.value.copy(body, filled);
        filled += next.value.length;
      }
      if (filled !== body.length) throw new RetryableError(`the download of bytes ${start}- ended after ${filled} of ${body.length} bytes`);
      return { kind: 'range', body, total: range.total };
    } finally {
      this.inFlight.delete(message);
      message.destroy();
    }
  }

  /** A whole blob's body, chunk by chunk as the consumer asks. */
  private async *whole(message: Message, total: number): AsyncGenerator<Buffer> {
    this.inFlight.add(message);
    const iterator = message[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let received = 0;
    for (;;) {
      const next = await this.within(message, iterator.next()).catch((error: Error) => {
        throw error instanceof RetryableError ? new RemoteTransferError(`the download stopped after ${received} bytes: ${error.message}`) : error;
      });
      if (next.done) break;
      received += next.value.length;
      this.options.onProgress?.(received, total);
      yield next.value;
    }
    if (Number.isFinite(total) && received !== total) throw new RemoteTransferError(`the download ended after ${received} of ${total} bytes`);
  }

  /** `next` within the stall timeout; a stall or a broken connection is retryable. */
  private async within<T>(message: Message, next: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        message.destroy();
        reject(new RetryableError(`nothing arrived for ${Math.round(this.stallMs / 1000)} s`));
      }, this.stallMs);
    });
    // A read left behind by a stall settles after its connection is gone: nobody waits for it.
    next.catch(() => undefined);
    try {
      return await Promise.race([next, stalled]);
    } catch (error) {
      if (error instanceof RemoteTransferError) throw error;
      if (this.cancelled) throw new RemoteTransferError('the download was cancelled');
      throw new RetryableError(`the connection broke (${(error as Error).message})`);
    } finally {
      clearTimeout(timer);
    }
  }
}
