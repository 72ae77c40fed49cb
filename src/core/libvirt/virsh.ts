import { explainAccessDenied } from './access-hint.js';
import { ToolError, runTool } from '../exec/run-tool.js';

export const DEFAULT_CONNECT_URI = 'qemu:///system';

/** libvirt could not be reached at all, as opposed to a domain-level failure. */
export class LibvirtUnreachableError extends Error {
  constructor(readonly uri: string, detail: string) {
    super(`cannot reach libvirt at ${uri}: ${detail}; is libvirtd running (systemctl start libvirtd)?`);
    this.name = 'LibvirtUnreachableError';
  }
}

const UNREACHABLE = /failed to connect to the hypervisor/i;
const NO_SUCH_DOMAIN = /failed to get domain|Domain not found|domain is not running/i;

async function virsh(uri: string, args: string[]): Promise<string> {
  try {
    return (await runTool(['virsh', '-q', '-c', uri, ...args])).stdout;
  } catch (error) {
    if (error instanceof ToolError && UNREACHABLE.test(error.stderr)) {
      const detail = error.stderr.trim().split('\n').filter(Boolean).at(-1) ?? 'connection failed';
      throw new LibvirtUnreachableError(uri, detail.replace(/^error:\s*/, ''));
    }
    throw error;
  }
}

/** Starts a transient domain: it disappears when it powers off, so nothing is left defined. */
export async function createDomain(uri: string, xmlPath: string): Promise<void> {
  try {
    await virsh(uri, ['create', xmlPath]);
  } catch (error) {
    const hint = error instanceof ToolError ? await explainAccessDenied(error.stderr) : undefined;
    if (hint) throw new Error(`${(error as Error).message.trimEnd()}\n${hint}`, { cause: error });
    throw error;
  }
}

/** Names of the domains libvirt knows at `uri` (running ones only with `runningOnly`). */
export async function listDomains(uri: string, options: { runningOnly?: boolean } = {}): Promise<Set<string>> {
  const stdout = await virsh(uri, ['list', options.runningOnly ? '--state-running' : '--all', '--name']);
  return new Set(stdout.split('\n').map((line) => line.trim()).filter(Boolean));
}

/** Stops a domain; one that went away meanwhile is what the caller wanted, so that is `false`. */
export async function destroyDomain(uri: string, domain: string): Promise<boolean> {
  try {
    await virsh(uri, ['destroy', domain]);
    return true;
  } catch (error) {
    if (error instanceof ToolError && NO_SUCH_DOMAIN.test(error.stderr)) return false;
    throw error;
  }
}
