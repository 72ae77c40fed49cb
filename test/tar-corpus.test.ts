// libarchive's sparse tar archives (GNU tar 1.13 and 1.17, its posix 0.0/0.1/1.0 formats, Solaris
// pax, hand-made edge cases) as an outside reference: every regular member that GNU tar extracts
// must come out of basecow byte for byte, and every one GNU tar refuses must be refused.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SourceError } from '../src/core/errors.js';
import { readChunks } from '../src/core/extract/chunks.js';
import { SparseWriter } from '../src/core/extract/write/sparse-writer.js';
import { extractTarMember } from '../src/core/extract/tar.js';
import { allocatedBytes, tempDir } from './helpers.js';

const CORPUS = fileURLToPath(new URL('../../test/fixtures/libarchive', import.meta.url));
const dir = tempDir('basecow-tar-corpus-');
const archives = fs.readdirSync(CORPUS).filter((name) => name.endsWith('.zst')).sort();
let outputs = 0;

before(() => {
  for (const name of archives) execFileSync('zstd', ['-q', '-d', path.join(CORPUS, name), '-o', path.join(dir, name.slice(0, -4))]);
});

/** Regular members as GNU tar lists them (it lists on past a member it calls malformed). */
function regularMembers(archive: string): string[] {
  const listing = spawnSync('tar', ['--quoting-style=literal', '-tvf', archive], { encoding: 'utf8' }).stdout;
  return listing
    .split('\n')
    .filter((line) => line.startsWith('-'))
    .map((line) => /^\S+\s+\S+\s+\d+\s+\S+\s+\S+\s(.*)$/.exec(line)![1]);
}

/**
 * GNU tar's extraction of one member, or undefined when GNU tar refuses it. Its exit status also
 * counts errors in other members it passes on the way, so a refusal is a message naming this one.
 */
function gnuExtract(archive: string, member: string): string | undefined {
  const target = fs.mkdtempSync(path.join(dir, 'ref-'));
  const { stderr } = spawnSync('tar', ['-xf', archive, '-C', target, member], { encoding: 'utf8' });
  const out = path.join(target, member);
  return stderr.includes(`tar: ${member}: `) || !fs.existsSync(out) ? undefined : out;
}

async function basecowExtract(archive: string, member: string): Promise<string> {
  const out = path.join(dir, `out-${++outputs}.img`);
  const writer = await SparseWriter.create(out);
  try {
    const { size } = await extractTarMember(readChunks(archive), member, writer, archive);
    await writer.finish(size);
    return out;
  } catch (error) {
    await writer.discard();
    throw error;
  }
}

/** Byte ranges the file has data in, from its extent map (filefrag -v, after fsync). */
function dataRanges(file: string): [number, number][] {
  const fd = fs.openSync(file, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const report = execFileSync('filefrag', ['-v', file], { encoding: 'utf8' });
  const blockSize = Number(/blocks? of (\d+) bytes/.exec(report)?.[1]);
  return [...report.matchAll(/^\s*\d+:\s+(\d+)\.\.\s*(\d+):/gm)].map((m) => [Number(m[1]) * blockSize, (Number(m[2]) + 1) * blockSize]);
}

/**
 * Byte for byte. Outside the extents of both files both read as zeros, so only the extents are
 * compared: one member is 10 GiB, nearly all of it hole.
 */
function assertSameBytes(ours: string, reference: string): void {
  const size = fs.statSync(reference).size;
  assert.equal(fs.statSync(ours).size, size, `${ours}: size differs from GNU tar's`);
  const [a, b] = [fs.openSync(ours, 'r'), fs.openSync(reference, 'r')];
  try {
    for (const [start, end] of [...dataRanges(ours), ...dataRanges(reference)]) {
      const length = Math.min(end, size) - start;
      if (length <= 0) continue;
      const [bufA, bufB] = [Buffer.alloc(length), Buffer.alloc(length)];
      fs.readSync(a, bufA, 0, length, start);
      fs.readSync(b, bufB, 0, length, start);
      assert.ok(bufA.equals(bufB), `${ours} differs from GNU tar's within bytes ${start}-${start + length}`);
    }
  } finally {
    fs.closeSync(a);
    fs.closeSync(b);
  }
}

test('libarchive corpus: every regular member GNU tar extracts comes out the same, and only those', async () => {
  let extracted = 0;
  let refused = 0;
  for (const name of archives) {
    const archive = path.join(dir, name.slice(0, -4));
    const members = regularMembers(archive);
    assert.ok(members.length > 0, `${name}: GNU tar lists no regular member`);
    for (const member of members) {
      const reference = gnuExtract(archive, member);
      if (reference === undefined) {
        await assert.rejects(basecowExtract(archive, member), (error: unknown) => {
          assert.ok(error instanceof SourceError, `${name} '${member}': ${String(error)}`);
          assert.match(error.message, /broken tar/);
          return true;
        }, `${name} '${member}': GNU tar refuses it, basecow extracted it`);
        refused++;
        continue;
      }
      const ours = await basecowExtract(archive, member).catch((error: unknown) => assert.fail(`${name} '${member}': GNU tar extracts it, basecow says: ${String(error)}`));
      assertSameBytes(ours, reference);
      // filefrag reports no block size for an empty file; there is no allocation to compare.
      if (fs.statSync(ours).size > 0) assert.ok(allocatedBytes(ours) <= allocatedBytes(reference), `${name} '${member}': ours allocates ${allocatedBytes(ours)} bytes, GNU tar ${allocatedBytes(reference)}`);
      fs.rmSync(ours);
      fs.rmSync(reference);
      extracted++;
    }
  }
  // What the corpus holds: a change here means the listing or GNU tar changed, not basecow.
  assert.deepEqual({ extracted, refused }, { extracted: 23, refused: 1 });
});

test('PAX 1.0 map covering less than the member stores: the rest is skipped, as GNU tar does', async () => {
  // libarchive's test_read_format_gtar_sparse_skip_entry: member 'a' has a real size of 10 GiB + 4
  // and a map of 4,096 bytes at 0 and 3 bytes at 10 GiB, 4,099 of the 4,100 stored bytes; member
  // 'b' follows it. GNU tar ends the file where the map ends.
  const archive = path.join(dir, 'test_read_format_gtar_sparse_skip_entry.tar');
  const a = await basecowExtract(archive, 'a');
  assert.equal(fs.statSync(a).size, 10 * 1024 ** 3 + 3);
  const b = await basecowExtract(archive, 'b');
  assert.equal(fs.readFileSync(b).length, 4);
  assertSameBytes(b, gnuExtract(archive, 'b')!);
});
