import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/extract/chunks.ts
import { open } from "node:fs/promises";
var READ_SIZE = 4 * 1024 * 1024;
var ZSTD_MAGIC = 4247762216;
var ZSTD_SKIPPABLE_MASK = 4294967280;
var ZSTD_SKIPPABLE_START = 407710288;
async function* readChunks(path, onRead) {
  const file = await open(path, "r");
  try {
    let position = 0;
    const readAt = async (at) => {
      const buf = Buffer.allocUnsafe(READ_SIZE);
      const { bytesRead } = await file.read(buf, 0, READ_SIZE, at);
      return buf.subarray(0, bytesRead);
    };
    let pending = readAt(position);
    for (; ; ) {
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
var isSkippableMagic = (magic) => (magic & ZSTD_SKIPPABLE_MASK) === ZSTD_SKIPPABLE_START;
function startsWithZstdFrame(head) {
  if (head.length < 4) return false;
  const magic = head.readUInt32LE(0);
  return magic === ZSTD_MAGIC || isSkippableMagic(magic);
}

export {
  ZSTD_MAGIC,
  readChunks,
  isSkippableMagic,
  startsWithZstdFrame
};
