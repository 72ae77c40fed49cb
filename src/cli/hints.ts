import type { BasecowError } from '../core/errors.js';

/**
 * The CLI's words for what to do about a core error: the core states the problem and its facts,
 * and only a front end knows its own flags.
 */
export function hintFor(error: BasecowError): string | undefined {
  switch (error.code) {
    case 'overlay-not-reusable':
      return 'run up with --recreate to replace it (what the VM wrote is lost), or down first';
    case 'would-orphan':
      return `run \`basecow down --work-dir ${error.facts.workDir}\` first`;
    case 'overlay-base-gone':
    case 'overlay-base-changed':
      return `run \`basecow down --work-dir ${error.facts.workDir}\` and up again, or up with --recreate (what the VMs wrote is lost)`;
    case 'no-space':
      return 'free space on that filesystem (`basecow ls` shows what the store holds; leased bases stay), or use another --cache-dir';
    case 'store-unsafe':
      return 'use another --cache-dir';
    case 'work-dir-busy':
      return 'wait for that process, or give this testnet its own --work-dir';
    default:
      return undefined;
  }
}
