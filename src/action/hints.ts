import type { BasecowError } from '../core/errors.js';
import { label } from './inputs.js';

/** The action's words for what to do about a core error, naming its inputs (see src/cli/hints.ts). */
export function hintFor(error: BasecowError): string | undefined {
  switch (error.code) {
    case 'overlay-not-reusable':
      return `give this testnet a fresh ${label('work-dir')}, or remove ${error.facts.path} (what the VM wrote is lost)`;
    case 'would-orphan':
      return `tear the old testnet in ${error.facts.workDir} down first (its post step, or \`basecow down --work-dir ${error.facts.workDir}\`), or use another ${label('work-dir')}`;
    case 'overlay-base-gone':
    case 'overlay-base-changed':
      return `tear the old testnet in ${error.facts.workDir} down first (\`basecow down --work-dir ${error.facts.workDir}\`), or give this testnet a fresh ${label('work-dir')}`;
    case 'no-space':
      return `free space on the runner's disk, lower ${label('cache-budget')} so post keeps the store smaller, or set ${label('cache-dir')} to a larger filesystem`;
    case 'store-unsafe':
      return `set ${label('cache-dir')} to a directory only this runner's user may write`;
    case 'work-dir-busy':
      return `another step or job uses ${label('work-dir')} ${error.facts.workDir}; give each testnet its own`;
    default:
      return undefined;
  }
}
