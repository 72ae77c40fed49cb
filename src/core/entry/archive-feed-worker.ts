// Reads a growing archive that holds an entry (see archive-feed.ts) on a thread of its own, so that
// the thread doing the download is not the one that reads, decompresses and cuts what it wrote.
// Protocol: ArchiveFeedInit, then 'complete' and 'recycle' messages in; ArchiveFeedMessage out.
import { parentPort } from 'node:worker_threads';
import { SourceError } from '../errors.js';
import { runInBackground } from '../shared/thread-priority.js';
import { tarMemberData } from '../extract/tar.js';
import { decompressChunks } from '../extract/zstd/decompress-chunks.js';
import { readGrowingFile } from '../remote/growing-file.js';
import type { ArchiveFeedInit, ArchiveFeedMessage, ArchiveFeedRequest } from './archive-feed.js';
import { EntryTaskStream } from './stream.js';

const port = parentPort!;

port.once('message', (init: ArchiveFeedInit) => {
  // Only the download's thread and the client's unpacking may not wait for this one.
  runInBackground();
  let complete = false;
  let credits = init.inputsAhead;
  let wake: (() => void) | undefined;
  // The archive's own checksum is left unchecked: every byte used of it is an entry's, checked by
  // the entry's frame structure and raw digest, and compared with the entry the restore leaves.
  const archive = readGrowingFile(init.fd, init.path, { segmentBytes: init.segmentBytes, complete: () => complete });
  const bytes = tarMemberData(decompressChunks(archive, init.path, false), init.member, init.path);
  const stream = new EntryTaskStream(bytes, init.path);
  port.on('message', (request: ArchiveFeedRequest) => {
    if (request.kind === 'complete') complete = true;
    else {
      stream.recycle(request.input);
      credits++;
    }
    wake?.();
  });
  const send = (message: ArchiveFeedMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  (async () => {
    send({ kind: 'header', header: await stream.start() });
    for (let task = await stream.next(); task; task = await stream.next()) {
      if (task.input) {
        // Inputs in flight are bounded: a download faster than the decoding waits in its file.
        while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
        credits--;
      }
      send({ kind: 'task', task }, task.input ? [task.input.buffer as ArrayBuffer] : []);
    }
    send({ kind: 'end', index: stream.result() });
  })().catch((error: unknown) => {
    send({ kind: 'failed', reason: error instanceof SourceError ? error.reason : (error as Error).message, damaged: error instanceof SourceError });
  });
});
