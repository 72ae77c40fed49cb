/** The typed description of a testnet's VMs that the core takes; src/inputs/ parses user syntax into it. */
export type NicSpec = { type: 'bridge'; bridge: string } | { type: 'network'; network: string } | { type: 'tap'; tap: string };

export interface ExtraDiskSpec {
  /** File name stem inside the VM's directory (default disk1, disk2, ...). */
  name?: string;
  source: string;
  member?: string;
}

export interface VmSpec {
  name: string;
  memoryMiB?: number;
  vcpus?: number;
  /** Kernel command line for direct kernel boot; {{vmName}}, {{name}}, {{index}} are expanded. */
  cmdline?: string;
  extraDisks?: ExtraDiskSpec[];
  nics?: NicSpec[];
}
