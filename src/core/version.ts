import { readFileSync } from 'node:fs';

export const TOOL_NAME = 'basecow';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export const TOOL_VERSION: string = readVersion();
