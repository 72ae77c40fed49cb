import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/shared/version.ts
import { readFileSync as readFileSync2 } from "node:fs";
import { join as join2 } from "node:path";

// src/core/shared/package-root.ts
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
var cached;
function packageRoot() {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (; ; ) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "basecow") {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find basecow's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

// src/core/shared/version.ts
var TOOL_NAME = "basecow";
var TOOL_VERSION = JSON.parse(readFileSync2(join2(packageRoot(), "package.json"), "utf8")).version;

export {
  packageRoot,
  TOOL_NAME,
  TOOL_VERSION
};
