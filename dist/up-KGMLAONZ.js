import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);
import {
  defaultGroup,
  planTestnet,
  prepareExtraDisks,
  sanitizeVmNames,
  validateGroup,
  withWorkDirLock
} from "./chunk-NTIW333S.js";
import {
  createOverlays
} from "./chunk-45OGXQO5.js";
import {
  DEFAULT_CONNECT_URI,
  createDomain,
  listDomains,
  mapLimited
} from "./chunk-JS24X5YJ.js";
import {
  ensureBase
} from "./chunk-GDZQCCCP.js";
import "./chunk-LFCMNEXX.js";
import {
  readSidecar
} from "./chunk-I4Z6R4ME.js";
import {
  packageRoot
} from "./chunk-4F4VMEEG.js";
import "./chunk-2TMYUB3Y.js";
import "./chunk-3HNSYQ66.js";
import "./chunk-KZYD2Y56.js";
import {
  manifestPath,
  readManifest,
  releaseLease,
  releaseWorkDirLeases,
  wasStarted,
  writeManifest
} from "./chunk-ZBR2KLNB.js";
import {
  pathExists
} from "./chunk-PP3B4BCK.js";
import {
  storeLayout
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

// src/core/testnet/up.ts
import { open, writeFile } from "node:fs/promises";
import { resolve } from "node:path";

// src/core/libvirt/domain-type.ts
import { constants } from "node:fs";
import { access } from "node:fs/promises";
async function resolveDomainType(requested = "auto") {
  if (requested !== "auto") return requested;
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
    return "kvm";
  } catch {
    return "qemu";
  }
}

// src/core/libvirt/domain-xml.ts
import { readFile } from "node:fs/promises";
import { join } from "node:path";

// node_modules/mustache/mustache.mjs
var objectToString = Object.prototype.toString;
var isArray = Array.isArray || function isArrayPolyfill(object) {
  return objectToString.call(object) === "[object Array]";
};
function isFunction(object) {
  return typeof object === "function";
}
function typeStr(obj) {
  return isArray(obj) ? "array" : typeof obj;
}
function escapeRegExp(string) {
  return string.replace(/[\-\[\]{}()*+?.,\\\^$|#\s]/g, "\\$&");
}
function hasProperty(obj, propName) {
  return obj != null && typeof obj === "object" && propName in obj;
}
function primitiveHasOwnProperty(primitive, propName) {
  return primitive != null && typeof primitive !== "object" && primitive.hasOwnProperty && primitive.hasOwnProperty(propName);
}
var regExpTest = RegExp.prototype.test;
function testRegExp(re, string) {
  return regExpTest.call(re, string);
}
var nonSpaceRe = /\S/;
function isWhitespace(string) {
  return !testRegExp(nonSpaceRe, string);
}
var entityMap = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "/": "&#x2F;",
  "`": "&#x60;",
  "=": "&#x3D;"
};
function escapeHtml(string) {
  return String(string).replace(/[&<>"'`=\/]/g, function fromEntityMap(s) {
    return entityMap[s];
  });
}
var whiteRe = /\s*/;
var spaceRe = /\s+/;
var equalsRe = /\s*=/;
var curlyRe = /\s*\}/;
var tagRe = /#|\^|\/|>|\{|&|=|!/;
function parseTemplate(template, tags) {
  if (!template)
    return [];
  var lineHasNonSpace = false;
  var sections = [];
  var tokens = [];
  var spaces = [];
  var hasTag = false;
  var nonSpace = false;
  var indentation = "";
  var tagIndex = 0;
  function stripSpace() {
    if (hasTag && !nonSpace) {
      while (spaces.length)
        delete tokens[spaces.pop()];
    } else {
      spaces = [];
    }
    hasTag = false;
    nonSpace = false;
  }
  var openingTagRe, closingTagRe, closingCurlyRe;
  function compileTags(tagsToCompile) {
    if (typeof tagsToCompile === "string")
      tagsToCompile = tagsToCompile.split(spaceRe, 2);
    if (!isArray(tagsToCompile) || tagsToCompile.length !== 2)
      throw new Error("Invalid tags: " + tagsToCompile);
    openingTagRe = new RegExp(escapeRegExp(tagsToCompile[0]) + "\\s*");
    closingTagRe = new RegExp("\\s*" + escapeRegExp(tagsToCompile[1]));
    closingCurlyRe = new RegExp("\\s*" + escapeRegExp("}" + tagsToCompile[1]));
  }
  compileTags(tags || mustache.tags);
  var scanner = new Scanner(template);
  var start, type, value, chr, token, openSection;
  while (!scanner.eos()) {
    start = scanner.pos;
    value = scanner.scanUntil(openingTagRe);
    if (value) {
      for (var i = 0, valueLength = value.length; i < valueLength; ++i) {
        chr = value.charAt(i);
        if (isWhitespace(chr)) {
          spaces.push(tokens.length);
          indentation += chr;
        } else {
          nonSpace = true;
          lineHasNonSpace = true;
          indentation += " ";
        }
        tokens.push(["text", chr, start, start + 1]);
        start += 1;
        if (chr === "\n") {
          stripSpace();
          indentation = "";
          tagIndex = 0;
          lineHasNonSpace = false;
        }
      }
    }
    if (!scanner.scan(openingTagRe))
      break;
    hasTag = true;
    type = scanner.scan(tagRe) || "name";
    scanner.scan(whiteRe);
    if (type === "=") {
      value = scanner.scanUntil(equalsRe);
      scanner.scan(equalsRe);
      scanner.scanUntil(closingTagRe);
    } else if (type === "{") {
      value = scanner.scanUntil(closingCurlyRe);
      scanner.scan(curlyRe);
      scanner.scanUntil(closingTagRe);
      type = "&";
    } else {
      value = scanner.scanUntil(closingTagRe);
    }
    if (!scanner.scan(closingTagRe))
      throw new Error("Unclosed tag at " + scanner.pos);
    if (type == ">") {
      token = [type, value, start, scanner.pos, indentation, tagIndex, lineHasNonSpace];
    } else {
      token = [type, value, start, scanner.pos];
    }
    tagIndex++;
    tokens.push(token);
    if (type === "#" || type === "^") {
      sections.push(token);
    } else if (type === "/") {
      openSection = sections.pop();
      if (!openSection)
        throw new Error('Unopened section "' + value + '" at ' + start);
      if (openSection[1] !== value)
        throw new Error('Unclosed section "' + openSection[1] + '" at ' + start);
    } else if (type === "name" || type === "{" || type === "&") {
      nonSpace = true;
    } else if (type === "=") {
      compileTags(value);
    }
  }
  stripSpace();
  openSection = sections.pop();
  if (openSection)
    throw new Error('Unclosed section "' + openSection[1] + '" at ' + scanner.pos);
  return nestTokens(squashTokens(tokens));
}
function squashTokens(tokens) {
  var squashedTokens = [];
  var token, lastToken;
  for (var i = 0, numTokens = tokens.length; i < numTokens; ++i) {
    token = tokens[i];
    if (token) {
      if (token[0] === "text" && lastToken && lastToken[0] === "text") {
        lastToken[1] += token[1];
        lastToken[3] = token[3];
      } else {
        squashedTokens.push(token);
        lastToken = token;
      }
    }
  }
  return squashedTokens;
}
function nestTokens(tokens) {
  var nestedTokens = [];
  var collector = nestedTokens;
  var sections = [];
  var token, section;
  for (var i = 0, numTokens = tokens.length; i < numTokens; ++i) {
    token = tokens[i];
    switch (token[0]) {
      case "#":
      case "^":
        collector.push(token);
        sections.push(token);
        collector = token[4] = [];
        break;
      case "/":
        section = sections.pop();
        section[5] = token[2];
        collector = sections.length > 0 ? sections[sections.length - 1][4] : nestedTokens;
        break;
      default:
        collector.push(token);
    }
  }
  return nestedTokens;
}
function Scanner(string) {
  this.string = string;
  this.tail = string;
  this.pos = 0;
}
Scanner.prototype.eos = function eos() {
  return this.tail === "";
};
Scanner.prototype.scan = function scan(re) {
  var match = this.tail.match(re);
  if (!match || match.index !== 0)
    return "";
  var string = match[0];
  this.tail = this.tail.substring(string.length);
  this.pos += string.length;
  return string;
};
Scanner.prototype.scanUntil = function scanUntil(re) {
  var index = this.tail.search(re), match;
  switch (index) {
    case -1:
      match = this.tail;
      this.tail = "";
      break;
    case 0:
      match = "";
      break;
    default:
      match = this.tail.substring(0, index);
      this.tail = this.tail.substring(index);
  }
  this.pos += match.length;
  return match;
};
function Context(view, parentContext) {
  this.view = view;
  this.cache = { ".": this.view };
  this.parent = parentContext;
}
Context.prototype.push = function push(view) {
  return new Context(view, this);
};
Context.prototype.lookup = function lookup(name) {
  var cache = this.cache;
  var value;
  if (cache.hasOwnProperty(name)) {
    value = cache[name];
  } else {
    var context = this, intermediateValue, names, index, lookupHit = false;
    while (context) {
      if (name.indexOf(".") > 0) {
        intermediateValue = context.view;
        names = name.split(".");
        index = 0;
        while (intermediateValue != null && index < names.length) {
          if (index === names.length - 1)
            lookupHit = hasProperty(intermediateValue, names[index]) || primitiveHasOwnProperty(intermediateValue, names[index]);
          intermediateValue = intermediateValue[names[index++]];
        }
      } else {
        intermediateValue = context.view[name];
        lookupHit = hasProperty(context.view, name);
      }
      if (lookupHit) {
        value = intermediateValue;
        break;
      }
      context = context.parent;
    }
    cache[name] = value;
  }
  if (isFunction(value))
    value = value.call(this.view);
  return value;
};
function Writer() {
  this.templateCache = {
    _cache: {},
    set: function set(key, value) {
      this._cache[key] = value;
    },
    get: function get(key) {
      return this._cache[key];
    },
    clear: function clear() {
      this._cache = {};
    }
  };
}
Writer.prototype.clearCache = function clearCache() {
  if (typeof this.templateCache !== "undefined") {
    this.templateCache.clear();
  }
};
Writer.prototype.parse = function parse(template, tags) {
  var cache = this.templateCache;
  var cacheKey = template + ":" + (tags || mustache.tags).join(":");
  var isCacheEnabled = typeof cache !== "undefined";
  var tokens = isCacheEnabled ? cache.get(cacheKey) : void 0;
  if (tokens == void 0) {
    tokens = parseTemplate(template, tags);
    isCacheEnabled && cache.set(cacheKey, tokens);
  }
  return tokens;
};
Writer.prototype.render = function render(template, view, partials, config) {
  var tags = this.getConfigTags(config);
  var tokens = this.parse(template, tags);
  var context = view instanceof Context ? view : new Context(view, void 0);
  return this.renderTokens(tokens, context, partials, template, config);
};
Writer.prototype.renderTokens = function renderTokens(tokens, context, partials, originalTemplate, config) {
  var buffer = "";
  var token, symbol, value;
  for (var i = 0, numTokens = tokens.length; i < numTokens; ++i) {
    value = void 0;
    token = tokens[i];
    symbol = token[0];
    if (symbol === "#") value = this.renderSection(token, context, partials, originalTemplate, config);
    else if (symbol === "^") value = this.renderInverted(token, context, partials, originalTemplate, config);
    else if (symbol === ">") value = this.renderPartial(token, context, partials, config);
    else if (symbol === "&") value = this.unescapedValue(token, context);
    else if (symbol === "name") value = this.escapedValue(token, context, config);
    else if (symbol === "text") value = this.rawValue(token);
    if (value !== void 0)
      buffer += value;
  }
  return buffer;
};
Writer.prototype.renderSection = function renderSection(token, context, partials, originalTemplate, config) {
  var self = this;
  var buffer = "";
  var value = context.lookup(token[1]);
  function subRender(template) {
    return self.render(template, context, partials, config);
  }
  if (!value) return;
  if (isArray(value)) {
    for (var j = 0, valueLength = value.length; j < valueLength; ++j) {
      buffer += this.renderTokens(token[4], context.push(value[j]), partials, originalTemplate, config);
    }
  } else if (typeof value === "object" || typeof value === "string" || typeof value === "number") {
    buffer += this.renderTokens(token[4], context.push(value), partials, originalTemplate, config);
  } else if (isFunction(value)) {
    if (typeof originalTemplate !== "string")
      throw new Error("Cannot use higher-order sections without the original template");
    value = value.call(context.view, originalTemplate.slice(token[3], token[5]), subRender);
    if (value != null)
      buffer += value;
  } else {
    buffer += this.renderTokens(token[4], context, partials, originalTemplate, config);
  }
  return buffer;
};
Writer.prototype.renderInverted = function renderInverted(token, context, partials, originalTemplate, config) {
  var value = context.lookup(token[1]);
  if (!value || isArray(value) && value.length === 0)
    return this.renderTokens(token[4], context, partials, originalTemplate, config);
};
Writer.prototype.indentPartial = function indentPartial(partial, indentation, lineHasNonSpace) {
  var filteredIndentation = indentation.replace(/[^ \t]/g, "");
  var partialByNl = partial.split("\n");
  for (var i = 0; i < partialByNl.length; i++) {
    if (partialByNl[i].length && (i > 0 || !lineHasNonSpace)) {
      partialByNl[i] = filteredIndentation + partialByNl[i];
    }
  }
  return partialByNl.join("\n");
};
Writer.prototype.renderPartial = function renderPartial(token, context, partials, config) {
  if (!partials) return;
  var tags = this.getConfigTags(config);
  var value = isFunction(partials) ? partials(token[1]) : partials[token[1]];
  if (value != null) {
    var lineHasNonSpace = token[6];
    var tagIndex = token[5];
    var indentation = token[4];
    var indentedValue = value;
    if (tagIndex == 0 && indentation) {
      indentedValue = this.indentPartial(value, indentation, lineHasNonSpace);
    }
    var tokens = this.parse(indentedValue, tags);
    return this.renderTokens(tokens, context, partials, indentedValue, config);
  }
};
Writer.prototype.unescapedValue = function unescapedValue(token, context) {
  var value = context.lookup(token[1]);
  if (value != null)
    return value;
};
Writer.prototype.escapedValue = function escapedValue(token, context, config) {
  var escape = this.getConfigEscape(config) || mustache.escape;
  var value = context.lookup(token[1]);
  if (value != null)
    return typeof value === "number" && escape === mustache.escape ? String(value) : escape(value);
};
Writer.prototype.rawValue = function rawValue(token) {
  return token[1];
};
Writer.prototype.getConfigTags = function getConfigTags(config) {
  if (isArray(config)) {
    return config;
  } else if (config && typeof config === "object") {
    return config.tags;
  } else {
    return void 0;
  }
};
Writer.prototype.getConfigEscape = function getConfigEscape(config) {
  if (config && typeof config === "object" && !isArray(config)) {
    return config.escape;
  } else {
    return void 0;
  }
};
var mustache = {
  name: "mustache.js",
  version: "4.2.0",
  tags: ["{{", "}}"],
  clearCache: void 0,
  escape: void 0,
  parse: void 0,
  render: void 0,
  Scanner: void 0,
  Context: void 0,
  Writer: void 0,
  /**
   * Allows a user to override the default caching strategy, by providing an
   * object with set, get and clear methods. This can also be used to disable
   * the cache by setting it to the literal `undefined`.
   */
  set templateCache(cache) {
    defaultWriter.templateCache = cache;
  },
  /**
   * Gets the default or overridden caching object from the default writer.
   */
  get templateCache() {
    return defaultWriter.templateCache;
  }
};
var defaultWriter = new Writer();
mustache.clearCache = function clearCache2() {
  return defaultWriter.clearCache();
};
mustache.parse = function parse2(template, tags) {
  return defaultWriter.parse(template, tags);
};
mustache.render = function render2(template, view, partials, config) {
  if (typeof template !== "string") {
    throw new TypeError('Invalid template! Template should be a "string" but "' + typeStr(template) + '" was given as the first argument for mustache#render(template, view, partials)');
  }
  return defaultWriter.render(template, view, partials, config);
};
mustache.escape = escapeHtml;
mustache.Scanner = Scanner;
mustache.Context = Context;
mustache.Writer = Writer;
var mustache_default = mustache;

// src/core/libvirt/domain-xml.ts
var XML_ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
function xmlEscape(value) {
  return String(value).replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}
function renderDomain(template, view) {
  return mustache_default.render(template, view, {}, { escape: xmlEscape });
}
function renderField(text, view) {
  return mustache_default.render(text, view, {}, { escape: String });
}
function defaultTemplatePath() {
  return join(packageRoot(), "templates", "domain.xml.mustache");
}
async function loadTemplate(path) {
  const resolved = path ?? defaultTemplatePath();
  try {
    const text = await readFile(resolved, "utf8");
    mustache_default.parse(text);
    return { path: resolved, text };
  } catch (error) {
    throw new UsageError(`domain template ${resolved}: ${error.message}`, "bad-template", { template: resolved });
  }
}

// src/core/testnet/up.ts
async function up(options) {
  const workDir = resolve(options.workDir);
  const names = sanitizeVmNames(options.vms.map((vm) => vm.name));
  const group = validateGroup(options.group ?? defaultGroup(workDir));
  const connect = options.connect ?? DEFAULT_CONNECT_URI;
  const nicSpecsOf = (spec) => spec.nics ?? (options.network ? [options.network] : []);
  const plans = planTestnet(options.vms, names, options.vms.map((spec) => nicSpecsOf(spec).length), workDir, group, options.identityHash);
  const [domainType, template] = await Promise.all([resolveDomainType(options.domainType), loadTemplate(options.template)]);
  return withWorkDirLock(
    workDir,
    async () => {
      const previous = await readManifest(workDir);
      if (previous) refuseOrphans(previous, plans);
      const base = options.base ?? await ensureBase({ ...options, lease: options.lease ?? { workDir } });
      const layout = storeLayout(options.cacheDir);
      let baseDigest;
      try {
        baseDigest = (await readSidecar(base.sidecar).catch(() => void 0))?.rawDigest;
        if (previous && !options.recreate) await refuseChangedBase(previous, base, baseDigest);
      } catch (error) {
        if (!options.base && base.lease) await releaseLease(layout, base.key, base.lease.id);
        throw error;
      }
      const manifest = {
        schema: "basecow.manifest/v1",
        key: base.key,
        base: base.base,
        ...baseDigest ? { baseDigest } : {},
        cacheHit: base.cacheHit,
        group,
        workDir,
        domainType,
        connect,
        started: previous ? wasStarted(previous) : false,
        vms: plans.map((plan) => plan.entry)
      };
      await writeManifest(manifest);
      const leaseWarning = (error) => options.onWarning?.({ code: "lease-not-released", message: `cannot release an earlier lease of ${workDir} (gc judges it by the manifest anyway): ${error.message}` });
      if (previous && previous.key !== base.key) await releaseWorkDirLeases(layout, previous.key, workDir).catch(leaseWarning);
      if (base.lease) await releaseWorkDirLeases(layout, base.key, workDir, base.lease.id).catch(leaseWarning);
      options.signal?.throwIfAborted();
      await createOverlays({
        base: base.base,
        overlays: plans.map((plan) => ({ path: plan.entry.overlay })),
        minSizeBytes: options.minSizeBytes,
        qcow2Options: options.qcow2Options,
        recreate: options.recreate
      });
      await mapLimited(plans, 8, async (plan, index) => {
        options.signal?.throwIfAborted();
        await prepareExtraDisks(plan.dir, plan.extra, options);
        await prepareConsoleLog(plan.entry.consoleLog, options);
        await writeFile(plan.entry.xml, renderDomain(template.text, domainView(plan, index, group, domainType, base.base, nicSpecsOf(plan.spec), options)));
      });
      options.signal?.throwIfAborted();
      if (options.start) await startDomains(manifest, options.signal);
      return manifest;
    },
    {
      waitTimeoutMs: options.workDirWaitMs,
      lockTiming: options.lockTiming,
      signal: options.signal,
      onWarning: options.onWarning
    }
  );
}
async function refuseChangedBase(previous, base, digest) {
  const overlays = [];
  for (const vm of previous.vms) if (await pathExists(vm.overlay)) overlays.push(vm.overlay);
  if (overlays.length === 0) return;
  const facts = { workDir: previous.workDir, path: overlays[0], base: previous.base };
  if (previous.base !== base.base && !await pathExists(previous.base)) {
    throw new BasecowError("overlay-base-gone", `${manifestPath(previous.workDir)}: its overlays (${overlays.join(", ")}) are backed by ${previous.base}, which is gone`, facts);
  }
  if (previous.base === base.base && previous.baseDigest && digest && previous.baseDigest !== digest) {
    throw new BasecowError(
      "overlay-base-changed",
      `${manifestPath(previous.workDir)}: its overlays (${overlays.join(", ")}) were made over ${base.base} when its content's digest was ${previous.baseDigest}; it is now ${digest}`,
      facts
    );
  }
}
async function prepareConsoleLog(path, options) {
  const handle = await open(path, "a", 420);
  try {
    const info = await handle.stat();
    if ((info.mode & 292) !== 292) await handle.chmod(info.mode & 4095 | 292);
  } catch (error) {
    options.onWarning?.({ code: "console-log-not-readable", message: `cannot make ${path} readable by everyone (VMs still boot; its readers may be refused): ${error.message}` });
  } finally {
    await handle.close();
  }
}
function domainView(plan, index, group, domainType, base, nicSpecs, options) {
  const { spec, name, entry } = plan;
  const disks = entry.disks.map((d) => ({ ...d, cache: "unsafe", discard: "unmap", backingFile: d.role === "primary" ? base : void 0 }));
  const view = {
    name: entry.domain,
    vmName: name,
    group,
    index,
    uuid: entry.uuid,
    mac: entry.mac,
    domainType,
    arch: "x86_64",
    machine: options.machine ?? "q35",
    memoryMiB: spec.memoryMiB ?? options.memoryMiB ?? 1024,
    vcpus: spec.vcpus ?? options.vcpus ?? 1,
    hostCpu: domainType === "kvm",
    onReboot: "restart",
    kernel: options.kernel && resolve(options.kernel),
    initrd: options.initrd && resolve(options.initrd),
    loader: options.uefiLoader ? { path: resolve(options.uefiLoader) } : void 0,
    disks,
    nics: nicSpecs.map((nic, j) => nicView(nic, plan.nicMacs[j], j)),
    consoleLog: entry.consoleLog
  };
  const cmdline = spec.cmdline ?? options.cmdline;
  if (cmdline !== void 0) view.cmdline = renderField(cmdline, view);
  return view;
}
function refuseOrphans(previous, plans) {
  const domains = new Set(plans.map((plan) => plan.entry.domain));
  const paths = new Set(plans.flatMap((plan) => [plan.entry.xml, ...plan.entry.disks.map((d) => d.path)]));
  const orphans = previous.vms.flatMap((vm) => [
    ...domains.has(vm.domain) ? [] : [`domain ${vm.domain}`],
    ...[vm.xml, ...vm.disks.map((d) => d.path)].filter((path) => !paths.has(path))
  ]);
  if (orphans.length > 0) {
    throw new UsageError(
      `${manifestPath(previous.workDir)} already has ${orphans.join(", ")}, which this up would no longer list (other VMs, group or extra disks); tear the testnet down first, or keep them`,
      "would-orphan",
      { workDir: previous.workDir }
    );
  }
}
async function startDomains(manifest, signal) {
  const running = await listDomains(manifest.connect, { runningOnly: true });
  if (!manifest.started) {
    manifest.started = true;
    await writeManifest(manifest);
  }
  await mapLimited(
    manifest.vms.filter((vm) => !running.has(vm.domain)),
    4,
    (vm) => {
      signal?.throwIfAborted();
      return createDomain(manifest.connect, vm.xml);
    }
  );
}
function nicView(nic, mac, index) {
  const alias = `ua-basecow-nic${index}`;
  switch (nic.type) {
    case "bridge":
      return { type: "bridge", mac, alias, bridge: nic.bridge };
    case "network":
      return { type: "network", mac, alias, network: nic.network };
    case "tap":
      return { type: "ethernet", mac, alias, tap: nic.tap };
  }
}
export {
  up
};
