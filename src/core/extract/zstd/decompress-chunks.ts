import { SourceError } from '../../errors.js';
import { newDecoder } from './decoder.js';

const OUTPUT_SIZE = 4 * 1024 * 1024;

/**
 * Decompresses a zstd stream (one frame or several) on this thread as its chunks come: for a
 * stream whose bytes arrive over time, where the file-reading decoders do not apply. libzstd checks
 * every frame's checksum, unless `frameChecksums` is false (for a caller that checks everything it
 * uses of the output itself). Each yielded buffer is valid until the next one is asked for; a
 * stream that stops inside a frame is an error naming `source`.
 */
export async function* decompressChunks(chunks: AsyncIterable<Buffer>, source: string, frameChecksums = true): AsyncGenerator<Buffer> {
  const dctx = newDecoder(!frameChecksums);
  const out = Buffer.allocUnsafe(OUTPUT_SIZE);
  let inFrame = false;
  let any = false;
  for await (const chunk of chunks) {
    let src = chunk;
    any ||= chunk.length > 0;
    for (;;) {
      let result: [number, number, number];
      try {
        result = dctx.decompressStream(out, src);
      } catch (error) {
        throw new SourceError(source, `corrupt zstd data: ${(error as Error).message}`);
      }
      const [hint, produced, used] = result;
      src = src.subarray(used);
      inFrame = hint !== 0;
      if (produced > 0) yield out.subarray(0, produced);
      // A full output buffer may leave output inside the decoder even when the input is used up.
      if (src.length === 0 && produced < out.length) break;
    }
  }
  if (!any || inFrame) throw new SourceError(source, 'truncated zstd data: the stream ends inside a frame');
}
