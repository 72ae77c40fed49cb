import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  DEFAULT_QCOW2_OPTIONS
} from "./chunk-45OGXQO5.js";
import {
  DEFAULT_CONNECT_URI
} from "./chunk-JS24X5YJ.js";
import {
  formatBytes,
  parseBudget,
  parseDomainType,
  parseDurability,
  parseDuration,
  parseNetwork,
  parsePositiveInt,
  parseSize,
  parseSourceChoice,
  parseVerify,
  parseVmList,
  progressReporter,
  sourceFromChoice
} from "./chunk-OFAZTKQF.js";
import {
  ensureBase
} from "./chunk-GDZQCCCP.js";
import "./chunk-LFCMNEXX.js";
import "./chunk-I4Z6R4ME.js";
import {
  packageRoot
} from "./chunk-4F4VMEEG.js";
import "./chunk-2TMYUB3Y.js";
import "./chunk-3HNSYQ66.js";
import "./chunk-KZYD2Y56.js";
import "./chunk-ZBR2KLNB.js";
import "./chunk-PP3B4BCK.js";
import {
  defaultCacheDir
} from "./chunk-CP6IPV72.js";
import "./chunk-KFPWZJBU.js";
import {
  BasecowError,
  UsageError
} from "./chunk-BHNCOJM6.js";
import "./chunk-SPWXLHYK.js";
import "./chunk-PIREU76B.js";
import "./chunk-WB6ZLOID.js";
import "./chunk-XJ5TQIRZ.js";
import "./chunk-NCNTTV4Q.js";

// src/cli/main.ts
import { parseArgs } from "node:util";

// src/cli/default-image.ts
import { join } from "node:path";
function defaultImage() {
  return join(packageRoot(), "images", "demo.img.zst");
}

// src/cli/hints.ts
function hintFor(error) {
  switch (error.code) {
    case "overlay-not-reusable":
      return "run up with --recreate to replace it (what the VM wrote is lost), or down first";
    case "would-orphan":
      return `run \`basecow down --work-dir ${error.facts.workDir}\` first`;
    case "overlay-base-gone":
    case "overlay-base-changed":
      return `run \`basecow down --work-dir ${error.facts.workDir}\` and up again, or up with --recreate (what the VMs wrote is lost)`;
    case "no-space":
      return "free space on that filesystem (`basecow ls` shows what the store holds; leased bases stay), or use another --cache-dir";
    case "store-unsafe":
      return "use another --cache-dir";
    case "work-dir-busy":
      return "wait for that process, or give this testnet its own --work-dir";
    default:
      return void 0;
  }
}

// src/cli/interrupt.ts
import { constants } from "node:os";
var InterruptedError = class extends Error {
  constructor(signal) {
    super(`interrupted by ${signal}`);
    this.signal = signal;
    this.name = "InterruptedError";
  }
  signal;
  get exitCode() {
    return 128 + constants.signals[this.signal];
  }
};
function interruptOnSignals() {
  const controller = new AbortController();
  const handler = (name) => {
    if (controller.signal.aborted) process.exit(128 + constants.signals[name]);
    controller.abort(new InterruptedError(name));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    // A terminal's Ctrl-C reaches the children too (qemu-img, virsh), whose failure then surfaces
    // first: once we were interrupted, that is the story.
    explain: (error) => controller.signal.aborted ? controller.signal.reason : error,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    }
  };
}

// src/cli/main.ts
var USAGE = `usage: basecow <command> [options]

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
async function main(argv) {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "prepare":
        return await prepare(rest);
      case "up":
        return await upCommand(rest);
      case "down":
        return await downCommand(rest);
      case "ls":
        return await lsCommand(rest);
      case "gc":
        return await gcCommand(rest);
      case void 0:
      case "-h":
      case "--help":
      case "help":
        process.stdout.write(`${USAGE}
`);
        return command === void 0 ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof InterruptedError) {
      process.stderr.write(`basecow: ${error.message}; stopped without leaving anything half-written
`);
      return error.exitCode;
    }
    const hint = error instanceof BasecowError ? hintFor(error) : void 0;
    const message = hint ? `${error.message}; ${hint}` : error.message;
    if (error instanceof UsageError) {
      process.stderr.write(`basecow: ${message}
${error.code === "bad-input" ? `
${USAGE}
` : ""}`);
      return 2;
    }
    process.stderr.write(`basecow: error: ${message}
`);
    if (process.env.BASECOW_DEBUG) process.stderr.write(`${error.stack}
`);
    return 1;
  }
}
function parse(args, options) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError(error.message);
  }
}
var SOURCE_OPTIONS = {
  image: { type: "string" },
  url: { type: "string" },
  sha256: { type: "string" },
  build: { type: "string" },
  "key-files": { type: "string" },
  key: { type: "string" },
  member: { type: "string" },
  "cache-dir": { type: "string" },
  "decode-workers": { type: "string" },
  verify: { type: "string" },
  durability: { type: "string" },
  json: { type: "boolean", default: false }
};
var SOURCE_LABELS = { image: "--image", member: "--member", url: "--url", sha256: "--sha256", build: "--build", keyFiles: "--key-files" };
async function sourceOptions(values) {
  const text = (name) => values[name];
  const choice = parseSourceChoice(
    { image: text("image"), member: text("member"), url: text("url"), sha256: text("sha256"), build: text("build"), keyFiles: text("key-files") },
    SOURCE_LABELS,
    { defaultImage: defaultImage(), keyFilesCommas: true }
  );
  const source = await sourceFromChoice(choice, {
    workspace: process.cwd(),
    output: process.stderr,
    // stdout is the result (--json): the globber's debug lines go to stderr with BASECOW_DEBUG, else nowhere.
    onGlobDebug: (line) => {
      if (process.env.BASECOW_DEBUG) process.stderr.write(`${line}
`);
    }
  });
  return {
    source,
    cacheDir: text("cache-dir") ?? defaultCacheDir(),
    key: text("key"),
    member: choice.member,
    maxWorkers: parsePositiveInt(text("decode-workers"), "--decode-workers"),
    verify: parseVerify(text("verify"), "--verify"),
    durability: parseDurability(text("durability"), "--durability")
  };
}
async function withProgressAndInterrupts(run) {
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
async function prepare(args) {
  const { values } = parse(args, SOURCE_OPTIONS);
  const source = await sourceOptions(values);
  const result = await withProgressAndInterrupts((hooks) => ensureBase({ ...source, ...hooks }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(prepareJson(result))}
`);
  } else {
    process.stdout.write(
      [
        `base:      ${result.base}`,
        `key:       ${result.key}`,
        `cache:     ${result.cacheHit === "miss" ? `miss (${result.origin} now)` : `hit (${result.cacheHit})`}`,
        `size:      ${formatBytes(result.apparentBytes)} apparent, ${formatBytes(result.allocatedBytes)} allocated`,
        `time:      ${result.seconds.toFixed(3)} s (hash ${result.timings.hashSeconds.toFixed(3)} s${result.keyMemoized ? ", memoized" : ""}, wait ${result.timings.waitSeconds.toFixed(3)} s, ${result.origin === "downloaded" ? `download ${result.timings.sourceSeconds.toFixed(3)} s, ` : result.origin === "built" ? `build ${result.timings.sourceSeconds.toFixed(3)} s, ` : ""}extract ${result.timings.extractSeconds.toFixed(3)} s)`
      ].join("\n") + "\n"
    );
  }
  return 0;
}
function prepareJson(result) {
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
    keyMemoized: result.keyMemoized
  };
}
var DEFAULT_WORK_DIR = ".basecow/testnet";
function printWarning(warning) {
  process.stderr.write(`basecow: warning: ${warning.message}
`);
}
async function upCommand(args) {
  const { values } = parse(args, {
    ...SOURCE_OPTIONS,
    vms: { type: "string", default: "3" },
    "work-dir": { type: "string", default: DEFAULT_WORK_DIR },
    group: { type: "string" },
    template: { type: "string" },
    "min-size": { type: "string" },
    "qcow2-options": { type: "string" },
    recreate: { type: "boolean", default: false },
    "domain-type": { type: "string", default: "auto" },
    network: { type: "string", default: "none" },
    memory: { type: "string" },
    vcpus: { type: "string" },
    kernel: { type: "string" },
    initrd: { type: "string" },
    cmdline: { type: "string" },
    uefi: { type: "string" },
    start: { type: "boolean", default: false },
    connect: { type: "string" }
  });
  const domainType = parseDomainType(values["domain-type"], "--domain-type");
  const source = await sourceOptions(values);
  const manifest = await withProgressAndInterrupts(async (hooks) => {
    const { up } = await import("./up-KGMLAONZ.js");
    return up({
      ...source,
      ...hooks,
      workDir: values["work-dir"],
      vms: parseVmList(values.vms, "--vms"),
      group: values.group,
      template: values.template,
      minSizeBytes: values["min-size"] === void 0 ? void 0 : parseSize(values["min-size"], "--min-size"),
      qcow2Options: values["qcow2-options"],
      recreate: values.recreate,
      domainType,
      network: parseNetwork(values.network, "--network"),
      memoryMiB: parsePositiveInt(values.memory, "--memory"),
      vcpus: parsePositiveInt(values.vcpus, "--vcpus"),
      kernel: values.kernel,
      initrd: values.initrd,
      cmdline: values.cmdline,
      uefiLoader: values.uefi,
      start: values.start,
      connect: values.connect
    });
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(manifest, null, 2)}
`);
    return 0;
  }
  const lines = [
    `base:      ${manifest.base} (${manifest.cacheHit === "miss" ? "extracted now" : `cache hit: ${manifest.cacheHit}`})`,
    `manifest:  ${manifest.workDir}/manifest.json`,
    `domains:   ${manifest.domainType}${values.start ? ", started" : " (not started; use --start or virsh create <xml>)"}`,
    ...manifest.vms.map((vm) => `  ${vm.name.padEnd(12)} ${vm.mac}  ${vm.overlay}`)
  ];
  process.stdout.write(`${lines.join("\n")}
`);
  return 0;
}
async function downCommand(args) {
  const { values } = parse(args, {
    "work-dir": { type: "string", default: DEFAULT_WORK_DIR },
    connect: { type: "string" },
    json: { type: "boolean", default: false }
  });
  const { down } = await import("./down-MKJ3GYUJ.js");
  const warnings = [];
  const result = await withProgressAndInterrupts(
    (hooks) => down({
      workDir: values["work-dir"],
      connect: values.connect,
      signal: hooks.signal,
      onWarning: (warning) => {
        warnings.push(warning.message);
        hooks.onWarning(warning);
      }
    })
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...result, warnings })}
`);
  } else {
    process.stdout.write(`${result.workDir}: stopped ${result.destroyed.length} domain(s), removed ${result.removed.length} file(s); the base stays in the store
`);
  }
  return 0;
}
var STORE_OPTIONS = {
  "cache-dir": { type: "string" },
  budget: { type: "string" },
  json: { type: "boolean", default: false }
};
function storeOptions(values) {
  const budget = values.budget;
  return { cacheDir: values["cache-dir"] ?? defaultCacheDir(), ...budget === void 0 ? {} : parseBudget(budget, "--budget") };
}
var day = (iso) => iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-";
async function lsCommand(args) {
  const { values } = parse(args, STORE_OPTIONS);
  const { listStore } = await import("./gc-H7X55XUN.js");
  const listing = await listStore(storeOptions(values));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(listing)}
`);
    return 0;
  }
  const lines = listing.bases.map((b) => {
    const live = b.leases.filter((l) => !l.stale);
    const holders = live.map((l) => l.lease.workDir ?? `pid ${l.lease.pid}`).join(", ");
    return [
      b.key,
      `  ${formatBytes(b.apparentBytes)} apparent, ${formatBytes(b.allocatedBytes)} allocated; created ${day(b.created)}, last used ${day(b.lastUsed)}`,
      `  leases: ${live.length === 0 ? "none" : `${live.length} (${holders})`}${b.leases.length > live.length ? `, ${b.leases.length - live.length} stale` : ""}`
    ].join("\n");
  });
  lines.push(
    `total: ${formatBytes(listing.totalBytes)} allocated in ${listing.bases.length} base(s)${listing.quarantineBytes > 0 ? ` (${formatBytes(listing.quarantineBytes)} in quarantine)` : ""}, budget ${formatBytes(listing.budgetBytes)}; filesystem ${formatBytes(listing.filesystem.freeBytes)} free of ${formatBytes(listing.filesystem.sizeBytes)}`
  );
  process.stdout.write(`${lines.join("\n")}
`);
  return 0;
}
async function gcCommand(args) {
  const { values } = parse(args, { ...STORE_OPTIONS, "max-age": { type: "string" }, "dry-run": { type: "boolean", default: false } });
  const { gc } = await import("./gc-H7X55XUN.js");
  const maxAge = values["max-age"];
  const result = await gc({
    ...storeOptions(values),
    maxAgeMs: maxAge === void 0 ? void 0 : parseDuration(maxAge, "--max-age"),
    dryRun: values["dry-run"],
    onWarning: printWarning
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}
`);
    return 0;
  }
  const verb = result.dryRun ? "would remove" : "removed";
  const lines = [
    ...result.removed.map((r) => `${verb} ${r.key} (${formatBytes(r.allocatedBytes)}, last used ${day(r.lastUsed)}, ${r.reason})`),
    ...result.kept.map((k) => `kept ${k.key} (${k.reason === "leased" ? "leased by a testnet or job" : "its lock is held"})`),
    `store: ${formatBytes(result.beforeBytes)} -> ${formatBytes(result.afterBytes)}, budget ${formatBytes(result.budgetBytes)}${result.afterBytes > result.budgetBytes ? " (still over: what is left is in use)" : ""}`
  ];
  if (!result.dryRun) lines.push(`swept: ${result.swept.leases} stale lease(s), ${result.swept.temps} temp file(s), ${result.swept.locks} lock(s), ${result.swept.quarantined} quarantined base(s)`);
  process.stdout.write(`${lines.join("\n")}
`);
  return 0;
}
export {
  main
};
