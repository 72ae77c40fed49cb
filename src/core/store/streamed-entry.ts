import { EntryTaskStream } from '../entry/stream.js';
import type { EntryIndex } from '../entry/read.js';
import { extractEntryStream, type EntryStreamOptions, type ExtractResult } from '../extract/index.js';
import type { StreamedEntry } from '../remote/remote-cache.js';

export interface StreamedDecoding {
  extracted: ExtractResult;
  /** The entry's own index: extractEntryStream has checked the decoded content against its raw digest. */
  index: EntryIndex;
  /** From the call until the entry's last byte arrived. */
  transferSeconds: number;
}

/**
 * Decodes an entry from a remote cache's stream of its bytes into `tempImage` (which must not
 * exist), on the decoding threads while the rest downloads. Nothing of the stream is trusted: the
 * frames are found from their own headers, and the base written must have the raw digest the
 * entry's plan records, or it is removed and the error names `source`. The transfer is ended
 * whatever the outcome.
 */
export async function decodeStreamedEntry(entry: StreamedEntry, source: string, tempImage: string, options: EntryStreamOptions): Promise<StreamedDecoding> {
  const started = performance.now();
  let transferEnded: number | undefined;
  async function* timed(): AsyncGenerator<Buffer> {
    yield* entry.bytes;
    transferEnded = performance.now();
  }
  try {
    const { result, index } = await extractEntryStream(new EntryTaskStream(timed(), source), source, tempImage, options);
    return { extracted: result, index, transferSeconds: ((transferEnded ?? performance.now()) - started) / 1000 };
  } finally {
    entry.cancel();
  }
}
