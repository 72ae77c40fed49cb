import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  decompressChunks
} from "./chunk-7JN6EIKX.js";
import {
  EntryTaskStream
} from "./chunk-LFCMNEXX.js";
import {
  tarMemberData
} from "./chunk-KZYD2Y56.js";
import {
  SourceError
} from "./chunk-BHNCOJM6.js";
import "./chunk-SPWXLHYK.js";
import {
  runInBackground
} from "./chunk-XFIKVFP3.js";
import "./chunk-J4T2KZCX.js";
import {
  isZero
} from "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import "./chunk-6LAVSMFD.js";
import "./chunk-NCNTTV4Q.js";

// src/core/entry/archive-feed-worker.ts
import { parentPort } from "node:worker_threads";

// src/core/remote/growing-file.ts
import { fstat, read } from "node:fs";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
var readAsync = promisify(read);
var fstatAsync = promisify(fstat);
var TAIL_BYTES = 8;
async function* readGrowingFile(fd, path, options) {
  const buf = Buffer.allocUnsafe(options.segmentBytes);
  const tail = Buffer.alloc(TAIL_BYTES);
  let position = 0;
  for (; ; ) {
    const complete = options.complete();
    const { size } = await fstatAsync(fd);
    const segmentEnd = (Math.floor(position / options.segmentBytes) + 1) * options.segmentBytes;
    let end;
    if (complete) {
      if (position >= size) return;
      end = Math.min(size, segmentEnd);
    } else if (size >= segmentEnd) {
      const { bytesRead } = await readAsync(fd, tail, 0, TAIL_BYTES, segmentEnd - TAIL_BYTES);
      if (bytesRead === TAIL_BYTES && !isZero(tail, 0, TAIL_BYTES)) end = segmentEnd;
    }
    if (end === void 0) {
      await sleep(options.pollMs ?? 10);
      continue;
    }
    let got = 0;
    while (got < end - position) {
      const { bytesRead } = await readAsync(fd, buf, got, end - position - got, position + got);
      if (bytesRead === 0) throw new Error(`${path} became shorter while it was read`);
      got += bytesRead;
    }
    position = end;
    yield buf.subarray(0, got);
  }
}

// src/core/entry/archive-feed-worker.ts
var port = parentPort;
port.once("message", (init) => {
  runInBackground();
  let complete = false;
  let credits = init.inputsAhead;
  let wake;
  const archive = readGrowingFile(init.fd, init.path, { segmentBytes: init.segmentBytes, complete: () => complete });
  const bytes = tarMemberData(decompressChunks(archive, init.path, false), init.member, init.path);
  const stream = new EntryTaskStream(bytes, init.path);
  port.on("message", (request) => {
    if (request.kind === "complete") complete = true;
    else {
      stream.recycle(request.input);
      credits++;
    }
    wake?.();
  });
  const send = (message, transfer = []) => port.postMessage(message, transfer);
  (async () => {
    send({ kind: "header", header: await stream.start() });
    for (let task = await stream.next(); task; task = await stream.next()) {
      if (task.input) {
        while (credits === 0) await new Promise((resolve) => wake = resolve);
        credits--;
      }
      send({ kind: "task", task }, task.input ? [task.input.buffer] : []);
    }
    send({ kind: "end", index: stream.result() });
  })().catch((error) => {
    send({ kind: "failed", reason: error instanceof SourceError ? error.reason : error.message, damaged: error instanceof SourceError });
  });
});
