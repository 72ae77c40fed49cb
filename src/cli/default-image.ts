import { fileURLToPath } from 'node:url';

/** The demo disk shipped in the repository, so that the main command needs no arguments. */
export function defaultImage(): string {
  return fileURLToPath(new URL('../../../images/demo.img.zst', import.meta.url));
}
