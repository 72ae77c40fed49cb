import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  mapLimited,
  runTool
} from "./chunk-JS24X5YJ.js";
import {
  pathExists
} from "./chunk-PP3B4BCK.js";
import {
  BasecowError,
  UsageError,
  errnoCode
} from "./chunk-BHNCOJM6.js";

// src/core/testnet/overlay.ts
import { constants } from "node:fs";
import { access, chmod, copyFile, mkdir, rm, stat } from "node:fs/promises";
import { dirname, isAbsolute } from "node:path";

// src/core/exec/qemu-img.ts
async function imageInfo(path, format) {
  const args = ["qemu-img", "info", "--output=json", "-U"];
  if (format) args.push("-f", format);
  const { stdout } = await runTool([...args, path]);
  return JSON.parse(stdout);
}
async function createOverlayImage(path, params) {
  const args = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", params.base];
  if (params.options) args.push("-o", params.options);
  args.push(path);
  if (params.sizeBytes !== void 0) args.push(String(params.sizeBytes));
  await runTool(args);
}

// src/core/testnet/overlay.ts
var DEFAULT_QCOW2_OPTIONS = "extended_l2=on,cluster_size=128k,lazy_refcounts=on";
var OverlayError = class extends BasecowError {
  constructor(path, reason, code = "base-unusable") {
    super(code, `${path}: ${reason}`, { path });
    this.path = path;
    this.name = "OverlayError";
  }
  path;
};
async function createOverlays(spec) {
  const baseSize = await checkBase(spec.base);
  const virtualSize = Math.max(baseSize, spec.minSizeBytes ?? 0);
  const sizeBytes = virtualSize > baseSize ? virtualSize : void 0;
  const options = spec.qcow2Options ?? DEFAULT_QCOW2_OPTIONS;
  const results = new Array(spec.overlays.length);
  const toCreate = [];
  await mapLimited(spec.overlays, 8, async ({ path }, index) => {
    const present = await pathExists(path);
    if (present && !spec.recreate) {
      results[index] = { path, status: "reused", virtualSize: await checkReusable(path, spec.base, virtualSize) };
      return;
    }
    if (present) await rm(path, { force: true });
    toCreate.push(path);
    results[index] = { path, status: "created", virtualSize };
  });
  if (toCreate.length > 0) {
    await Promise.all(toCreate.map((path) => mkdir(dirname(path), { recursive: true })));
    const [first, ...rest] = toCreate;
    await createOverlayImage(first, { base: spec.base, sizeBytes, options });
    await chmod(first, 384);
    await Promise.all(
      rest.map(async (path) => {
        await copyFile(first, path, constants.COPYFILE_EXCL);
        await chmod(path, 384);
      })
    );
  }
  return results;
}
async function checkBase(base) {
  if (!isAbsolute(base)) throw new UsageError(`base path must be absolute, got ${JSON.stringify(base)}: overlays record it`, "bad-base-path", { base });
  try {
    await access(base, constants.R_OK);
  } catch (error) {
    const why = errnoCode(error) === "ENOENT" ? "does not exist" : `is not readable (${errnoCode(error)})`;
    throw new OverlayError(base, `base image ${why}`);
  }
  const info = await imageInfo(base);
  if (info["backing-filename"]) {
    throw new OverlayError(base, `base image has its own backing file ${info["backing-filename"]}; a base must be a standalone raw image`);
  }
  if (info.format !== "raw" && info.format !== "luks") throw new OverlayError(base, `base image is ${info.format}, expected raw`);
  return (await stat(base)).size;
}
async function checkReusable(path, base, wantedSize) {
  const info = await imageInfo(path);
  const backing = info["full-backing-filename"] ?? info["backing-filename"];
  if (info.format !== "qcow2") {
    throw new OverlayError(path, `existing overlay is ${info.format}, not qcow2`, "overlay-not-reusable");
  }
  if (backing !== base) {
    throw new OverlayError(path, `existing overlay is backed by ${backing ?? "nothing"}, not by ${base}`, "overlay-not-reusable");
  }
  if (info["backing-filename-format"] !== "raw") {
    throw new OverlayError(path, `existing overlay declares backing format ${info["backing-filename-format"] ?? "none"}, not raw`, "overlay-not-reusable");
  }
  if (info["virtual-size"] < wantedSize) {
    throw new OverlayError(path, `existing overlay is ${info["virtual-size"]} bytes, smaller than the requested ${wantedSize}`, "overlay-not-reusable");
  }
  return info["virtual-size"];
}

export {
  DEFAULT_QCOW2_OPTIONS,
  createOverlays
};
