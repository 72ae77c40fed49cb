import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/exec/run-tool.ts
import { spawn } from "node:child_process";
var ToolError = class extends Error {
  constructor(command, exitCode, signal, stderr) {
    const status = signal ? `signal ${signal}` : `exit status ${exitCode}`;
    const detail = stderr.trim() ? `: ${stderr.trim()}` : "";
    super(`${command.join(" ")} failed with ${status}${detail}`);
    this.command = command;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderr = stderr;
    this.name = "ToolError";
  }
  command;
  exitCode;
  signal;
  stderr;
};
var MissingToolError = class extends Error {
  constructor(tool, debianPackage) {
    super(`'${tool}' was not found on PATH; install it with: apt-get install -y ${debianPackage}`);
    this.tool = tool;
    this.debianPackage = debianPackage;
    this.name = "MissingToolError";
  }
  tool;
  debianPackage;
};
var PACKAGE_OF = {
  "qemu-img": "qemu-utils",
  virsh: "libvirt-clients",
  "virt-xml-validate": "libxml2-utils",
  tar: "tar",
  zstd: "zstd"
};
function runTool(command, options = {}) {
  const [file, ...args] = command;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env });
    const out = [];
    const err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", (e) => {
      if (e.code === "ENOENT") reject(new MissingToolError(file, PACKAGE_OF[file] ?? file));
      else reject(e);
    });
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) resolve({ stdout, stderr });
      else reject(new ToolError(command, code, signal, stderr));
    });
    child.stdin.on("error", () => void 0);
    child.stdin.end(options.input ?? "");
  });
}

// src/core/libvirt/access-hint.ts
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
async function qemuUser(uid, gid) {
  try {
    const { stdout } = await runTool(["id", "-G", String(uid)]);
    return { uid, groups: [gid, ...stdout.trim().split(/\s+/).map(Number)] };
  } catch {
    return { uid, groups: [gid] };
  }
}
function canSearch(mode, owner, group, user) {
  if (!user) return (mode & 1) !== 0;
  if (user.uid === 0) return true;
  if (owner === user.uid) return (mode & 64) !== 0;
  if (user.groups.includes(group)) return (mode & 8) !== 0;
  return (mode & 1) !== 0;
}
function ancestors(path) {
  const dirs = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) return dirs;
  }
}
async function explainAccessDenied(message) {
  if (!/permission denied/i.test(message)) return void 0;
  const as = /\(as uid:(\d+), gid:(\d+)\)/.exec(message);
  const user = as ? await qemuUser(Number(as[1]), Number(as[2])) : void 0;
  const who = user ? `uid ${user.uid}, the user QEMU runs as,` : "other users, QEMU's user among them,";
  const paths = [...message.matchAll(/'(\/[^']+)'/g)].map((m) => m[1]);
  for (const path of paths) {
    for (const dir of ancestors(path)) {
      let info;
      try {
        info = await stat(dir);
      } catch {
        break;
      }
      if (!canSearch(info.mode, info.uid, info.gid, user)) {
        const mode = (info.mode & 4095).toString(8).padStart(4, "0");
        return `${dir} (mode ${mode}, owner uid ${info.uid}) does not let ${who} reach ${path}. Keep the base store, the work dir and boot files under directories that user can enter (for example /var/tmp/basecow), or let it in: chmod o+x '${dir}'`;
      }
    }
  }
  return void 0;
}

// src/core/libvirt/virsh.ts
var DEFAULT_CONNECT_URI = "qemu:///system";
var LibvirtUnreachableError = class extends Error {
  constructor(uri, detail) {
    super(`cannot reach libvirt at ${uri}: ${detail}; is libvirtd running (systemctl start libvirtd)?`);
    this.uri = uri;
    this.name = "LibvirtUnreachableError";
  }
  uri;
};
var UNREACHABLE = /failed to connect to the hypervisor/i;
var NO_SUCH_DOMAIN = /failed to get domain|Domain not found|domain is not running/i;
async function virsh(uri, args) {
  try {
    return (await runTool(["virsh", "-q", "-c", uri, ...args])).stdout;
  } catch (error) {
    if (error instanceof ToolError && UNREACHABLE.test(error.stderr)) {
      const detail = error.stderr.trim().split("\n").filter(Boolean).at(-1) ?? "connection failed";
      throw new LibvirtUnreachableError(uri, detail.replace(/^error:\s*/, ""));
    }
    throw error;
  }
}
async function createDomain(uri, xmlPath) {
  try {
    await virsh(uri, ["create", xmlPath]);
  } catch (error) {
    const hint = error instanceof ToolError ? await explainAccessDenied(error.stderr) : void 0;
    if (hint) throw new Error(`${error.message.trimEnd()}
${hint}`, { cause: error });
    throw error;
  }
}
async function listDomains(uri, options = {}) {
  const stdout = await virsh(uri, ["list", options.runningOnly ? "--state-running" : "--all", "--name"]);
  return new Set(stdout.split("\n").map((line) => line.trim()).filter(Boolean));
}
async function destroyDomain(uri, domain) {
  try {
    await virsh(uri, ["destroy", domain]);
    return true;
  } catch (error) {
    if (error instanceof ToolError && NO_SUCH_DOMAIN.test(error.stderr)) return false;
    throw error;
  }
}

// src/core/shared/map-limited.ts
async function mapLimited(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  let failed = false;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  const settled = await Promise.allSettled(workers);
  const failure = settled.find((outcome) => outcome.status === "rejected");
  if (failure) throw failure.reason;
  return results;
}

export {
  MissingToolError,
  runTool,
  DEFAULT_CONNECT_URI,
  LibvirtUnreachableError,
  createDomain,
  listDomains,
  destroyDomain,
  mapLimited
};
