/**
 * An error the core raises on purpose. `code` names the kind and `facts` carry what a front end
 * needs to word its own hint (a CLI flag, an action input): the core's message states the problem
 * and never names a flag or an input.
 */
export class BasecowError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly facts: Record<string, string | number> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BasecowError';
  }
}

/** A problem with a source image: the message always starts with the file it concerns. */
export class SourceError extends BasecowError {
  constructor(readonly source: string, readonly reason: string, options?: { cause?: unknown }) {
    super('source', `${source}: ${reason}`, { source }, options);
    this.name = 'SourceError';
  }
}

/** Bad caller input or a request that conflicts with what exists; front ends exit with usage status. */
export class UsageError extends BasecowError {
  constructor(message: string, code = 'bad-input', facts: Record<string, string | number> = {}) {
    super(code, message, facts);
    this.name = 'UsageError';
  }
}

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
