import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/shared/content-range.ts
function contentRange(header) {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(header ?? "").trim());
  if (!match) return void 0;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === "*" ? void 0 : Number(match[3]) };
}

export {
  contentRange
};
