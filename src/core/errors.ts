/** A problem with a source image: the message always starts with the file it concerns. */
export class SourceError extends Error {
  constructor(readonly source: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`${source}: ${reason}`, options);
    this.name = 'SourceError';
  }
}

/** Bad caller input that is not about a particular file (a malformed key, an unknown option). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
