// A local stand-in for the GitHub Actions cache service (v2, twirp), for tests that run the real
// @actions/cache client. The twirp API answers on 127.0.0.1; the archives live in Azurite, the
// Azure Storage emulator, started as a child process with in-memory storage (or, for benchmarks,
// in ./file-blob-store.ts, which serves the same requests from plain files for next to no CPU).
//
// What @actions/cache 6.3.0 does, and so what this service honours:
// - v2 is chosen when ACTIONS_CACHE_SERVICE_V2 is set and GITHUB_SERVER_URL is github.com (or
//   unset); the twirp base URL is ACTIONS_RESULTS_URL, the bearer token ACTIONS_RUNTIME_TOKEN
//   (sent, never parsed).
// - Requests are JSON with proto field names (snake_case, int64 as a string); responses are read
//   with either naming. Twirp's Go server answers with proto names and every field present, so
//   this one does too.
// - Save: CreateCacheEntry {key, version} → {ok, signed_upload_url}; the archive goes up with the
//   Azure SDK (BlockBlobClient.uploadFile) to that URL; FinalizeCacheEntryUpload {key, version,
//   size_bytes} → {ok, entry_id}. A twirp error on create (409 already_exists above all) makes
//   saveCache log "Failed to save" at info level and return -1.
// - Restore: GetCacheEntryDownloadURL {key, restore_keys, version} → {ok, signed_download_url,
//   matched_key}; ok=false is a plain miss. The client downloads with the Azure SDK (HEAD, then
//   ranged GETs under a segment timeout) only when the URL's host ends in .blob.core.windows.net;
//   any other host gets one plain GET with a 5 s socket timeout. Production URLs are Azure ones,
//   so by default signed URLs name devstoreaccount1.blob.core.windows.net and `env` routes them
//   through this server as an HTTP proxy (HTTP(S)_PROXY; the Azure SDK honours it, and
//   @actions/http-client never proxies loopback twirp calls). The proxy serves only that one
//   host, from Azurite, so nothing leaves the machine.
// - Twirp calls are retried on 500/502/503/504 and on non-network exceptions: 5 attempts, 3 s
//   then ×1.5 (with jitter) between them, so an always-failing call costs about 25-35 s.
//   ECONNREFUSED and the like fail at once (NetworkError), 429 at once (RateLimitError).
//
// Usage:
//   const service = await startCacheService();             // after(() => service.stop())
//   spawn(node, [action], { env: { ...process.env, ...service.env, GITHUB_WORKSPACE, RUNNER_TEMP } });
//   service.faults.twirp = { code: 'internal' };           // or { code, method, times }
//   service.faults.hangDownloads = true;  await service.corrupt(key);  await service.pause();
//   service.faults.cutDownloads = { afterBytes, times };  service.faults.ignoreRanges = true;
//   service.entries / service.calls / service.blobRequests  // what happened
//   startCacheService({ blobStore: 'files', blobProxy: 'blob-store', blobLocation })  // benchmarks: blobs bypass this process
// runCacheClient (below) does the spawn for test/fixtures/cache-client.js, the bare client.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BlobSASPermissions,
  BlobServiceClient,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type ContainerClient,
} from '@azure/storage-blob';
import { readBody } from './file-blob-store.js';

// Azurite's published development account; it accepts nothing else.
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
// The host a production signed URL names. The client picks its Azure SDK download path by this
// suffix, so the test URLs carry it too; they only ever reach this server, as a proxy.
const AZURE_BLOB_HOST = `${ACCOUNT}.blob.core.windows.net`;
const CONTAINER = 'actions-cache';
const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.CacheService/';
const AZURITE_BIN = fileURLToPath(new URL('../../../node_modules/.bin/azurite-blob', import.meta.url));
const FILE_BLOB_STORE = fileURLToPath(new URL('./file-blob-store.js', import.meta.url));
const EXIT_WITH_PARENT = new URL('./exit-with-parent.js', import.meta.url).href;

export type TwirpMethod = 'CreateCacheEntry' | 'FinalizeCacheEntryUpload' | 'GetCacheEntryDownloadURL';

/** Twirp error codes and the HTTP status twirp sends with each. */
export const TWIRP_STATUS = {
  canceled: 408,
  unknown: 500,
  invalid_argument: 400,
  malformed: 400,
  deadline_exceeded: 408,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 429,
  failed_precondition: 412,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  dataloss: 500,
} as const;
export type TwirpCode = keyof typeof TWIRP_STATUS;

export interface CacheEntry {
  id: number;
  key: string;
  version: string;
  blobName: string;
  /** size_bytes from FinalizeCacheEntryUpload; undefined until then. */
  sizeBytes?: number;
  finalized: boolean;
  /** Finalize order: restore prefers the highest among prefix matches ("newest first"). */
  finalizedSeq?: number;
}

export interface TwirpCall {
  method: string;
  request: Record<string, unknown>;
  status: number;
  /** The twirp error code when the call failed. */
  code?: TwirpCode;
}

export interface BlobRequest {
  method: string;
  blobName: string;
  /** The `comp` query parameter (block, blocklist, ...) when there is one. */
  comp?: string;
  status: number;
  /** Body bytes sent to the client (GET) or received from it (PUT). */
  bytes: number;
  /** True when the hang fault held this response. */
  hung?: boolean;
  /** True when the cut fault broke this response off. */
  cut?: boolean;
}

export interface Faults {
  /**
   * Answer twirp calls with this error instead of serving them: every call, or only `method`'s,
   * for the next `times` calls (every call until cleared when `times` is absent).
   */
  twirp?: { code: TwirpCode; msg?: string; method?: TwirpMethod; times?: number };
  /** Blob downloads (GET) send their status and headers, then no body: a stalled transfer. */
  hangDownloads?: boolean;
  /** The next `times` blob downloads (GET) send `afterBytes` of their body, then the connection is cut. */
  cutDownloads?: { afterBytes: number; times: number };
  /** Blob downloads are answered whole, as by a server that does not serve ranges. */
  ignoreRanges?: boolean;
}

export interface CacheServiceOptions {
  /**
   * 'azure' (default): signed URLs name devstoreaccount1.blob.core.windows.net and reach this
   * server through the proxy variables in `env`, which is what steers the client to its Azure
   * SDK download path, as on GitHub. 'loopback': signed URLs point at 127.0.0.1 directly and the
   * client downloads with a plain GET (its path for non-Azure hosts). `service.blobUrls` changes
   * it for the URLs signed afterwards.
   */
  blobUrls?: 'azure' | 'loopback';
  /**
   * With 'azure' URLs, who answers the proxied blob requests. 'service' (default): this server,
   * which records them (`blobRequests`) and injects blob faults. 'blob-store': the proxy variables
   * name the blob store itself, which takes the account from the Host header, so blob bytes never
   * pass through this process; benchmarks use it so that the stand-in's own CPU stays out of the
   * runner's measurement (a real cache service runs elsewhere). Blob faults and records are then
   * unavailable.
   */
  blobProxy?: 'service' | 'blob-store';
  /**
   * Who keeps the blobs. 'azurite' (default): the Azure Storage emulator. 'files':
   * ./file-blob-store.ts, the subset of the Blob API the client uses, served from plain files;
   * benchmarks use it because Azurite spends seconds of CPU per restore of the bench entry on the
   * runner's own two cores (an MD5 of every range it serves), which no real runner pays.
   */
  blobStore?: 'azurite' | 'files';
  /**
   * Where the blob store keeps its files: Azurite's --location (in memory without it; from files,
   * serving the 413 MiB bench entry took it 1.5-1.7 s of CPU instead of 3.0-3.7 s), or the
   * directory of the 'files' store (a temporary one, removed by stop(), without it).
   */
  blobLocation?: string;
}

export interface CacheService {
  /** Twirp base URL, with the trailing slash the client expects. */
  url: string;
  /** Environment a runner gives a node action, to spread over process.env for a child. */
  env: Record<string, string>;
  /** Mutable: set and clear between client runs. */
  faults: Faults;
  /** Mutable: the kind of signed URL the next GetCacheEntryDownloadURL answers with (see the option). */
  blobUrls: 'azure' | 'loopback';
  entries: CacheEntry[];
  calls: TwirpCall[];
  blobRequests: BlobRequest[];
  /** Flips bytes in the middle of the stored archive of the finalized entry `key`. */
  corrupt(key: string): Promise<void>;
  /** Stops listening, so clients get ECONNREFUSED; resume() listens again on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** CPU seconds the blob store has used so far (user + system), to tell the stand-in's share of a run. */
  blobStoreCpuSeconds(): number;
  /** Stops the server and the blob store; safe to call twice. */
  stop(): Promise<void>;
}

class TwirpError extends Error {
  constructor(readonly code: TwirpCode, msg: string) {
    super(msg);
  }
}

export async function startCacheService(options: CacheServiceOptions = {}): Promise<CacheService> {
  const blobStore = await startBlobStore(options.blobStore ?? 'azurite', options.blobLocation);
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
  let container: ContainerClient;
  try {
    container = new BlobServiceClient(`${blobStore.url}/${ACCOUNT}`, credential).getContainerClient(CONTAINER);
    await container.create();
  } catch (error) {
    await blobStore.stop();
    throw error;
  }

  const entries: CacheEntry[] = [];
  const calls: TwirpCall[] = [];
  const blobRequests: BlobRequest[] = [];
  const faults: Faults = {};
  let nextId = 1;
  let finalizedSeq = 0;
  let port = 0;

  const signedUrl = (blobName: string, permissions: string): string => {
    const sas = generateBlobSASQueryParameters(
      {
        containerName: CONTAINER,
        blobName,
        permissions: BlobSASPermissions.parse(permissions),
        startsOn: new Date(Date.now() - 60_000),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      credential,
    ).toString();
    const origin = service.blobUrls === 'azure' ? `http://${AZURE_BLOB_HOST}` : `http://127.0.0.1:${port}/${ACCOUNT}`;
    return `${origin}/${CONTAINER}/${encodeURIComponent(blobName)}?${sas}`;
  };

  const find = (key: string, version: string) => entries.find((e) => e.key === key && e.version === version);

  const handlers: Record<TwirpMethod, (body: Record<string, unknown>) => Promise<Record<string, unknown>>> = {
    async CreateCacheEntry(body) {
      const key = stringField(body, 'key');
      const version = stringField(body, 'version');
      // Like GitHub: one entry per key and version, reserved at create; a second create is refused
      // whether or not the first was finalized.
      if (find(key, version)) throw new TwirpError('already_exists', `cache entry with the same key, version, and scope already exists`);
      const id = nextId++;
      const entry: CacheEntry = { id, key, version, blobName: `entry-${id}`, finalized: false };
      entries.push(entry);
      return { ok: true, signed_upload_url: signedUrl(entry.blobName, 'cw'), message: '' };
    },
    async FinalizeCacheEntryUpload(body) {
      const key = stringField(body, 'key');
      const version = stringField(body, 'version');
      const sizeBytes = Number(body.size_bytes ?? 0);
      const entry = find(key, version);
      if (!entry) throw new TwirpError('not_found', `no cache entry reserved for key ${key} and version ${version}`);
      if (entry.finalized) throw new TwirpError('already_exists', `cache entry ${entry.id} is already finalized`);
      const blob = container.getBlobClient(entry.blobName);
      const size = (await blob.exists()) ? (await blob.getProperties()).contentLength : undefined;
      if (size === undefined) throw new TwirpError('not_found', `no upload for cache entry ${entry.id}`);
      if (size !== sizeBytes) throw new TwirpError('invalid_argument', `size_bytes ${sizeBytes} does not match the upload (${size} bytes)`);
      entry.sizeBytes = sizeBytes;
      entry.finalized = true;
      entry.finalizedSeq = ++finalizedSeq;
      return { ok: true, entry_id: String(entry.id), message: '' };
    },
    async GetCacheEntryDownloadURL(body) {
      const key = stringField(body, 'key');
      const version = stringField(body, 'version');
      const restoreKeys = Array.isArray(body.restore_keys) ? body.restore_keys.map(String) : [];
      const visible = entries.filter((e) => e.finalized && e.version === version);
      const newestWithPrefix = (prefix: string) =>
        visible.filter((e) => e.key.startsWith(prefix)).sort((a, b) => b.finalizedSeq! - a.finalizedSeq!)[0];
      // GitHub's documented order: exact key, then key as a prefix, then each restore key (exact,
      // then as a prefix); among prefix matches the newest wins.
      let match = visible.find((e) => e.key === key) ?? newestWithPrefix(key);
      for (const restoreKey of restoreKeys) {
        match ??= visible.find((e) => e.key === restoreKey) ?? newestWithPrefix(restoreKey);
      }
      // A miss is not an error in this API: ok=false, which the client reports as undefined.
      if (!match) return { ok: false, signed_download_url: '', matched_key: '' };
      return { ok: true, signed_download_url: signedUrl(match.blobName, 'r'), matched_key: match.key };
    },
  };

  const serveTwirp = async (req: IncomingMessage, res: ServerResponse, method: string) => {
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    const send = (status: number, payload: Record<string, unknown>, code?: TwirpCode) => {
      calls.push({ method, request: body, status, ...(code ? { code } : {}) });
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(payload));
    };
    const fail = (code: TwirpCode, msg: string) => send(TWIRP_STATUS[code], { code, msg }, code);
    try {
      body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return fail('malformed', 'the request body is not JSON');
    }
    if (req.method !== 'POST') return fail('bad_route', `${req.method} is not POST`);
    if (!(method in handlers)) return fail('bad_route', `no method ${method}`);
    if (!/^Bearer \S/.test(req.headers.authorization ?? '')) return fail('unauthenticated', 'no bearer token');
    const fault = faults.twirp;
    if (fault && (!fault.method || fault.method === method)) {
      if (fault.times !== undefined && --fault.times <= 0) delete faults.twirp;
      return fail(fault.code, fault.msg ?? `injected ${fault.code}`);
    }
    try {
      send(200, await handlers[method as TwirpMethod](body));
    } catch (error) {
      if (error instanceof TwirpError) return fail(error.code, error.message);
      fail('internal', String(error));
    }
  };

  // Blob requests (proxied absolute URLs, or path-style loopback ones) go to the blob store
  // unchanged but for the host; the SAS in the query is the store's to check (Azurite checks it,
  // the file store does not).
  const serveBlob = (req: IncomingMessage, res: ServerResponse, target: URL) => {
    const path = target.pathname.startsWith(`/${ACCOUNT}/`) ? target.pathname : `/${ACCOUNT}${target.pathname}`;
    const blobName = decodeURIComponent(path.split('/').slice(3).join('/'));
    const record: BlobRequest = { method: req.method ?? '', blobName, status: 0, bytes: 0 };
    const comp = target.searchParams.get('comp');
    if (comp) record.comp = comp;
    blobRequests.push(record);
    if (req.method === 'PUT') req.on('data', (chunk: Buffer) => (record.bytes += chunk.length));
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: new URL(blobStore.url).host };
    delete headers['proxy-connection'];
    if (faults.ignoreRanges && req.method === 'GET') {
      delete headers.range;
      delete headers['x-ms-range'];
    }
    const upstream = httpRequest(`${blobStore.url}${path}${target.search}`, { method: req.method, headers }, (answer) => {
      record.status = answer.statusCode ?? 0;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (faults.hangDownloads && req.method === 'GET') {
        // Headers out, then silence: the socket stays open until the client gives up or stop().
        record.hung = true;
        res.flushHeaders();
        answer.resume();
        return;
      }
      const cut = req.method === 'GET' ? faults.cutDownloads : undefined;
      if (cut && cut.times > 0) {
        cut.times--;
        record.cut = true;
        answer.on('data', (chunk: Buffer) => {
          const room = cut.afterBytes - record.bytes;
          if (room > 0) res.write(chunk.subarray(0, room));
          record.bytes += Math.min(chunk.length, Math.max(room, 0));
          if (record.bytes >= cut.afterBytes) {
            answer.destroy();
            res.destroy();
          }
        });
        return;
      }
      if (req.method === 'GET') answer.on('data', (chunk: Buffer) => (record.bytes += chunk.length));
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502).end(String(error));
      else res.destroy();
    });
    req.pipe(upstream);
  };

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (/^https?:\/\//i.test(url)) {
      // Proxy form: only the emulated storage host is served, so a request meant for anywhere else
      // is refused here instead of reaching the network.
      const target = new URL(url);
      if (target.host !== AZURE_BLOB_HOST) return void res.writeHead(403).end(`this proxy serves only ${AZURE_BLOB_HOST}`);
      return serveBlob(req, res, target);
    }
    if (url.startsWith(TWIRP_PREFIX)) {
      serveTwirp(req, res, url.slice(TWIRP_PREFIX.length).split('?')[0]).catch((error) => res.destroy(error as Error));
      return;
    }
    if (url.startsWith(`/${ACCOUNT}/`)) return serveBlob(req, res, new URL(url, 'http://127.0.0.1'));
    // Through a CONNECT tunnel (below): origin-form, the storage host in the Host header.
    if (req.headers.host?.replace(/:80$/, '') === AZURE_BLOB_HOST) return serveBlob(req, res, new URL(url, `http://${AZURE_BLOB_HOST}`));
    res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ code: 'bad_route', msg: `no route ${url}` }));
  });
  // A client that tunnels through the proxy (CONNECT, as @actions/http-client does for every
  // proxied URL) reaches the emulated storage host on port 80 through this same server; any other
  // tunnel (HTTPS, another host) is refused, which keeps every byte on loopback.
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (req.url !== `${AZURE_BLOB_HOST}:80`) return void socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    server.emit('connection', socket);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = async () => {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  };
  const close = async () => {
    if (!server.listening) return;
    const closed = once(server, 'close');
    server.close();
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  try {
    await listen();
  } catch (error) {
    await blobStore.stop();
    throw error;
  }

  const url = `http://127.0.0.1:${port}/`;
  const proxy = options.blobProxy === 'blob-store' ? blobStore.url : `http://127.0.0.1:${port}`;
  let stopped = false;
  const service: CacheService = {
    url,
    env: {
      ACTIONS_RESULTS_URL: url,
      ACTIONS_CACHE_SERVICE_V2: 'true',
      ACTIONS_RUNTIME_TOKEN: 'basecow-test-token',
      // v1 would use this; pointing it here too means a fallback to v1 fails on loopback instead
      // of reaching a real service when the tests themselves run on GitHub.
      ACTIONS_CACHE_URL: url,
      // v2 is off for anything but github.com (GHES), so a runner's own value must not leak in.
      GITHUB_SERVER_URL: 'https://github.com',
      ACTIONS_CACHE_MODE: '',
      // The Azure SDK takes HTTPS_PROXY, then ALL_PROXY, then HTTP_PROXY, each in either case, and
      // skips hosts in NO_PROXY: all are set so no inherited value can send blob traffic elsewhere.
      HTTPS_PROXY: proxy,
      https_proxy: proxy,
      HTTP_PROXY: proxy,
      http_proxy: proxy,
      ALL_PROXY: proxy,
      all_proxy: proxy,
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
    },
    faults,
    blobUrls: options.blobUrls ?? 'azure',
    entries,
    calls,
    blobRequests,
    async corrupt(key) {
      const entry = entries.find((e) => e.key === key && e.finalized);
      if (!entry) throw new Error(`no finalized cache entry with key ${key}`);
      const blob = container.getBlockBlobClient(entry.blobName);
      const bytes = await blob.downloadToBuffer();
      // The middle of the archive is compressed payload, past any header a decoder reads first.
      const middle = Math.floor(bytes.length / 2);
      for (let i = middle; i < Math.min(bytes.length, middle + 16); i++) bytes[i] ^= 0xff;
      await blob.uploadData(bytes);
    },
    blobStoreCpuSeconds: blobStore.cpuSeconds,
    pause: close,
    async resume() {
      if (!server.listening) await listen();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await close();
      await blobStore.stop();
    },
  };
  return service;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new TwirpError('invalid_argument', `${name} is required`);
  return value;
}

interface BlobStore {
  url: string;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * The blob store as a process of its own on a free loopback port: Azurite, storage in memory (or
 * in files under `location`), or the file store, under `location` (or a temporary directory that
 * stop() removes). Its URL is read from its output.
 */
async function startBlobStore(kind: 'azurite' | 'files', location?: string): Promise<BlobStore> {
  const directory = kind === 'files' ? (location ?? mkdtempSync(join(tmpdir(), 'basecow-blobs-'))) : location;
  const removeDirectory = kind === 'files' && !location ? () => rmSync(directory!, { recursive: true, force: true }) : () => undefined;
  const args =
    kind === 'azurite'
      ? [AZURITE_BIN, '--blobHost', '127.0.0.1', '--blobPort', '0', ...(directory ? ['--location', directory] : ['--inMemoryPersistence']), '--disableTelemetry', '--silent']
      : [FILE_BLOB_STORE, directory!];
  // Both are node scripts; run by this node with a preload that ends them when their stdin pipe
  // closes, so a store never outlives the test process, even one killed without cleanup.
  const child: ChildProcess = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  // The pipe's end in this process must not keep the test process alive.
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = once(child, 'exit');
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return removeDirectory();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    removeDirectory();
  };
  let output = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the blob store (${kind}) did not start within 20 s:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`the blob store (${kind}) exited (${code ?? signal}) before listening:\n${output}`)));
    });
    let clockTicks: number | undefined;
    const cpuSeconds = (): number => {
      // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesized command name: utime, stime.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Their unit is the clock tick, asked once.
      clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      return (Number(fields[11]) + Number(fields[12])) / clockTicks;
    };
    return { url, cpuSeconds, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A fresh id for keys, so tests sharing one service never collide by accident. */
export const uniqueKey = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

const CLIENT = fileURLToPath(new URL('../fixtures/cache-client.js', import.meta.url));

export interface ClientRun {
  /** saveCache's number, restoreCache's key, or null for undefined; absent when it threw. */
  value?: number | string | null;
  threw?: { name: string; message: string };
  /** Time inside saveCache / restoreCache, as the child measured it. */
  ms: number;
  warnings: string[];
  errors: string[];
  /** Plain (info) lines @actions/core printed. */
  infos: string[];
  stdout: string;
  stderr: string;
}

export interface ClientRequest {
  op: 'save' | 'restore';
  paths: string[];
  key: string;
  restoreKeys?: string[];
  /** UploadOptions / DownloadOptions, passed through. */
  options?: Record<string, unknown>;
}

/**
 * Runs test/fixtures/cache-client.js (the real @actions/cache) in `workspace` as a runner would:
 * GITHUB_WORKSPACE is the workspace, RUNNER_TEMP a directory for the archive. A child still
 * running after `timeoutMs` is killed and the promise rejects, so a hang fails the test instead of
 * stalling the suite.
 */
export async function runCacheClient(
  service: CacheService,
  workspace: string,
  runnerTemp: string,
  request: ClientRequest,
  extraEnv: Record<string, string> = {},
  timeoutMs = 90_000,
): Promise<ClientRun> {
  const env = { ...process.env, ...service.env, GITHUB_WORKSPACE: workspace, RUNNER_TEMP: runnerTemp, ...extraEnv };
  const child = spawn(process.execPath, [CLIENT, JSON.stringify(request)], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  const lines = stdout.split('\n').filter((line) => line !== '');
  const resultLine = lines.find((line) => line.startsWith('RESULT '));
  if (code !== 0 || !resultLine) {
    throw new Error(`cache client ${request.op} ended with ${signal ?? `status ${code}`} after ${timeoutMs} ms at most\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }
  const outcome = JSON.parse(resultLine.slice('RESULT '.length)) as Pick<ClientRun, 'value' | 'threw' | 'ms'>;
  const annotations = (kind: string) =>
    lines.filter((line) => line.startsWith(`::${kind}::`)).map((line) => line.slice(kind.length + 4));
  return {
    ...outcome,
    warnings: annotations('warning'),
    errors: annotations('error'),
    infos: lines.filter((line) => !line.startsWith('::') && !line.startsWith('RESULT ')),
    stdout,
    stderr,
  };
}
