// The real @actions/cache client against the local cache service (test/support): what basecow's
// L2 adapter can rely on, and how each failure of the service looks to a caller. The client runs
// in a child process, as the action will, with the environment a runner gives a node action.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from './helpers.js';
import {
  runCacheClient,
  startCacheService,
  uniqueKey,
  type CacheService,
  type ClientRequest,
} from './support/actions-cache-service.js';

// One string on every runner: the cache version hashes the literal path strings (plus the
// compression method), so save and restore pass exactly this, relative to the workspace.
const CACHED = 'store/base.img.zst';

/** A workspace holding CACHED with random (incompressible, so any misplaced byte shows) content. */
function workspaceWith(content: Buffer): string {
  const workspace = tempDir('basecow-workspace-');
  mkdirSync(dirname(join(workspace, CACHED)), { recursive: true });
  writeFileSync(join(workspace, CACHED), content);
  return workspace;
}

/** saveCache / restoreCache of CACHED in child processes against `service`. */
function clientOf(service: () => CacheService) {
  const runnerTemp = tempDir('basecow-runner-temp-');
  const save = (workspace: string, key: string, env?: Record<string, string>) =>
    runCacheClient(service(), workspace, runnerTemp, { op: 'save', paths: [CACHED], key }, env);
  const restore = async (key: string, extra: Partial<ClientRequest> = {}, env?: Record<string, string>) => {
    const workspace = tempDir('basecow-workspace-');
    const run = await runCacheClient(service(), workspace, runnerTemp, { op: 'restore', paths: [CACHED], key, ...extra }, env);
    const path = join(workspace, CACHED);
    return { ...run, restored: existsSync(path) ? readFileSync(path) : undefined };
  };
  const callsSince = (start: number) =>
    service().calls.slice(start).map((c) => `${c.method} ${c.status}${c.code ? ` ${c.code}` : ''}`);
  return { save, restore, callsSince };
}

describe('@actions/cache 6.3.0 against the local cache service', { concurrency: true }, () => {
  // The client's own back-off makes this check last ~30 s, mostly asleep, so it runs beside the
  // others on a service of its own rather than after them.
  test('HTTP 500 on every twirp call: 5 attempts over ~25-35 s, then save returns -1 and restore undefined', async () => {
    const service = await startCacheService();
    try {
      const { save, restore, callsSince } = clientOf(() => service);
      const key = uniqueKey('internal');
      const workspace = workspaceWith(randomBytes(64 << 10));
      assert.ok(((await save(workspace, key)).value as number) > 0);
      const start = service.calls.length;
      service.faults.twirp = { code: 'internal' };
      // Both at once: the back-off is the client's own (3 s, then x1.5 with jitter), not adjustable.
      const [saved, restored] = await Promise.all([save(workspace, uniqueKey('internal-save')), restore(key)]);
      assert.equal(saved.value, -1);
      assert.ok(saved.infos.some((line) => line.startsWith('Failed to save: Unable to reserve cache')));
      assert.equal(restored.value, null);
      assert.match(restored.warnings.join('\n'), /Failed to restore: .*Failed to make request after 5 attempts: Failed request: \(500\)/);
      const calls = callsSince(start);
      assert.equal(calls.filter((c) => c === 'CreateCacheEntry 500 internal').length, 5);
      assert.equal(calls.filter((c) => c === 'GetCacheEntryDownloadURL 500 internal').length, 5);
      for (const run of [saved, restored]) assert.ok(run.ms > 20_000 && run.ms < 45_000, `${run.ms} ms`);
    } finally {
      await service.stop();
    }
  });

  // Signed URLs on any host but *.blob.core.windows.net send the client down another download path:
  // one plain GET, no segment timeout, a 5 s socket idle timeout instead. Shown here so that a test
  // choosing loopback URLs knows what it trades away; production takes the Azure SDK path above.
  test('loopback blob URLs: one plain GET; a stalled one fails after the 5 s socket timeout', async () => {
    const service = await startCacheService({ blobUrls: 'loopback' });
    try {
      const { save, restore } = clientOf(() => service);
      const content = randomBytes(256 << 10);
      const key = uniqueKey('loopback');
      assert.ok(((await save(workspaceWith(content), key)).value as number) > 0);
      const restored = await restore(key);
      assert.ok(restored.restored?.equals(content));
      assert.deepEqual(
        service.blobRequests.filter((r) => r.method !== 'PUT').map((r) => `${r.method} ${r.status}`),
        ['GET 200'],
      );
      service.faults.hangDownloads = true;
      const stalled = await restore(key, {}, { SEGMENT_DOWNLOAD_TIMEOUT_MINS: '0.01' });
      assert.equal(stalled.value, null);
      assert.deepEqual(stalled.warnings, ['Failed to restore: Premature close']);
      assert.ok(stalled.ms >= 5000 && stalled.ms < 15_000, `${stalled.ms} ms`);
    } finally {
      await service.stop();
    }
  });

  // The benchmarks' set-ups: the blob store itself is the proxy (it takes the account from the Host
  // header of a production-style URL) and keeps blobs in files, so no blob byte passes through the
  // test process. The client still takes its Azure SDK path; the store's CPU is readable.
  for (const blobStore of ['azurite', 'files'] as const) {
    test(`blobs straight from the blob store (${blobStore}), stored in files: byte-identical round trip, none through the service`, async () => {
      const location = tempDir('basecow-blobs-');
      const service = await startCacheService({ blobStore, blobProxy: 'blob-store', blobLocation: location });
      try {
        const { save, restore } = clientOf(() => service);
        const content = randomBytes(3 << 20);
        const key = uniqueKey('direct');
        const cpuBefore = service.blobStoreCpuSeconds();
        assert.ok(((await save(workspaceWith(content), key)).value as number) > 0);
        const restored = await restore(key);
        assert.equal(restored.value, key);
        assert.ok(restored.restored?.equals(content));
        assert.deepEqual(service.blobRequests, []);
        assert.ok(service.blobStoreCpuSeconds() > cpuBefore, 'the store served the blobs, so its CPU time grew');
        assert.ok(readdirSync(location).length > 0, `the store wrote nothing under ${location}`);
      } finally {
        await service.stop();
      }
    });
  }

  // The file store is the benchmark's; this holds it to what the client needs of Azure: an archive
  // over 128 MiB goes up in staged blocks and a block list, comes down in 4 MiB ranges (SDK path)
  // or one plain GET (loopback URLs, through the service), and a corrupted blob reads back changed.
  test('file blob store: a 129 MiB archive up in blocks, down by ranges and by a plain GET, byte-identical', async () => {
    const service = await startCacheService({ blobStore: 'files' });
    try {
      const { save, restore } = clientOf(() => service);
      const content = randomBytes(129 << 20);
      const key = uniqueKey('blocks');
      assert.ok(((await save(workspaceWith(content), key)).value as number) > 0);
      const puts = service.blobRequests.filter((r) => r.method === 'PUT').map((r) => r.comp ?? 'blob');
      assert.ok(puts.filter((comp) => comp === 'block').length >= 2, `staged blocks: ${puts.join(', ')}`);
      assert.equal(puts.at(-1), 'blocklist');
      const before = service.blobRequests.length;
      const ranged = await restore(key);
      assert.ok(ranged.restored?.equals(content), 'the SDK path restored other bytes');
      const gets = service.blobRequests.slice(before).filter((r) => r.method === 'GET');
      assert.ok(gets.length >= 30 && gets.every((r) => r.status === 206), `ranged GETs: ${gets.map((r) => r.status).join(' ')}`);
      service.blobUrls = 'loopback';
      const plain = await restore(key);
      assert.ok(plain.restored?.equals(content), 'the plain-GET path restored other bytes');
      assert.equal(service.blobRequests.at(-1)?.status, 200);
      service.blobUrls = 'azure';
      await service.corrupt(key);
      const corrupted = await restore(key);
      assert.equal(corrupted.value, null);
      assert.ok(corrupted.infos.some((line) => line.includes("doesn't match checksum")), corrupted.infos.join('\n'));
    } finally {
      await service.stop();
    }
  });

  describe('one check at a time on a shared service', { concurrency: 1 }, () => {
    let service: CacheService;
    before(async () => {
      service = await startCacheService();
    });
    after(async () => {
      await service?.stop();
    });
    const { save, restore, callsSince } = clientOf(() => service);

    test('save, then restore in another workspace, gives back the same bytes through Azure-style blob URLs', async () => {
      const content = randomBytes(2 << 20);
      const key = uniqueKey('roundtrip');
      const saved = await save(workspaceWith(content), key);
      assert.equal(saved.threw, undefined);
      assert.ok(typeof saved.value === 'number' && saved.value > 0, `saveCache returned ${saved.value}`);
      assert.deepEqual(saved.warnings, []);
      const entry = service.entries.find((e) => e.key === key);
      assert.ok(entry?.finalized);
      assert.equal(saved.value, entry.id);
      const upload = service.blobRequests.filter((r) => r.blobName === entry.blobName && r.method === 'PUT');
      assert.equal(upload.reduce((sum, r) => sum + r.bytes, 0), entry.sizeBytes, 'finalized size is what went up');

      const restored = await restore(key);
      assert.equal(restored.value, key);
      assert.deepEqual(restored.warnings, []);
      assert.ok(restored.restored?.equals(content), 'restored bytes differ');
      // HEAD then a ranged GET is the Azure SDK download, the one production (*.blob.core.windows.net) takes.
      const download = service.blobRequests.filter((r) => r.blobName === entry.blobName && r.method !== 'PUT');
      assert.deepEqual(download.map((r) => `${r.method} ${r.status}`), ['HEAD 200', 'GET 206']);
      assert.equal(download[1].bytes, entry.sizeBytes);
    });

    test('the cache version binds the literal path string: another spelling of the same path misses', async () => {
      const content = randomBytes(64 << 10);
      const key = uniqueKey('path-string');
      assert.ok(((await save(workspaceWith(content), key)).value as number) > 0);
      const other = await restore(key, { paths: [`./${CACHED}`] });
      assert.equal(other.value, null);
      assert.equal(other.restored, undefined);
      const same = await restore(key);
      assert.ok(same.restored?.equals(content));
    });

    test('the twirp wire format: proto field names, every response field present, errors as {code, msg}', async () => {
      const call = async (method: string, body: unknown) => {
        const res = await fetch(`${service.url}twirp/github.actions.results.api.v1.CacheService/${method}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer x' },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const key = uniqueKey('wire');
      const created = await call('CreateCacheEntry', { key, version: 'v' });
      assert.equal(created.status, 200);
      assert.equal(created.body.ok, true);
      assert.match(String(created.body.signed_upload_url), /^http:\/\/devstoreaccount1\.blob\.core\.windows\.net\/.*[?&]sig=/);
      assert.deepEqual(await call('CreateCacheEntry', { key, version: 'v' }), {
        status: 409,
        body: { code: 'already_exists', msg: 'cache entry with the same key, version, and scope already exists' },
      });
      // Finalizing before anything was uploaded is refused, and the entry stays invisible.
      assert.equal((await call('FinalizeCacheEntryUpload', { key, version: 'v', size_bytes: '1' })).body.code, 'not_found');
      assert.deepEqual(await call('GetCacheEntryDownloadURL', { key, version: 'v' }), {
        status: 200,
        body: { ok: false, signed_download_url: '', matched_key: '' },
      });
      assert.equal((await call('CreateCacheEntry', { version: 'v' })).status, 400);
    });

    test('a second save of the same key is refused (409) and returns -1 with an info line, not a warning', async () => {
      const key = uniqueKey('twice');
      const workspace = workspaceWith(randomBytes(64 << 10));
      assert.ok(((await save(workspace, key)).value as number) > 0);
      const start = service.calls.length;
      const again = await save(workspace, key);
      assert.equal(again.value, -1);
      assert.equal(again.threw, undefined);
      assert.deepEqual([again.warnings, again.errors], [[], []]);
      assert.ok(again.infos.includes(`Failed to save: Unable to reserve cache with key ${key}, another job may be creating this cache.`));
      assert.deepEqual(callsSince(start), ['CreateCacheEntry 409 already_exists']);
    });

    test('restoring an unknown key is a quiet miss: undefined, no warning, nothing written', async () => {
      const missed = await restore(uniqueKey('unknown'));
      assert.equal(missed.value, null);
      assert.deepEqual([missed.warnings, missed.errors, missed.threw], [[], [], undefined]);
      assert.equal(missed.restored, undefined);
    });

    test('restore-keys match as prefixes, newest first; an exact primary key wins over a newer prefix match', async () => {
      const prefix = `${uniqueKey('prefix')}-`;
      const older = randomBytes(64 << 10);
      const newer = randomBytes(64 << 10);
      assert.ok(((await save(workspaceWith(older), `${prefix}a`)).value as number) > 0);
      assert.ok(((await save(workspaceWith(newer), `${prefix}b`)).value as number) > 0);

      const byPrefix = await restore(`${prefix}missing`, { restoreKeys: ['no-such-prefix-', prefix] });
      assert.equal(byPrefix.value, `${prefix}b`);
      assert.ok(byPrefix.restored?.equals(newer));
      assert.ok(byPrefix.infos.includes(`Cache hit for restore-key: ${prefix}b`));

      const exact = await restore(`${prefix}a`, { restoreKeys: [prefix] });
      assert.equal(exact.value, `${prefix}a`);
      assert.ok(exact.restored?.equals(older));
    });

    test('an entry is visible only once finalized; its key stays reserved meanwhile', async () => {
      const key = uniqueKey('unfinalized');
      const workspace = workspaceWith(randomBytes(64 << 10));
      service.faults.twirp = { code: 'invalid_argument', method: 'FinalizeCacheEntryUpload', times: 1 };
      const saved = await save(workspace, key);
      // A finalize error is not a reservation error: the client warns, and still returns -1.
      assert.equal(saved.value, -1);
      assert.match(saved.warnings.join('\n'), /Failed to save: Failed to FinalizeCacheEntryUpload: .*\(400\).*injected invalid_argument/);
      assert.equal(service.entries.find((e) => e.key === key)?.finalized, false);

      assert.equal((await restore(key)).value, null);
      assert.equal((await save(workspace, key)).value, -1, 'the reserved key refuses a new save');
    });

    test('connection refused: save returns -1 (info) and restore undefined (warning) at once, no retries', async () => {
      const key = uniqueKey('refused');
      const workspace = workspaceWith(randomBytes(64 << 10));
      assert.ok(((await save(workspace, key)).value as number) > 0);
      await service.pause();
      try {
        const saved = await save(workspace, uniqueKey('refused-save'));
        assert.equal(saved.value, -1);
        assert.equal(saved.threw, undefined);
        // The reservation failure is reported like a 409: info, not a warning.
        assert.deepEqual(saved.warnings, []);
        assert.ok(saved.infos.some((line) => line.startsWith('Failed to save: Unable to reserve cache')));
        const restored = await restore(key);
        assert.equal(restored.value, null);
        assert.equal(restored.threw, undefined);
        assert.match(restored.warnings.join('\n'), /Failed to restore: Failed to GetCacheEntryDownloadURL: .*ECONNREFUSED/);
        // NetworkError is not retried: no 3 s back-off.
        assert.ok(saved.ms < 3000 && restored.ms < 3000, `save ${saved.ms} ms, restore ${restored.ms} ms`);
      } finally {
        await service.resume();
      }
    });

    test('one HTTP 500 is retried after 3 s and the restore then succeeds', async () => {
      const content = randomBytes(64 << 10);
      const key = uniqueKey('retried');
      assert.ok(((await save(workspaceWith(content), key)).value as number) > 0);
      const start = service.calls.length;
      service.faults.twirp = { code: 'internal', times: 1 };
      const restored = await restore(key);
      assert.equal(restored.value, key);
      assert.ok(restored.restored?.equals(content));
      assert.deepEqual(callsSince(start), ['GetCacheEntryDownloadURL 500 internal', 'GetCacheEntryDownloadURL 200']);
      assert.ok(restored.ms >= 3000, `${restored.ms} ms`);
    });

    test('a download that stalls after its headers is abandoned after SEGMENT_DOWNLOAD_TIMEOUT_MINS: warning, undefined', async () => {
      const key = uniqueKey('stalled');
      assert.ok(((await save(workspaceWith(randomBytes(256 << 10)), key)).value as number) > 0);
      service.faults.hangDownloads = true;
      try {
        // 0.05 min = 3 s. Unset, the segment timeout is 10 min (DownloadOptions.segmentTimeoutInMs).
        const restored = await restore(key, {}, { SEGMENT_DOWNLOAD_TIMEOUT_MINS: '0.05' });
        assert.equal(restored.value, null);
        assert.deepEqual(restored.warnings, ['Failed to restore: Aborting cache download as the download time exceeded the timeout.']);
        assert.equal(restored.restored, undefined);
        assert.ok(restored.ms >= 3000 && restored.ms < 10_000, `${restored.ms} ms`);
        assert.ok(service.blobRequests.some((r) => r.method === 'GET' && r.hung));
      } finally {
        service.faults.hangDownloads = false;
      }
    });

    test('a corrupted archive fails the restore with a warning, and leaves a damaged file behind', async () => {
      const content = randomBytes(1 << 20);
      const key = uniqueKey('corrupt');
      assert.ok(((await save(workspaceWith(content), key)).value as number) > 0);
      await service.corrupt(key);
      const restored = await restore(key);
      assert.equal(restored.value, null);
      assert.equal(restored.threw, undefined);
      // zstd's frame checksum catches the flipped bytes; tar then fails on the cut stream.
      assert.ok(restored.infos.some((line) => line.includes("doesn't match checksum")), restored.infos.join('\n'));
      assert.match(restored.warnings.join('\n'), /Failed to restore: .*tar.* failed with exit code 2/);
      // The client leaves what tar had written: a damaged file at the cached path (here short, with
      // the flipped bytes in it). A caller must verify what it restored, and not only its status.
      assert.ok(restored.restored, 'expected the partial file tar wrote before the stream broke');
      assert.ok(!restored.restored.equals(content));
      assert.ok(restored.restored.length <= content.length);
    });
  });
});
