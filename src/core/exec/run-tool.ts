import { spawn } from 'node:child_process';

/** A failed external command, carrying what a person needs to see why. */
export class ToolError extends Error {
  constructor(
    readonly command: string[],
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
  ) {
    const status = signal ? `signal ${signal}` : `exit status ${exitCode}`;
    const detail = stderr.trim() ? `: ${stderr.trim()}` : '';
    super(`${command.join(' ')} failed with ${status}${detail}`);
    this.name = 'ToolError';
  }
}

export class MissingToolError extends Error {
  constructor(readonly tool: string, readonly debianPackage: string) {
    super(`'${tool}' was not found on PATH; install it with: apt-get install -y ${debianPackage}`);
    this.name = 'MissingToolError';
  }
}

const PACKAGE_OF: Record<string, string> = {
  'qemu-img': 'qemu-utils',
  virsh: 'libvirt-clients',
  'virt-xml-validate': 'libxml2-utils',
  tar: 'tar',
  zstd: 'zstd',
};

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs an external tool without a shell. Every external tool goes through here so that a failure
 * always names the command, its exit status and its stderr.
 */
export function runTool(command: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const [file, ...args] = command;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new MissingToolError(file, PACKAGE_OF[file] ?? file));
      else reject(e);
    });
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(new ToolError(command, code, signal, stderr));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
