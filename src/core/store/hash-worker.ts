// Hashes one file (sha256) on a thread of its own, for a process whose main thread is busy with an
// extraction of the same file at the same time. Protocol: the parent posts the path; this thread
// posts { kind: 'read', done } as it goes and then { kind: 'done', key } or { kind: 'failed', message }.
import { parentPort } from 'node:worker_threads';
import { hashFile } from './source-digest.js';

export type HashReply = { kind: 'read'; done: number } | { kind: 'done'; key: string } | { kind: 'failed'; message: string };

const port = parentPort!;
port.once('message', (path: string) => {
  // A progress message per read would cost more than it tells: one per 64 MiB.
  let reported = 0;
  hashFile(path, (done) => {
    if (done - reported >= 64 * 1024 * 1024) {
      reported = done;
      port.postMessage({ kind: 'read', done } satisfies HashReply);
    }
  }).then(
    (key) => port.postMessage({ kind: 'done', key } satisfies HashReply),
    (error: unknown) => port.postMessage({ kind: 'failed', message: (error as Error).message } satisfies HashReply),
  );
});
