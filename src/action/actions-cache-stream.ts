import * as core from '@actions/core';
import { HttpClient } from '@actions/http-client';
import { tarMemberData } from '../core/extract/tar.js';
import { decompressChunks } from '../core/extract/zstd/decompress-chunks.js';
import { RemoteTransferError, type RestoreOptions, type StreamLookup } from '../core/remote/remote-cache.js';
import { TOOL_NAME, TOOL_VERSION } from '../core/shared/version.js';
import { getCacheServiceVersion, getCacheVersion, getCompressionMethod, internalCacheTwirpClient, retryHttpClientResponse } from '#actions-cache-internal';

/**
 * How long the download may send nothing while the decoding waits for bytes. The client gives
 * each request of its Azure download 30 s; SEGMENT_DOWNLOAD_TIMEOUT_MINS, the client's own
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
 * version restoreCache would ask for, then downloaded with one GET of its signed URL (what the
 * client does for URLs outside Azure) and unpacked as it arrives: zstd, then the entry's member of
 * the tar. No archive file in RUNNER_TEMP and no entry file in the workspace: the bytes go straight
 * to the decoding threads. The archive's zstd checksum is not checked, because the raw digest the
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

/** One GET of a blob, read as the consumer asks for chunks; every way it can fail is a RemoteTransferError. */
class BlobTransfer {
  private readonly client = new HttpClient(`${TOOL_NAME}/${TOOL_VERSION}`);
  private message?: import('node:http').IncomingMessage;
  private cancelled = false;

  constructor(
    private readonly url: string,
    private readonly options: Pick<RestoreOptions, 'signal' | 'onProgress'>,
  ) {}

  cancel(): void {
    this.cancelled = true;
    this.message?.destroy();
    this.client.dispose();
  }

  async *chunks(): AsyncGenerator<Buffer> {
    const message = await this.open();
    const total = Number(message.headers['content-length'] ?? Number.NaN);
    const stallMs = stallTimeoutMs();
    const iterator = message[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const onAbort = () => message.destroy();
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    let received = 0;
    try {
      for (;;) {
        const next = await this.within(stallMs, iterator.next());
        if (next.done) break;
        received += next.value.length;
        this.options.onProgress?.(received, total);
        yield next.value;
      }
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      message.destroy();
    }
    if (Number.isFinite(total) && received !== total) throw new RemoteTransferError(`the download ended after ${received} of ${total} bytes`);
  }

  private async open(): Promise<import('node:http').IncomingMessage> {
    if (this.cancelled) throw new RemoteTransferError('the download was cancelled');
    let response;
    try {
      response = await retryHttpClientResponse('downloadCache', () => this.client.get(this.url));
    } catch (error) {
      throw new RemoteTransferError(`the download could not start: ${(error as Error).message}`);
    }
    const status = response.message.statusCode ?? 0;
    if (status !== 200) {
      response.message.destroy();
      throw new RemoteTransferError(`the download answered HTTP ${status}`);
    }
    this.message = response.message;
    if (this.cancelled) response.message.destroy();
    return response.message;
  }

  /** `next` within `ms`; a stall or a broken connection is a RemoteTransferError. */
  private async within<T>(ms: number, next: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.message?.destroy();
        reject(new RemoteTransferError(`the download sent nothing for ${Math.round(ms / 1000)} s`));
      }, ms);
    });
    // A read left behind by a stall settles after its connection is gone: nobody waits for it.
    next.catch(() => undefined);
    try {
      return await Promise.race([next, stalled]);
    } catch (error) {
      if (error instanceof RemoteTransferError) throw error;
      throw new RemoteTransferError(`the download broke off: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
