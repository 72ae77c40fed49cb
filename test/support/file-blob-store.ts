// A blob store for the benchmark's cache service: the few Azure Blob REST operations that
// @actions/cache 6.3 and the cache service's own bookkeeping use, served from plain files by
// streaming them to the socket. Run as a process of its own:
//   node file-blob-store.js <directory>    → prints "file blob store listens on http://127.0.0.1:<port>"
//
// Why it exists beside Azurite (which the tests use): on GitHub the cache's storage runs on other
// machines, so none of its work lands on the runner. On this two-core bench machine the stand-in
// shares the cores with the step it serves, and Azurite 3.37 spends 1.8-5.3 s of CPU per restore of
// the bench entry (an MD5 of every range of 4 MiB or less it serves, its extent store), which the
// step under test then waits for. This store does next to no work per byte, so what the bench
// times is the runner's side of a transfer.
//
// What it checks: nothing of the shared-key signature or the SAS (the cache service signs URLs
// with Azurite's published key; whether they are valid is Azurite's business in the tests). What it
// answers: create container; Put Blob; Put Block and Put Block List (the client's upload above
// 128 MiB); Get Blob Properties (HEAD); Get Blob, whole or one byte range (x-ms-range or Range, as
// the Azure SDK sends 4 MiB ranges). Anything else gets 400 UnsupportedOperation, naming the request,
// so a client that needs more fails loudly instead of misbehaving.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

const API_VERSION = '2025-01-05';
const AZURE_HOST = /^([a-z0-9]+)\.blob\.core\.windows\.net(:\d+)?$/;

interface Target {
  account: string;
  container: string;
  /** '' for a container-level request. */
  blob: string;
  query: URLSearchParams;
}

/**
 * Path-style (`/<account>/<container>/<blob>`, as the SDK sends to an emulator) or host-style (a
 * proxied absolute URL naming `<account>.blob.core.windows.net`, as production URLs are).
 */
function targetOf(req: IncomingMessage): Target | undefined {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
  const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
  const hostAccount = AZURE_HOST.exec(url.host)?.[1];
  const [account, container, ...blob] = hostAccount ? [hostAccount, ...parts] : parts;
  if (!account || !container) return undefined;
  return { account, container, blob: blob.join('/'), query: url.searchParams };
}

/**
 * A network link of `bytesPerSecond` that every download shares (as a runner's link is shared by a
 * download's concurrent ranges): a chunk leaves once the link has sent the ones before it.
 */
class Link {
  private freeAt = 0;
  constructor(private readonly bytesPerSecond: number) {}

  pace(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        const now = performance.now();
        this.freeAt = Math.max(this.freeAt, now) + (chunk.length / this.bytesPerSecond) * 1000;
        setTimeout(() => done(null, chunk), this.freeAt - now);
      },
    });
  }
}

/**
 * Serves blobs from files under `root`. BASECOW_TEST_BLOB_RATE (bytes per second), when set, makes
 * downloads share a link of that speed, for a runner whose download is bound by its network.
 */
export async function serveFileBlobStore(root: string): Promise<string> {
  await mkdir(root, { recursive: true });
  const rate = Number(process.env.BASECOW_TEST_BLOB_RATE ?? 0);
  const link = rate > 0 ? new Link(rate) : undefined;
  const containerDir = (t: Target) => join(root, encodeURIComponent(t.account), encodeURIComponent(t.container));
  const blobPath = (t: Target) => join(containerDir(t), encodeURIComponent(t.blob));
  const stagingDir = (t: Target) => join(root, '.staged', encodeURIComponent(t.account), encodeURIComponent(t.container), encodeURIComponent(t.blob));

  const head = (res: ServerResponse, status: number, headers: Record<string, string | number>) =>
    res.writeHead(status, { 'x-ms-request-id': randomUUID(), 'x-ms-version': API_VERSION, date: new Date().toUTCString(), ...headers });
  const answer = (res: ServerResponse, status: number, headers: Record<string, string | number> = {}, body?: string) => {
    head(res, status, headers);
    res.end(body);
  };
  const fail = (res: ServerResponse, status: number, code: string, message: string) =>
    answer(res, status, { 'x-ms-error-code': code, 'content-type': 'application/xml' }, `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  const propertiesOf = async (path: string) => {
    const info = await stat(path);
    return {
      size: info.size,
      headers: {
        etag: `"0x${Math.round(info.mtimeMs * 1000).toString(16).toUpperCase()}${info.size.toString(16).toUpperCase()}"`,
        'last-modified': info.mtime.toUTCString(),
        'x-ms-creation-time': info.birthtime.toUTCString(),
        'x-ms-blob-type': 'BlockBlob',
        'accept-ranges': 'bytes',
        'content-type': 'application/octet-stream',
      },
    };
  };
  /** Writes the request body to `path` through a temp name, so a broken upload leaves no blob. */
  const receive = async (req: IncomingMessage, path: string) => {
    const temp = `${path}.${randomUUID()}.part`;
    try {
      await pipeline(req, createWriteStream(temp));
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = targetOf(req);
    if (!target) return fail(res, 400, 'InvalidUri', `no account and container in ${req.url}`);
    const comp = target.query.get('comp');
    if (!target.blob) {
      if (req.method === 'PUT' && target.query.get('restype') === 'container') {
        req.resume();
        try {
          await mkdir(containerDir(target), { recursive: false });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fail(res, 409, 'ContainerAlreadyExists', 'The specified container already exists.');
          await mkdir(join(root, encodeURIComponent(target.account)), { recursive: true });
          await mkdir(containerDir(target));
        }
        return answer(res, 201, { etag: `"0x${Date.now().toString(16)}"`, 'last-modified': new Date().toUTCString() });
      }
      return fail(res, 400, 'UnsupportedOperation', `${req.method} ${req.url} is not served by this store`);
    }
    const path = blobPath(target);
    if (!(await stat(containerDir(target)).catch(() => undefined))) {
      req.resume();
      return fail(res, 404, 'ContainerNotFound', `The specified container does not exist: ${target.container}`);
    }
    if (req.method === 'PUT' && !comp) {
      await receive(req, path);
      return answer(res, 201, (await propertiesOf(path)).headers);
    }
    if (req.method === 'PUT' && comp === 'block') {
      const id = target.query.get('blockid');
      if (!id) return fail(res, 400, 'InvalidQueryParameterValue', 'blockid is required');
      await mkdir(stagingDir(target), { recursive: true });
      await receive(req, join(stagingDir(target), Buffer.from(id, 'base64').toString('hex')));
      return answer(res, 201);
    }
    if (req.method === 'PUT' && comp === 'blocklist') {
      const xml = (await readBody(req)).toString('utf8');
      const ids = [...xml.matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map((m) => Buffer.from(m[1], 'base64').toString('hex'));
      const staged = new Set(await readdir(stagingDir(target)).catch(() => [] as string[]));
      const missing = ids.find((id) => !staged.has(id));
      if (missing !== undefined) return fail(res, 400, 'InvalidBlockList', `block ${missing} was never staged`);
      const temp = `${path}.${randomUUID()}.part`;
      try {
        const out = createWriteStream(temp);
        try {
          for (const id of ids) await pipeline(createReadStream(join(stagingDir(target), id)), out, { end: false });
        } finally {
          out.end();
          await once(out, 'close');
        }
        await rename(temp, path);
      } finally {
        await rm(temp, { force: true });
      }
      await rm(stagingDir(target), { recursive: true, force: true });
      return answer(res, 201, (await propertiesOf(path)).headers);
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && !comp) {
      req.resume();
      let properties: Awaited<ReturnType<typeof propertiesOf>>;
      try {
        properties = await propertiesOf(path);
      } catch {
        // HEAD has no body, so the SDK reads the error code from this header.
        return fail(res, 404, 'BlobNotFound', 'The specified blob does not exist.');
      }
      const { size, headers } = properties;
      if (req.method === 'HEAD') return answer(res, 200, { ...headers, 'content-length': size });
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers['x-ms-range'] ?? req.headers.range ?? ''));
      const start = range ? Number(range[1]) : 0;
      const end = range && range[2] !== '' ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (range && start >= size) return fail(res, 416, 'InvalidRange', `bytes ${start}- are beyond the blob's ${size} bytes`);
      head(res, range ? 206 : 200, {
        ...headers,
        'content-length': end - start + 1,
        ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      });
      if (end < start) return void res.end();
      const body = createReadStream(path, { start, end, highWaterMark: 1 << 20 });
      return link ? pipeline(body, link.pace(), res) : pipeline(body, res);
    }
    req.resume();
    return fail(res, 400, 'UnsupportedOperation', `${req.method} ${req.url} is not served by this store`);
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((error: Error) => {
      if (!res.headersSent) fail(res, 500, 'InternalError', String(error.message));
      else res.destroy(error);
    });
  });
  // A proxied client that tunnels (CONNECT, as @actions/http-client does) to a storage host on
  // port 80 is served by this same server, the account taken from the Host header; any other
  // tunnel is refused, so nothing leaves loopback.
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!/^[a-z0-9]+\.blob\.core\.windows\.net:80$/.test(req.url ?? '')) return void socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    server.emit('connection', socket);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.argv[2]) throw new Error('usage: file-blob-store.js <directory>');
  const url = await serveFileBlobStore(process.argv[2]);
  console.log(`file blob store listens on ${url}`);
}
