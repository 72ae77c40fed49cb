import { join } from 'node:path';
import { packageRoot } from '../core/shared/package-root.js';

/** The demo disk shipped in the repository, so that the main command needs no arguments. */
export function defaultImage(): string {
  return join(packageRoot(), 'images', 'demo.img.zst');
}
