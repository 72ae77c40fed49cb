import { closeSync, constants, openSync } from 'node:fs';
import { copyFile, open, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { SourceError, errnoCode } from '../errors.js';
import { readChunks, startsWithZstdFrame, type ProgressSink } from './chunks.js';
import { computeRawDigest } from './raw-digest.js';
import { decodeFeed, decodeParallel, workerBound, workerCount } from './parallel/index.js';
import type { EntryFeed } from '../entry/archive-feed.js';
import type { EntryIndex } from '../entry/read.js';
import { planFromEntry, planFromFrames, probeFrames, sizedFrameStartsAt, type FrameProbe, type ParallelPlan } from './parallel/plan.js';
import { SparseWriter } from './write/sparse-writer.js';
import { extractTarMember } from './tar.js';
import { ZstdStream, type FrameEndSink } from './zstd/stream.js';

export { dropSpareWorkers, prestartWorkers } from './parallel/index.js';

export type SourceFormat = 'raw' | 'zstd' | 'tar' | 'tar+zstd';

export const DEFAULT_MEMBER = 'disk.img';

export interface ExtractOptions {
  /** Archive member holding the disk, for tar formats. */
  member?: string;
  onRead?: ProgressSink;
  /** Stops the extraction between chunks; the partial output is removed and the signal's reason thrown. */
  signal?: AbortSignal;
  /** Write past the page cache where the filesystem allows it; on by default (see DirectWrites). */
  directIo?: boolean;
  /**
   * Return only once the output is on the disk (the default). Off: no fsync, data goes directly or
   * through the page cache, whichever has proven cheaper (see write/spill-policy.ts), and the
   * caller answers for durability (see store/durability.ts).
   */
  durable?: boolean;
  /**
   * Upper bound on the threads that decode a multi-frame zstd source in parallel (default: one per
   * core, bounded by memory). Single-frame sources always take the one-thread pipelined decoder.
   */
  maxWorkers?: number;
}

export interface ExtractResult {
  format: SourceFormat;
  /** Apparent size of the raw disk written. */
  size: number;
  /** Data bytes written past the page cache and through it (both 0 for a reflinked copy). */
  written: { direct: number; pageCache: number };
  /** The raw digest of what was written (see raw-digest.ts). */
  rawDigest: string;
  /** Threads that decoded: more than one when independent frames were decoded in parallel. */
  workers: number;
}

const QCOW2_MAGIC = Buffer.from('QFI\xfb', 'latin1');

async function readHead(path: string, length: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function looksLikeTar(head: Buffer): boolean {
  return head.length >= 263 && head.toString('latin1', 257, 262) === 'ustar';
}

/** The format a file's name states, if it states one (.img and .raw say nothing about compression). */
function formatInName(path: string): SourceFormat | undefined {
  const name = basename(path).toLowerCase();
  if (/\.(tar\.zst|tzst)$/.test(name)) return 'tar+zstd';
  if (name.endsWith('.zst')) return 'zstd';
  if (name.endsWith('.tar')) return 'tar';
  return undefined;
}

/**
 * Decides the format from the name first, because that is what the user chose, and checks it
 * against the content so that a mislabelled file fails with a clear message instead of producing a
 * base full of compressed bytes. A name that states no format leaves it to the content.
 */
export async function detectFormat(path: string): Promise<SourceFormat> {
  let head: Buffer;
  try {
    head = await readHead(path, 512);
  } catch (error) {
    throw new SourceError(path, `cannot read the source image: ${(error as Error).message}`, { cause: error });
  }
  const zstd = startsWithZstdFrame(head);
  if (head.subarray(0, 4).equals(QCOW2_MAGIC)) {
    throw new SourceError(path, 'is a qcow2 image; basecow bases are raw: convert it first with `qemu-img convert -O raw`');
  }
  switch (formatInName(path)) {
    case 'tar+zstd':
      if (!zstd) throw new SourceError(path, 'the name says .tar.zst but the file does not start with a zstd frame');
      return 'tar+zstd';
    case 'zstd':
      if (!zstd) throw new SourceError(path, 'the name says .zst but the file does not start with a zstd frame');
      return 'zstd';
    case 'tar':
      if (!looksLikeTar(head)) throw new SourceError(path, 'the name says .tar but the file has no tar header');
      return 'tar';
  }
  if (zstd) return 'zstd';
  if (looksLikeTar(head)) return 'tar';
  return 'raw';
}

/**
 * Writes the raw disk held by `source` to `dest` (which must not exist) as a sparse file.
 * On any failure `dest` is removed before the error propagates.
 */
export async function extractToRaw(source: string, dest: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const format = await detectFormat(source);
  if (format === 'raw') {
    const size = await tryReflink(source, dest);
    if (size !== undefined) {
      try {
        return { format, size, written: { direct: 0, pageCache: 0 }, rawDigest: await computeRawDigest(dest, options.signal), workers: 0 };
      } catch (error) {
        await rm(dest, { force: true });
        throw error;
      }
    }
  }
  if (format === 'zstd') return extractZstd(source, dest, options);
  return extractSequentially(format, source, dest, options);
}

export interface EntryStreamOptions extends ExtractOptions {
  /** Asked once the entry's header is in: false stops the decoding before anything is written. */
  fits?: (apparentSize: number) => Promise<boolean>;
}

/**
 * Decodes a basecow entry from its bytes as they arrive (`stream`, see entry/stream.ts) into
 * `dest` (which must not exist), on several threads while more bytes come. Returns the entry's
 * index with the result: the decoded content has the raw digest the entry records, and the index
 * agrees with every frame decoded. On any failure `dest` is removed before the error propagates.
 */
export async function extractEntryStream(stream: EntryFeed, source: string, dest: string, options: EntryStreamOptions = {}): Promise<{ result: ExtractResult; index: EntryIndex }> {
  try {
    const header = await stream.start();
    if (options.fits && !(await options.fits(header.apparentSize))) throw new Error(`too little free space to decode the ${header.apparentSize}-byte base before the entry is whole`);
    // In the background: the bytes arrive while a download goes on, and it must not wait for them.
    // The raw digest is checked below, against the entry's, before anything written is used.
    const decoded = await decodeFeed({ name: source }, dest, header.apparentSize, stream, workerBound(options.maxWorkers), { ...options, background: true, frameChecksums: false });
    const index = stream.result();
    try {
      if (decoded.rawDigest !== index.rawDigest) {
        throw new SourceError(source, `decoded content does not match the entry's raw digest (${decoded.rawDigest}, the entry says ${index.rawDigest}): the entry is damaged`);
      }
      await refuseQcow2(source, dest);
    } catch (error) {
      await rm(dest, { force: true });
      throw error;
    }
    // Not awaited: the feed's thread and file end while the caller goes on to publish the base.
    stream.close().catch(() => undefined);
    return { result: { format: 'zstd', size: decoded.size, written: decoded.written, rawDigest: decoded.rawDigest, workers: decoded.workers }, index };
  } catch (error) {
    // Not awaited: a producer waiting for bytes that will not come ends only once its restore has.
    stream.close().catch(() => undefined);
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}

interface SequentialOptions extends ExtractOptions {
  onFrameEnd?: FrameEndSink;
}

async function extractSequentially(format: SourceFormat, source: string, dest: string, options: SequentialOptions): Promise<ExtractResult> {
  const writer = await SparseWriter.create(dest, { signal: options.signal, directIo: options.directIo, durable: options.durable });
  try {
    const size = await writeFormat(format, source, writer, options);
    await writer.finish(size);
    await refuseQcow2(source, dest);
    return { format, size, written: writer.writtenBytes, rawDigest: writer.rawDigest, workers: format === 'zstd' || format === 'tar+zstd' ? 1 : 0 };
  } catch (error) {
    await writer.discard();
    if (options.signal?.aborted) throw options.signal.reason;
    throw explainWriteError(source, dest, error, format);
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );

/** The source open for reading, for the few bytes read beside the decoder. */
function openSource(source: string): number {
  try {
    return openSync(source, 'r');
  } catch (error) {
    throw new SourceError(source, `cannot read the source image: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A zstd source is decoded on several threads when it is a basecow entry (its index says where
 * every frame goes) or independent frames that state their content sizes, else by the sequential
 * decoder. Telling the second kind from a single-frame image takes a walk over every block header,
 * which on the bench's 0.4 GiB images took 0.07-0.24 s before the first byte was decoded. So only
 * the first 16 MiB are walked first (probeFrames); when the first frame goes on past them, the
 * sequential decoder starts at once, and only if a frame then ends and another one that states its
 * size follows is it stopped (it removes what it wrote) and the whole walk made. The walk alone
 * still decides, as it did when it came first: a walk that finds no plan after all starts the
 * sequential decoder again from the beginning.
 */
async function extractZstd(source: string, dest: string, options: ExtractOptions): Promise<ExtractResult> {
  let probe: FrameProbe;
  try {
    const entry = await planFromEntry(source);
    probe = entry ? { kind: 'plan', plan: entry } : await probeFrames(source);
  } catch (error) {
    throw explainWriteError(source, dest, error, 'zstd');
  }
  switch (probe.kind) {
    case 'plan':
      return extractPlanned(source, dest, probe.plan, options);
    case 'sequential':
      return extractSequentially('zstd', source, dest, options);
    case 'several':
      return extractWalked(source, dest, options);
    case 'unknown':
      return extractWithHeadStart(source, dest, options);
  }
}

/** Walks the whole source, then decodes it as the walk says. */
async function extractWalked(source: string, dest: string, options: ExtractOptions): Promise<ExtractResult> {
  let plan: ParallelPlan | undefined;
  try {
    plan = await planFromFrames(source);
  } catch (error) {
    throw explainWriteError(source, dest, error, 'zstd');
  }
  return plan ? extractPlanned(source, dest, plan, options) : extractSequentially('zstd', source, dest, options);
}

/** The sequential decoder, stopped for the whole walk if a second frame that states its size shows up. */
async function extractWithHeadStart(source: string, dest: string, options: ExtractOptions): Promise<ExtractResult> {
  const secondFrame = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, secondFrame.signal]) : secondFrame.signal;
  const fd = openSource(source);
  let outcome: Settled<ExtractResult>;
  try {
    const onFrameEnd = (compressedEnd: number): void => {
      if (!secondFrame.signal.aborted && sizedFrameStartsAt(fd, compressedEnd)) secondFrame.abort();
    };
    outcome = await settle(extractSequentially('zstd', source, dest, { ...options, signal, onFrameEnd }));
  } finally {
    closeSync(fd);
  }
  if (!secondFrame.signal.aborted) {
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }
  // Told too late to stop (no write came after it), the decoder finished: its output goes too.
  if (outcome.ok) await rm(dest, { force: true });
  options.signal?.throwIfAborted();
  return extractWalked(source, dest, options);
}

/** A compressed qcow2 only shows itself once decompressed; a base must be raw. */
async function refuseQcow2(source: string, dest: string): Promise<void> {
  if ((await readHead(dest, 4)).equals(QCOW2_MAGIC)) {
    throw new SourceError(source, 'holds a qcow2 image, not a raw disk; convert it first with `qemu-img convert -O raw` and compress that');
  }
}

/** Decodes a zstd source made of independent frames whose raw offsets are known, on several threads. */
async function extractPlanned(source: string, dest: string, plan: ParallelPlan, options: ExtractOptions): Promise<ExtractResult> {
  const workers = workerCount(plan, options.maxWorkers);
  try {
    const result = await decodeParallel(source, dest, plan, workers, options);
    await refuseQcow2(source, dest).catch(async (error: unknown) => {
      await rm(dest, { force: true });
      throw error;
    });
    return { format: 'zstd', size: result.size, written: result.written, rawDigest: result.rawDigest, workers: result.workers };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw explainWriteError(source, dest, error, 'zstd');
  }
}

async function writeFormat(format: SourceFormat, source: string, writer: SparseWriter, options: SequentialOptions): Promise<number> {
  const member = options.member ?? DEFAULT_MEMBER;
  switch (format) {
    case 'raw':
      return writeAll(readChunks(source, options.onRead), writer);
    case 'zstd':
      return writeAll(new ZstdStream(source, options.onRead, options.onFrameEnd), writer);
    case 'tar':
      return (await extractTarMember(readChunks(source, options.onRead), member, writer, source, options.signal)).size;
    case 'tar+zstd':
      return (await extractTarMember(new ZstdStream(source, options.onRead), member, writer, source, options.signal)).size;
  }
}

/** A raw or zstd stream lands at consecutive offsets; each chunk is written before the next is taken. */
async function writeAll(chunks: AsyncIterable<Buffer>, writer: SparseWriter): Promise<number> {
  let position = 0;
  for await (const chunk of chunks) {
    await writer.write(chunk, position);
    position += chunk.length;
  }
  return position;
}

/** A reflink shares extents (holes included) in O(1); most filesystems refuse it, which is fine. */
async function tryReflink(source: string, dest: string): Promise<number | undefined> {
  try {
    await copyFile(source, dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') throw error;
    return undefined;
  }
  const file = await open(dest, 'r+');
  try {
    await file.sync();
    return (await file.stat()).size;
  } finally {
    await file.close();
  }
}

const FORMAT_NAMES: Record<SourceFormat, string> = { raw: 'a raw disk', zstd: 'zstd', tar: 'a tar archive', 'tar+zstd': 'a zstd-compressed tar archive' };

function explainWriteError(source: string, dest: string, error: unknown, format: SourceFormat): unknown {
  if (error instanceof SourceError) {
    if (format === 'raw' || formatInName(source)) return error;
    // A raw disk that happens to start like zstd or tar would otherwise fail with no word of why it was decoded.
    return new SourceError(source, `${error.reason} (read as ${FORMAT_NAMES[format]} because that is how its content starts; its name does not say)`, { cause: error });
  }
  const code = errnoCode(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new SourceError(source, `no space left on the device holding ${dest} while extracting`, { cause: error });
  }
  return new SourceError(source, `extraction failed: ${(error as Error).message}`, { cause: error });
}
