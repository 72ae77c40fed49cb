import { close, openSync } from 'node:fs';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { SourceError } from '../errors.js';
import type { DecodeTask } from '../extract/parallel/plan.js';
import type { EntryHeader } from './format.js';
import type { EntryIndex } from './read.js';

/**
 * A zstd-compressed tar holding an entry, that a download is still writing: the form the GitHub
 * Actions cache restores an entry in (see RestoreOptions.onArchive).
 */
export interface GrowingArchive {
  path: string;
  /** The entry's member in the tar. */
  member: string;
  /** How the download writes the file: see GrowingFileOptions.segmentBytes. */
  segmentBytes: number;
  /** Settles once the download is done (or has failed): the file is then whole, or as whole as it gets. */
  complete: Promise<void>;
}

/** What an entry decoded from its bytes as they arrive is read through (see entry/stream.ts). */
export interface EntryFeed {
  start(): Promise<EntryHeader>;
  next(): Promise<DecodeTask | undefined>;
  recycle(input: Uint8Array): void;
  /** The entry's index, once next() has returned undefined. */
  result(): EntryIndex;
  close(): Promise<void>;
}

export interface ArchiveFeedInit {
  /** The archive, open for reading (this thread closes it). */
  fd: number;
  path: string;
  member: string;
  segmentBytes: number;
  /** Task inputs handed out and not yet given back, at most. */
  inputsAhead: number;
}

export type ArchiveFeedRequest = { kind: 'complete' } | { kind: 'recycle'; input: Uint8Array };

export type ArchiveFeedMessage =
  | { kind: 'header'; header: EntryHeader }
  | { kind: 'task'; task: DecodeTask }
  | { kind: 'end'; index: EntryIndex }
  | { kind: 'failed'; reason: string; damaged: boolean };

const closeAsync = promisify(close);

/** Two tasks queued for each of two decoding threads, and two more on their way. */
const INPUTS_AHEAD = 6;

/**
 * The tasks of an entry inside a growing archive, read on a thread of its own (archive-feed-
 * worker.ts): the archive is read as it lands, decompressed, and its entry cut into tasks there.
 */
export class ArchiveFeed implements EntryFeed {
  private readonly worker: Worker;
  private readonly messages: ArchiveFeedMessage[] = [];
  private waiting?: () => void;
  private header?: EntryHeader;
  private index?: EntryIndex;
  private failure?: Error;

  private readonly fd: number;

  /** Opens the archive at once: the download may remove it soon after it is whole. */
  constructor(private readonly archive: GrowingArchive) {
    this.fd = openSync(archive.path, 'r');
    this.worker = new Worker(new URL('./archive-feed-worker.js', import.meta.url));
    this.worker.on('message', (message: ArchiveFeedMessage) => this.arrive(message));
    this.worker.on('error', (error) => this.arrive({ kind: 'failed', reason: error.message, damaged: false }));
    this.worker.postMessage({ fd: this.fd, path: archive.path, member: archive.member, segmentBytes: archive.segmentBytes, inputsAhead: INPUTS_AHEAD } satisfies ArchiveFeedInit);
    archive.complete.finally(() => this.worker.postMessage({ kind: 'complete' } satisfies ArchiveFeedRequest)).catch(() => undefined);
  }

  private arrive(message: ArchiveFeedMessage): void {
    this.messages.push(message);
    this.waiting?.();
  }

  private async take(): Promise<ArchiveFeedMessage> {
    while (this.messages.length === 0) await new Promise<void>((resolve) => (this.waiting = resolve));
    const message = this.messages.shift()!;
    if (message.kind === 'failed') {
      this.failure ??= message.damaged ? new SourceError(this.archive.path, message.reason) : new Error(message.reason);
      throw this.failure;
    }
    return message;
  }

  async start(): Promise<EntryHeader> {
    if (this.failure) throw this.failure;
    if (!this.header) {
      const message = await this.take();
      if (message.kind !== 'header') throw new Error(`the archive feed sent ${message.kind} before the entry's header`);
      this.header = message.header;
    }
    return this.header;
  }

  async next(): Promise<DecodeTask | undefined> {
    if (this.failure) throw this.failure;
    if (this.index) return undefined;
    const message = await this.take();
    if (message.kind === 'task') return message.task;
    if (message.kind === 'end') {
      this.index = message.index;
      return undefined;
    }
    throw new Error(`the archive feed sent a second ${message.kind}`);
  }

  recycle(input: Uint8Array): void {
    this.worker.postMessage({ kind: 'recycle', input } satisfies ArchiveFeedRequest, [input.buffer as ArrayBuffer]);
  }

  result(): EntryIndex {
    if (!this.index) throw new Error('the entry has not ended');
    return this.index;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
    // On the thread pool: by now the download has usually removed the archive, and the last close
    // of a removed file frees its pages (tens of milliseconds for the bench's 413 MiB).
    await closeAsync(this.fd);
  }
}
