import { ToolError, runTool } from './tool.js';

export const DEFAULT_CONNECT_URI = 'qemu:///system';

/** Starts a transient domain: it disappears when it powers off, so nothing is left defined. */
export async function createDomain(uri: string, xmlPath: string): Promise<void> {
  await runTool(['virsh', '-q', '-c', uri, 'create', xmlPath]);
}

/** The domain's state ('running', 'shut off', ...) or undefined when libvirt does not know it. */
export async function domainState(uri: string, domain: string): Promise<string | undefined> {
  try {
    const { stdout } = await runTool(['virsh', '-q', '-c', uri, 'domstate', domain]);
    return stdout.trim();
  } catch (error) {
    if (error instanceof ToolError && /failed to get domain|Domain not found/i.test(error.stderr)) return undefined;
    throw error;
  }
}

/** Stops a domain if it exists; a domain that is already gone is what the caller wanted. */
export async function destroyDomain(uri: string, domain: string): Promise<boolean> {
  try {
    await runTool(['virsh', '-q', '-c', uri, 'destroy', domain]);
    return true;
  } catch (error) {
    if (error instanceof ToolError && /failed to get domain|Domain not found|domain is not running/i.test(error.stderr)) return false;
    throw error;
  }
}
