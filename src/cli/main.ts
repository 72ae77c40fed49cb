import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../core/errors.js';
import { defaultCacheDir } from '../core/layout.js';
import { ensureBase, type BaseResult } from '../core/store.js';
import { defaultImage } from './default-image.js';
import { formatBytes, progressReporter } from './progress.js';

const USAGE = `usage: basecow <command> [options]

commands:
  prepare   extract a source image once into the base store and print its path
            --image <path>      .img.zst/.zst, .tar.zst/.tzst/.tar, or raw .img/.raw
                                (default: the embedded demo image)
            --key <key>         use this key instead of the sha256 of the source
            --member <name>     tar member holding the disk (default disk.img)
            --cache-dir <dir>   base store (default $BASECOW_CACHE_DIR or ~/.cache/basecow)
            --json              print one JSON object on stdout, logs on stderr

exit status: 0 on success, 1 on failure, 2 on bad usage`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'prepare':
        return await prepare(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`basecow: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`basecow: error: ${(error as Error).message}\n`);
    if (process.env.BASECOW_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function prepare(args: string[]): Promise<number> {
  const { values } = parse(args, {
    image: { type: 'string' },
    key: { type: 'string' },
    member: { type: 'string' },
    'cache-dir': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const image = (values.image as string | undefined) ?? defaultImage();
  const progress = progressReporter(process.stderr);
  let result: BaseResult;
  try {
    result = await ensureBase({
      source: image,
      cacheDir: (values['cache-dir'] as string | undefined) ?? defaultCacheDir(),
      key: values.key as string | undefined,
      member: values.member as string | undefined,
      onProgress: progress.report,
    });
  } finally {
    progress.end();
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(prepareJson(result))}\n`);
  } else {
    process.stdout.write(
      [
        `base:      ${result.base}`,
        `key:       ${result.key}`,
        `cache:     ${result.cacheHit === 'miss' ? 'miss (extracted now)' : `hit (${result.cacheHit})`}`,
        `size:      ${formatBytes(result.apparentBytes)} apparent, ${formatBytes(result.allocatedBytes)} allocated`,
        `time:      ${result.seconds.toFixed(3)} s (hash ${result.timings.hashSeconds.toFixed(3)} s${result.keyMemoized ? ', memoized' : ''}, wait ${result.timings.waitSeconds.toFixed(3)} s, extract ${result.timings.extractSeconds.toFixed(3)} s)`,
      ].join('\n') + '\n',
    );
  }
  return 0;
}

function prepareJson(result: BaseResult) {
  return {
    key: result.key,
    base: result.base,
    sidecar: result.sidecar,
    cacheHit: result.cacheHit,
    apparentBytes: result.apparentBytes,
    allocatedBytes: result.allocatedBytes,
    seconds: result.seconds,
    timings: result.timings,
    keyMemoized: result.keyMemoized,
  };
}
