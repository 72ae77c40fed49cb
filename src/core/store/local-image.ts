import type { BigIntStats } from 'node:fs';
import { resolve } from 'node:path';
import { SourceError } from '../errors.js';
import type { BaseSource, MaterializedSource, SourceContext } from './base-source.js';
import { sourceKey, statSource } from './source-digest.js';

/** The source's identity: if any of it changes while we read, what we read is not what was keyed. */
const sameFile = (a: BigIntStats, b: BigIntStats): boolean =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/** A compressed or raw image on this machine; its key is the sha256 of its bytes (memoized). */
export function localImage(path: string, options: { member?: string } = {}): BaseSource {
  const source = resolve(path);
  let keyedAs: BigIntStats | undefined;
  return {
    label: source,
    async key(context: SourceContext) {
      keyedAs = await statSource(source);
      const total = Number(keyedAs.size);
      return sourceKey(source, keyedAs, context.digestsDir, {
        onRead: (done) => context.onProgress?.({ phase: 'hash', done, total }),
        signal: context.signal,
        onWarning: context.onWarning,
        offThread: context.hashOffThread,
      });
    },
    async materialize(): Promise<MaterializedSource> {
      // With a caller key the file was never hashed: its identity is taken now, before it is read.
      const identity = keyedAs ?? (await statSource(source));
      keyedAs = identity;
      return {
        path: source,
        origin: 'extracted',
        member: options.member,
        async checkUnchanged() {
          if (!sameFile(identity, await statSource(source))) {
            throw new SourceError(source, 'changed while it was being read (size, mtime, ctime or inode differ from when it was keyed); nothing was published, run again');
          }
        },
        dispose: async () => undefined,
        record: { path: source, kind: 'image', digest: null, bytes: Number(identity.size) },
      };
    },
  };
}
