import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  create,
  exec
} from "./chunk-NWON5JDP.js";
import "./chunk-6CTZAA2R.js";
import {
  sourceKey
} from "./chunk-2TMYUB3Y.js";
import "./chunk-PP3B4BCK.js";
import {
  tempPrefix
} from "./chunk-CP6IPV72.js";
import {
  SourceError,
  UsageError
} from "./chunk-BHNCOJM6.js";
import "./chunk-NCNTTV4Q.js";

// src/sources/build.ts
import { randomBytes } from "node:crypto";
import { readFile, rm, stat as stat2 } from "node:fs/promises";
import { join, resolve as resolve2 } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

// src/sources/key-files.ts
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";
var KEY_FORMAT = "basecow build key v1";
function serializeBuildKey(command, files) {
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return [KEY_FORMAT, `command ${JSON.stringify(command)}`, ...sorted.map((f) => `file ${f.sha256} ${JSON.stringify(f.path)}`)].join("\n") + "\n";
}
var diverted = 0;
var divertTo;
var stdoutWrite;
async function withGlobDebug(sink, run2) {
  if (!sink) return run2();
  divertTo = sink;
  if (diverted++ === 0) {
    const original = process.stdout.write;
    stdoutWrite = original;
    process.stdout.write = function(chunk, ...rest) {
      if (typeof chunk === "string" && chunk.startsWith("::debug::")) {
        divertTo?.(chunk.trimEnd());
        const callback = rest.find((x) => typeof x === "function");
        callback?.();
        return true;
      }
      return original.call(this, chunk, ...rest);
    };
  }
  try {
    return await run2();
  } finally {
    if (--diverted === 0 && stdoutWrite) {
      process.stdout.write = stdoutWrite;
      stdoutWrite = void 0;
      divertTo = void 0;
    }
  }
}
function globEscape(path) {
  return path.replace(/\\/g, "\\\\").replace(/(\[)(?=[^/]+\])/g, "[[]").replace(/\?/g, "[?]").replace(/\*/g, "[*]");
}
function rootPattern(line, workspace) {
  const negation = /^!*/.exec(line)?.[0] ?? "";
  const body = line.slice(negation.length);
  if (body.startsWith("/") || body.startsWith("~")) return line;
  const segments = body.split("/");
  let base = workspace;
  while (segments.length > 0 && (segments[0] === "." || segments[0] === ".." || segments[0] === "")) {
    base = resolve(base, segments.shift());
  }
  const rest = segments.join("/");
  return `${negation}${globEscape(base)}${rest === "" ? "" : `/${rest}`}`;
}
async function buildKey(options) {
  const workspace = resolve(options.workspace);
  const lines = options.patterns.map((p) => p.trim()).filter((p) => p !== "" && !p.startsWith("#"));
  if (lines.length === 0) throw new UsageError("key-files: no glob given", "no-key-files", { workspace });
  const matched = await withGlobDebug(options.onGlobDebug, async () => {
    const globber = await create(lines.map((line) => rootPattern(line, workspace)).join("\n"), {
      followSymbolicLinks: true,
      implicitDescendants: true,
      matchDirectories: false
    });
    return globber.glob();
  });
  const files = [];
  let memoized = true;
  for (const path of matched) {
    options.signal?.throwIfAborted();
    if (!path.startsWith(`${workspace}${sep}`)) continue;
    const info = await stat(path, { bigint: true }).catch((error) => {
      throw new SourceError(path, `cannot read this key file: ${error.message}`, { cause: error });
    });
    if (!info.isFile()) continue;
    const digest = await sourceKey(path, info, options.digestsDir, { signal: options.signal, onWarning: options.onWarning });
    memoized &&= digest.memoized;
    files.push({ path: relative(workspace, path).split(sep).join("/"), sha256: digest.key.slice("sha256-".length) });
  }
  if (files.length === 0) {
    throw new UsageError(
      `the key-files globs matched no file under ${workspace}: ${lines.map((l) => JSON.stringify(l)).join(", ")}`,
      "no-key-files",
      { workspace, globs: lines.join("\n") }
    );
  }
  const key = `sha256-${createHash("sha256").update(serializeBuildKey(options.command, files)).digest("hex")}`;
  return { key, files, memoized };
}

// src/sources/build.ts
var STDERR_TAIL_LINES = 20;
var STDERR_TAIL_BYTES = 8192;
var WRAPPER = 'printf "%s" "$$" > "$1" || exit 125; exec bash -e -o pipefail -c "$2" < /dev/null';
function describeCommand(command) {
  const line = command.trim().replace(/\s*\n\s*/g, "; ");
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
function buildSource(options) {
  const command = options.command;
  if (command.trim() === "") throw new UsageError("the build command is empty", "bad-build");
  const workspace = resolve2(options.workspace);
  const label = `build command '${describeCommand(command)}'`;
  let keyed;
  return {
    label,
    async key(context) {
      const found = await buildKey({ command, patterns: options.keyFiles, workspace, digestsDir: context.digestsDir, signal: context.signal, onWarning: context.onWarning, onGlobDebug: options.onGlobDebug });
      keyed = found.key;
      return { key: found.key, memoized: found.memoized };
    },
    async materialize(context) {
      const output = join(context.tmpDir, `${tempPrefix(keyed ?? "build")}${process.pid}-${randomBytes(4).toString("hex")}`);
      try {
        await run(command, label, workspace, output, options, context);
        const info = await stat2(output).catch(() => void 0);
        if (!info?.isFile() || info.size === 0) {
          throw new SourceError(label, `exited with status 0 but ${info ? info.isFile() ? "wrote an empty file to" : "made something other than a file at" : "wrote nothing to"} $BASECOW_OUTPUT (${output}); nothing was kept`);
        }
        return {
          path: output,
          origin: "built",
          dispose: () => rm(output, { force: true }),
          record: { path: command, kind: "build", digest: null, bytes: info.size }
        };
      } catch (error) {
        await rm(output, { recursive: true, force: true });
        if (context.signal?.aborted) throw context.signal.reason;
        throw error;
      }
    }
  };
}
async function run(command, label, workspace, output, options, context) {
  const { signal } = context;
  signal?.throwIfAborted();
  const sink = options.output ?? process.stderr;
  const groupFile = `${output}.pgid`;
  const env = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== void 0) env[name] = value;
  env.BASECOW_OUTPUT = output;
  let tail = Buffer.alloc(0);
  let produced = 0;
  const started = performance.now();
  sink.write(`basecow: building the base: ${describeCommand(command)}
`);
  const report = setInterval(() => {
    void stat2(output).then(
      (info) => {
        produced = info.size;
        context.onProgress?.({ phase: "build", done: produced, total: 0 });
      },
      () => void 0
    );
  }, 1e3);
  let finished = false;
  const running = exec("setsid", ["--wait", "bash", "-c", WRAPPER, "basecow-build", groupFile, command], {
    cwd: workspace,
    env,
    silent: true,
    ignoreReturnCode: true,
    listeners: {
      stdout: (data) => sink.write(data),
      stderr: (data) => {
        sink.write(data);
        tail = Buffer.concat([tail, data]).subarray(-STDERR_TAIL_BYTES);
      }
    }
  }).finally(() => {
    finished = true;
  });
  const onAbort = () => void stopGroup(groupFile, () => finished, options.killGraceMs ?? 5e3);
  signal?.addEventListener("abort", onAbort, { once: true });
  let status;
  try {
    status = await running;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new SourceError(label, `could not be started: ${error.message}`, { cause: error });
  } finally {
    clearInterval(report);
    signal?.removeEventListener("abort", onAbort);
    await rm(groupFile, { force: true });
  }
  if (signal?.aborted) throw signal.reason;
  if (status !== 0) {
    const lines = tail.toString("utf8").trimEnd().split("\n").slice(-STDERR_TAIL_LINES);
    const stderr = lines.join("\n").trim() === "" ? " (its stderr was empty)" : `; the end of its stderr:
${lines.join("\n")}`;
    const how = status === null ? "was killed by a signal" : `failed with exit status ${status}`;
    throw new SourceError(label, `${how} after ${((performance.now() - started) / 1e3).toFixed(1)} s; nothing was kept${stderr}`);
  }
}
async function stopGroup(groupFile, finished, graceMs) {
  let group;
  while (!finished()) {
    const text = await readFile(groupFile, "utf8").catch(() => "");
    if (/^\d+$/.test(text) && Number(text) > 1) {
      group = Number(text);
      break;
    }
    await sleep(20);
  }
  if (group === void 0) return;
  const kill = (sig) => {
    try {
      process.kill(-group, sig);
    } catch {
    }
  };
  kill("SIGTERM");
  const deadline = performance.now() + graceMs;
  while (!finished() && performance.now() < deadline) await sleep(50);
  kill("SIGKILL");
}
export {
  buildSource
};
