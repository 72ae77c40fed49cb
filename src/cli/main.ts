import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BasecowError, UsageError } from '../core/errors.js';
import { DEFAULT_CONNECT_URI } from '../core/libvirt/virsh.js';
import { defaultCacheDir } from '../core/store/layout.js';
import { ensureBase, type BaseResult, type Progress } from '../core/store/ensure-base.js';
import { DEFAULT_QCOW2_OPTIONS } from '../core/testnet/overlay.js';
import type { Warning } from '../core/warnings.js';
import { parseDomainType, parsePositiveInt } from '../inputs/numbers.js';
import { parseSize } from '../inputs/size.js';
import { parseBudget, parseDuration, parseDurability, parseVerify } from '../inputs/lifecycle.js';
import { parseSourceChoice, type SourceLabels } from '../inputs/source.js';
import { sourceFromChoice } from '../sources/index.js';
import { parseNetwork, parseVmList } from '../inputs/vms.js';
import { defaultImage } from './default-image.js';
import { hintFor } from './hints.js';
import { InterruptedError, interruptOnSignals } from './interrupt.js';
import { formatBytes, progressReporter } from '../output/progress.js';

const USAGE = `usage: basecow <command> [options]

commands:
  prepare   extract a source image once into the base store and print its path
            --image <path>      .img.zst/.zst, .tar.zst/.tzst/.tar, or raw .img/.raw
                                (default: the embedded demo image)
            --url <url> --sha256 <hex>
                                download the image (its name's extension tells the format,
                                as for --image); the key is sha256-<hex>, so a cached base
                                is never downloaded, and the download is verified
            --build <cmd> --key-files <globs>
                                run <cmd> with bash -e -o pipefail in the current directory
                                to write the image (raw or compressed) to $BASECOW_OUTPUT; the
                                key is a digest of the files the globs match (newline or comma
                                separated, relative to the current directory) and of <cmd>
                                give at most one of --image, --url + --sha256, --build + --key-files
            --key <key>         use this key instead of the sha256 of the source
            --member <name>     tar member holding the disk (default disk.img)
            --cache-dir <dir>   base store (default $BASECOW_CACHE_DIR or ~/.cache/basecow)
            --decode-workers <n>   at most this many threads decode a multi-frame source or
                                entry (default: one per core, bounded by free memory)
            --verify <when>     re-hash a stored base before using it: changed (default: when
                                its size, inode, mtime or ctime moved since it was made),
                                always, or never; a base that fails is quarantined and remade
            --durability <d>    deferred (default): publish a new base without waiting for the
                                disk, and verify it after a reboot if it was not on the disk yet; or
                                before-publish: wait until its data is on the disk
            --json              print one JSON object on stdout, logs on stderr

  up        prepare the base, then give every VM a qcow2 overlay, its extra disks and a
            libvirt domain XML, and write <work-dir>/manifest.json
            --image, --url, --sha256, --build, --key-files, --key, --member, --cache-dir,
            --decode-workers, --verify, --durability   as for prepare; the testnet leases its base until down
            --vms <n|a,b,c|vms.json>   VMs to make (default 3: vm1..vm3)
            --work-dir <dir>    where overlays, XML and the manifest go (default ./.basecow/testnet)
            --group <name>      prefix of the domain names (default derived from the work dir)
            --template <file>   mustache domain template (default templates/domain.xml.mustache)
            --min-size <size>   grow-only minimum disk size, e.g. 32G
            --qcow2-options <o> overlay creation options (default ${DEFAULT_QCOW2_OPTIONS})
            --recreate          replace existing overlays and extra disks (their writes are lost)
            --domain-type <t>   auto (kvm when /dev/kvm is usable), kvm or qemu
            --network <n>       none, bridge:<br>, network:<libvirt net> or tap:<dev> (default none)
            --memory <MiB> --vcpus <n>
            --kernel <f> --initrd <f> --cmdline <s>   direct kernel boot ({{vmName}} expands)
            --uefi <OVMF_CODE.fd>   boot with this UEFI firmware
            --start             start each domain with virsh create
            --connect <uri>     libvirt URI (default ${DEFAULT_CONNECT_URI})
            --json              print the manifest on stdout and nothing else
  down      stop the domains of a work dir and remove their overlays, extra disks and XML
            --work-dir <dir> --connect <uri> --json
  ls        list the store's bases: key, sizes, created, last used, leases, total vs budget
            --cache-dir <dir> --budget <size|N%> --json
  gc        remove unleased bases, least recently used first, until the store fits its budget;
            sweep what killed processes left (stale leases, temp files, locks, quarantine)
            --budget <size|N%>  e.g. 40G or 25% of the store's filesystem (default 25%)
            --max-age <dur>     also remove unleased bases unused for this long (e.g. 14d, 12h)
            --dry-run           say what would go, remove nothing
            --cache-dir <dir> --json

exit status: 0 on success, 1 on failure, 2 on bad usage, 130/143 when stopped by SIGINT/SIGTERM`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'prepare':
        return await prepare(rest);
      case 'up':
        return await upCommand(rest);
      case 'down':
        return await downCommand(rest);
      case 'ls':
        return await lsCommand(rest);
      case 'gc':
        return await gcCommand(rest);
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
    if (error instanceof InterruptedError) {
      process.stderr.write(`basecow: ${error.message}; stopped without leaving anything half-written\n`);
      return error.exitCode;
    }
    const hint = error instanceof BasecowError ? hintFor(error) : undefined;
    const message = hint ? `${(error as Error).message}; ${hint}` : (error as Error).message;
    if (error instanceof UsageError) {
      // A request that conflicts with the work dir is well-formed: the usage text would bury the hint.
      process.stderr.write(`basecow: ${message}\n${error.code === 'bad-input' ? `\n${USAGE}\n` : ''}`);
      return 2;
    }
    process.stderr.write(`basecow: error: ${message}\n`);
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

/** The options that pick a base: shared by prepare and up. */
const SOURCE_OPTIONS = {
  image: { type: 'string' },
  url: { type: 'string' },
  sha256: { type: 'string' },
  build: { type: 'string' },
  'key-files': { type: 'string' },
  key: { type: 'string' },
  member: { type: 'string' },
  'cache-dir': { type: 'string' },
  'decode-workers': { type: 'string' },
  verify: { type: 'string' },
  durability: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

const SOURCE_LABELS: SourceLabels = { image: '--image', member: '--member', url: '--url', sha256: '--sha256', build: '--build', keyFiles: '--key-files' };

/**
 * The source the flags choose (see sourceFromChoice).
 */
async function sourceOptions(values: Record<string, unknown>) {
  const text = (name: string) => values[name] as string | undefined;
  const choice = parseSourceChoice(
    { image: text('image'), member: text('member'), url: text('url'), sha256: text('sha256'), build: text('build'), keyFiles: text('key-files') },
    SOURCE_LABELS,
    { defaultImage: defaultImage(), keyFilesCommas: true },
  );
  const source = await sourceFromChoice(choice, {
    workspace: process.cwd(),
    output: process.stderr,
    // stdout is the result (--json): the globber's debug lines go to stderr with BASECOW_DEBUG, else nowhere.
    onGlobDebug: (line) => {
      if (process.env.BASECOW_DEBUG) process.stderr.write(`${line}\n`);
    },
  });
  return {
    source,
    cacheDir: text('cache-dir') ?? defaultCacheDir(),
    key: text('key'),
    member: choice.member,
    maxWorkers: parsePositiveInt(text('decode-workers'), '--decode-workers'),
    verify: parseVerify(text('verify'), '--verify'),
    durability: parseDurability(text('durability'), '--durability'),
  };
}

/**
 * Runs a long command with progress on stderr and SIGINT/SIGTERM turned into a clean abort of the
 * core's work (see interrupt.ts).
 */
async function withProgressAndInterrupts<T>(
  run: (hooks: { onProgress: (p: Progress) => void; signal: AbortSignal; onWarning: (w: Warning) => void }) => Promise<T>,
): Promise<T> {
  const progress = progressReporter(process.stderr);
  const interrupt = interruptOnSignals();
  try {
    return await run({ onProgress: progress.report, signal: interrupt.signal, onWarning: printWarning });
  } catch (error) {
    throw interrupt.explain(error);
  } finally {
    interrupt.dispose();
    progress.end();
  }
}

async function prepare(args: string[]): Promise<number> {
  const { values } = parse(args, SOURCE_OPTIONS);
  const source = await sourceOptions(values);
  const result: BaseResult = await withProgressAndInterrupts((hooks) => ensureBase({ ...source, ...hooks }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(prepareJson(result))}\n`);
  } else {
    process.stdout.write(
      [
        `base:      ${result.base}`,
        `key:       ${result.key}`,
        `cache:     ${result.cacheHit === 'miss' ? `miss (${result.origin} now)` : `hit (${result.cacheHit})`}`,
        `size:      ${formatBytes(result.apparentBytes)} apparent, ${formatBytes(result.allocatedBytes)} allocated`,
        `time:      ${result.seconds.toFixed(3)} s (hash ${result.timings.hashSeconds.toFixed(3)} s${result.keyMemoized ? ', memoized' : ''}, wait ${result.timings.waitSeconds.toFixed(3)} s, ${result.origin === 'downloaded' ? `download ${result.timings.sourceSeconds.toFixed(3)} s, ` : result.origin === 'built' ? `build ${result.timings.sourceSeconds.toFixed(3)} s, ` : ''}extract ${result.timings.extractSeconds.toFixed(3)} s)`,
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
    origin: result.origin,
    apparentBytes: result.apparentBytes,
    allocatedBytes: result.allocatedBytes,
    seconds: result.seconds,
    timings: result.timings,
    keyMemoized: result.keyMemoized,
  };
}

const DEFAULT_WORK_DIR = '.basecow/testnet';

/** The CLI's side of the core's warnings channel: stderr, one line each. */
function printWarning(warning: Warning): void {
  process.stderr.write(`basecow: warning: ${warning.message}\n`);
}

async function upCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...SOURCE_OPTIONS,
    vms: { type: 'string', default: '3' },
    'work-dir': { type: 'string', default: DEFAULT_WORK_DIR },
    group: { type: 'string' },
    template: { type: 'string' },
    'min-size': { type: 'string' },
    'qcow2-options': { type: 'string' },
    recreate: { type: 'boolean', default: false },
    'domain-type': { type: 'string', default: 'auto' },
    network: { type: 'string', default: 'none' },
    memory: { type: 'string' },
    vcpus: { type: 'string' },
    kernel: { type: 'string' },
    initrd: { type: 'string' },
    cmdline: { type: 'string' },
    uefi: { type: 'string' },
    start: { type: 'boolean', default: false },
    connect: { type: 'string' },
  });
  const domainType = parseDomainType(values['domain-type'] as string, '--domain-type');
  const source = await sourceOptions(values);
  const manifest = await withProgressAndInterrupts(async (hooks) => {
    // Loaded here so that `prepare`, whose start-up is on the clock of every cold extraction, does
    // not pay for parsing the testnet modules and mustache.
    const { up } = await import('../core/testnet/up.js');
    return up({
      ...source,
      ...hooks,
      workDir: values['work-dir'] as string,
      vms: parseVmList(values.vms as string, '--vms'),
      group: values.group as string | undefined,
      template: values.template as string | undefined,
      minSizeBytes: values['min-size'] === undefined ? undefined : parseSize(values['min-size'] as string, '--min-size'),
      qcow2Options: values['qcow2-options'] as string | undefined,
      recreate: values.recreate as boolean,
      domainType,
      network: parseNetwork(values.network as string, '--network'),
      memoryMiB: parsePositiveInt(values.memory as string | undefined, '--memory'),
      vcpus: parsePositiveInt(values.vcpus as string | undefined, '--vcpus'),
      kernel: values.kernel as string | undefined,
      initrd: values.initrd as string | undefined,
      cmdline: values.cmdline as string | undefined,
      uefiLoader: values.uefi as string | undefined,
      start: values.start as boolean,
      connect: values.connect as string | undefined,
    });
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `base:      ${manifest.base} (${manifest.cacheHit === 'miss' ? 'extracted now' : `cache hit: ${manifest.cacheHit}`})`,
    `manifest:  ${manifest.workDir}/manifest.json`,
    `domains:   ${manifest.domainType}${values.start ? ', started' : ' (not started; use --start or virsh create <xml>)'}`,
    ...manifest.vms.map((vm) => `  ${vm.name.padEnd(12)} ${vm.mac}  ${vm.overlay}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function downCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    'work-dir': { type: 'string', default: DEFAULT_WORK_DIR },
    connect: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const { down } = await import('../core/testnet/down.js');
  const warnings: string[] = [];
  const result = await withProgressAndInterrupts((hooks) =>
    down({
      workDir: values['work-dir'] as string,
      connect: values.connect as string | undefined,
      signal: hooks.signal,
      onWarning: (warning) => {
        warnings.push(warning.message);
        hooks.onWarning(warning);
      },
    }),
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...result, warnings })}\n`);
  } else {
    process.stdout.write(`${result.workDir}: stopped ${result.destroyed.length} domain(s), removed ${result.removed.length} file(s); the base stays in the store\n`);
  }
  return 0;
}

const STORE_OPTIONS = {
  'cache-dir': { type: 'string' },
  budget: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

function storeOptions(values: Record<string, unknown>) {
  const budget = values.budget as string | undefined;
  return { cacheDir: (values['cache-dir'] as string | undefined) ?? defaultCacheDir(), ...(budget === undefined ? {} : parseBudget(budget, '--budget')) };
}

const day = (iso: string | null): string => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

async function lsCommand(args: string[]): Promise<number> {
  const { values } = parse(args, STORE_OPTIONS);
  const { listStore } = await import('../core/store/gc.js');
  const listing = await listStore(storeOptions(values));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(listing)}\n`);
    return 0;
  }
  const lines = listing.bases.map((b) => {
    const live = b.leases.filter((l) => !l.stale);
    const holders = live.map((l) => l.lease.workDir ?? `pid ${l.lease.pid}`).join(', ');
    return [
      b.key,
      `  ${formatBytes(b.apparentBytes)} apparent, ${formatBytes(b.allocatedBytes)} allocated; created ${day(b.created)}, last used ${day(b.lastUsed)}`,
      `  leases: ${live.length === 0 ? 'none' : `${live.length} (${holders})`}${b.leases.length > live.length ? `, ${b.leases.length - live.length} stale` : ''}`,
    ].join('\n');
  });
  lines.push(
    `total: ${formatBytes(listing.totalBytes)} allocated in ${listing.bases.length} base(s)${listing.quarantineBytes > 0 ? ` (${formatBytes(listing.quarantineBytes)} in quarantine)` : ''}, budget ${formatBytes(listing.budgetBytes)}; filesystem ${formatBytes(listing.filesystem.freeBytes)} free of ${formatBytes(listing.filesystem.sizeBytes)}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function gcCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { ...STORE_OPTIONS, 'max-age': { type: 'string' }, 'dry-run': { type: 'boolean', default: false } });
  const { gc } = await import('../core/store/gc.js');
  const maxAge = values['max-age'] as string | undefined;
  const result = await gc({
    ...storeOptions(values),
    maxAgeMs: maxAge === undefined ? undefined : parseDuration(maxAge, '--max-age'),
    dryRun: values['dry-run'] as boolean,
    onWarning: printWarning,
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  const verb = result.dryRun ? 'would remove' : 'removed';
  const lines = [
    ...result.removed.map((r) => `${verb} ${r.key} (${formatBytes(r.allocatedBytes)}, last used ${day(r.lastUsed)}, ${r.reason})`),
    ...result.kept.map((k) => `kept ${k.key} (${k.reason === 'leased' ? 'leased by a testnet or job' : 'its lock is held'})`),
    `store: ${formatBytes(result.beforeBytes)} -> ${formatBytes(result.afterBytes)}, budget ${formatBytes(result.budgetBytes)}${result.afterBytes > result.budgetBytes ? ' (still over: what is left is in use)' : ''}`,
  ];
  if (!result.dryRun) lines.push(`swept: ${result.swept.leases} stale lease(s), ${result.swept.temps} temp file(s), ${result.swept.locks} lock(s), ${result.swept.quarantined} quarantined base(s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
