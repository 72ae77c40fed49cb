import { open } from 'node:fs/promises';

const READ_SIZE = 4 * 1024 * 1024;
export const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_SKIPPABLE_MASK = 0xfffffff0;
const ZSTD_SKIPPABLE_START = 0x184d2a50;

/** Called with the number of source bytes consumed so far, for progress reporting. */
export type ProgressSink = (sourceBytesRead: number) => void;

/**
 * Yields a file's bytes as fresh buffers, reading the next one while the consumer handles the
 * current one. Each yielded buffer belongs to the consumer.
 */
export async function* readChunks(path: string, onRead?: ProgressSink): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    let position = 0;
    const readAt = async (at: number): Promise<Buffer> => {
      const buf = Buffer.allocUnsafe(READ_SIZE);
      const { bytesRead } = await file.read(buf, 0, READ_SIZE, at);
      return buf.subarray(0, bytesRead);
    };
    let pending = readAt(position);
    for (;;) {
      const chunk = await pending;
      if (chunk.length === 0) return;
      position += chunk.length;
      pending = readAt(position);
      onRead?.(position);
      yield chunk;
    }
  } finally {
    await file.close();
  }
}

/** Whether a frame with this magic number is a zstd skippable frame (any of its sixteen magics). */
export const isSkippableMagic = (magic: number): boolean => (magic & ZSTD_SKIPPABLE_MASK) === ZSTD_SKIPPABLE_START;

export function startsWithZstdFrame(head: Buffer): boolean {
  if (head.length < 4) return false;
  const magic = head.readUInt32LE(0);
  return magic === ZSTD_MAGIC || isSkippableMagic(magic);
}
