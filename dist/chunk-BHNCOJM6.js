import { createRequire as __basecowRequire } from 'node:module';
const require = __basecowRequire(import.meta.url);

// src/core/errors.ts
var BasecowError = class extends Error {
  constructor(code, message, facts = {}, options) {
    super(message, options);
    this.code = code;
    this.facts = facts;
    this.name = "BasecowError";
  }
  code;
  facts;
};
var SourceError = class extends BasecowError {
  constructor(source, reason, options) {
    super("source", `${source}: ${reason}`, { source }, options);
    this.source = source;
    this.reason = reason;
    this.name = "SourceError";
  }
  source;
  reason;
};
var UsageError = class extends BasecowError {
  constructor(message, code = "bad-input", facts = {}) {
    super(code, message, facts);
    this.name = "UsageError";
  }
};
function errnoCode(error) {
  return error?.code;
}

export {
  BasecowError,
  SourceError,
  UsageError,
  errnoCode
};
