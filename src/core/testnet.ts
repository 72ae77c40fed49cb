import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';
import { extractToRaw } from './extract/index.js';
import { loadTemplate, renderDomain, renderField, resolveDomainType, type DiskView, type DomainType, type DomainView, type NicView } from './domain.js';
import { sanitizeVmName, sanitizeVmNames, validateGroup, vmIdentity } from './identity.js';
import { readManifest, writeManifest, manifestPath, type Manifest, type ManifestDisk, type ManifestVm } from './manifest.js';
import { mapLimited, pathExists } from './fs-util.js';
import { createOverlays } from './overlay.js';
import { processAlive } from './pid.js';
import { MissingToolError } from './tool.js';
import { ensureBase, type EnsureBaseOptions } from './store.js';
import { DEFAULT_CONNECT_URI, LibvirtUnreachableError, createDomain, destroyDomain, listDomains } from './virsh.js';
import type { NicSpec, VmSpec } from './vms.js';

/** Config disks are padded so that every block device size is a whole number of 4 KiB sectors. */
const EXTRA_DISK_ALIGN = 4096;

export interface UpOptions extends EnsureBaseOptions {
  workDir: string;
  vms: VmSpec[];
  /** Keeps this testnet's domain names apart from others on the host; default from the work dir. */
  group?: string;
  template?: string;
  minSizeBytes?: number;
  qcow2Options?: string;
  recreate?: boolean;
  domainType?: 'auto' | DomainType;
  network?: NicSpec;
  memoryMiB?: number;
  vcpus?: number;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  uefiLoader?: string;
  machine?: string;
  start?: boolean;
  connect?: string;
}

export function defaultGroup(workDir: string): string {
  return `bc${createHash('sha256').update(resolve(workDir)).digest('hex').slice(0, 8)}`;
}

const vmDir = (workDir: string, name: string): string => join(workDir, 'vms', name);

interface PlannedDisk {
  name: string;
  path: string;
  source: string;
  member?: string;
}

/** Everything about one VM that follows from the options alone, before any file exists. */
interface VmPlan {
  spec: VmSpec;
  name: string;
  dir: string;
  extra: PlannedDisk[];
  entry: ManifestVm;
}

/** Extra disk names become file names and libvirt aliases next to the primary disk's and the NICs'. */
function planExtraDisks(dir: string, spec: VmSpec): PlannedDisk[] {
  const disks = (spec.extraDisks ?? []).map((d, j) => ({ ...d, name: sanitizeVmName(d.name ?? `disk${j + 1}`) }));
  const seen = new Set<string>();
  for (const d of disks) {
    if (d.name === 'primary' || /^nic\d+$/.test(d.name) || seen.has(d.name)) {
      throw new UsageError(`VM ${spec.name}: extra disk name '${d.name}' is used twice or reserved ('primary' and 'nic<N>' are taken)`);
    }
    seen.add(d.name);
  }
  return disks.map((d) => ({ name: d.name, path: join(dir, `${d.name}.img`), source: d.source, member: d.member }));
}

function planVm(spec: VmSpec, name: string, workDir: string, group: string): VmPlan {
  const dir = vmDir(workDir, name);
  const identity = vmIdentity(group, name);
  const extra = planExtraDisks(dir, spec);
  const overlay = join(dir, 'primary.qcow2');
  const disks: ManifestDisk[] = [
    { alias: 'ua-basecow-primary', role: 'primary', path: overlay, format: 'qcow2', target: 'vda' },
    ...extra.map((d, j): ManifestDisk => ({ alias: `ua-basecow-${d.name}`, role: 'extra', path: d.path, format: 'raw', target: diskTarget(j + 1) })),
  ];
  const entry: ManifestVm = {
    name,
    domain: identity.domain,
    overlay,
    xml: join(dir, 'domain.xml'),
    mac: identity.mac,
    uuid: identity.uuid,
    consoleLog: join(dir, 'console.log'),
    disks,
  };
  return { spec, name, dir, extra, entry };
}

/**
 * Prepare the base, give every VM an overlay, its extra disks and a domain XML, record it all in
 * manifest.json and, on request, start the domains. Running it again converges on the same state:
 * existing overlays and disks are reused (after checks), running domains are left running.
 *
 * The manifest is written before the first per-VM file, with every path `up` may create, so that
 * `down` can clean up after an `up` that failed halfway.
 */
export async function up(options: UpOptions): Promise<Manifest> {
  const workDir = resolve(options.workDir);
  const names = sanitizeVmNames(options.vms.map((vm) => vm.name));
  const group = validateGroup(options.group ?? defaultGroup(workDir));
  const connect = options.connect ?? DEFAULT_CONNECT_URI;
  const plans = options.vms.map((spec, index) => planVm(spec, names[index], workDir, group));
  const previous = await readManifest(workDir);
  if (previous) refuseOrphans(previous, plans);
  const [domainType, template] = await Promise.all([resolveDomainType(options.domainType), loadTemplate(options.template)]);

  const base = await ensureBase(options);
  // `started` stays true once set, so a later `up` without --start cannot make `down` forget it.
  const manifest: Manifest = {
    schema: 'basecow.manifest/v1',
    key: base.key,
    base: base.base,
    cacheHit: base.cacheHit,
    group,
    workDir,
    domainType,
    connect,
    started: previous ? wasStarted(previous) : false,
    vms: plans.map((plan) => plan.entry),
  };
  await mkdir(workDir, { recursive: true });
  await writeManifest(manifest);

  options.signal?.throwIfAborted();
  await createOverlays({
    base: base.base,
    overlays: plans.map((plan) => ({ path: plan.entry.overlay })),
    minSizeBytes: options.minSizeBytes,
    qcow2Options: options.qcow2Options,
    recreate: options.recreate,
  });
  await mapLimited(plans, 8, async (plan, index) => {
    const { spec, name, entry } = plan;
    options.signal?.throwIfAborted();
    await prepareExtraDisks(plan.dir, plan.extra, options);
    const disks: DiskView[] = entry.disks.map((d) => ({ ...d, cache: 'unsafe', discard: 'unmap', backingFile: d.role === 'primary' ? base.base : undefined }));
    const nicSpecs = spec.nics ?? (options.network ? [options.network] : []);
    const nics = nicSpecs.map((nic, j) => nicView(nic, j === 0 ? entry.mac : vmIdentity(group, `${name}#nic${j}`).mac, j));
    const view: DomainView = {
      name: entry.domain,
      vmName: name,
      group,
      index,
      uuid: entry.uuid,
      mac: entry.mac,
      domainType,
      arch: 'x86_64',
      machine: options.machine ?? 'q35',
      memoryMiB: spec.memoryMiB ?? options.memoryMiB ?? 1024,
      vcpus: spec.vcpus ?? options.vcpus ?? 1,
      hostCpu: domainType === 'kvm',
      onReboot: 'restart',
      kernel: options.kernel && resolve(options.kernel),
      initrd: options.initrd && resolve(options.initrd),
      loader: options.uefiLoader ? { path: resolve(options.uefiLoader) } : undefined,
      disks,
      nics,
      consoleLog: entry.consoleLog,
    };
    const cmdline = spec.cmdline ?? options.cmdline;
    if (cmdline !== undefined) view.cmdline = renderField(cmdline, view);
    await writeFile(entry.xml, renderDomain(template.text, view));
  });
  options.signal?.throwIfAborted();
  if (options.start) await startDomains(manifest, options.signal);
  return manifest;
}

/**
 * Manifests from before the field existed do not say whether basecow started their domains, so they
 * count as started: `down` is then careful rather than sorry.
 */
const wasStarted = (manifest: Manifest): boolean => manifest.started !== false;

/**
 * A re-run must keep every domain and file the work dir already has in the manifest, or `down` would
 * never find them again (and a renamed domain would fight the old one over the same overlay).
 */
function refuseOrphans(previous: Manifest, plans: VmPlan[]): void {
  const domains = new Set(plans.map((plan) => plan.entry.domain));
  const paths = new Set(plans.flatMap((plan) => [plan.entry.xml, ...plan.entry.disks.map((d) => d.path)]));
  const orphans = previous.vms.flatMap((vm) => [
    ...(domains.has(vm.domain) ? [] : [`domain ${vm.domain}`]),
    ...[vm.xml, ...vm.disks.map((d) => d.path)].filter((path) => !paths.has(path)),
  ]);
  if (orphans.length > 0) {
    throw new UsageError(
      `${manifestPath(previous.workDir)} already has ${orphans.join(', ')}, which this up would no longer list (other VMs, group or extra disks); ` +
        `run \`basecow down --work-dir ${previous.workDir}\` first, or keep them`,
    );
  }
}

/**
 * The manifest says `started` before the first domain starts (so a crash midway still makes
 * `down` careful) but only once libvirt has answered (so an unreachable libvirt starts nothing
 * and does not make `down` refuse later).
 */
async function startDomains(manifest: Manifest, signal: AbortSignal | undefined): Promise<void> {
  const running = await listDomains(manifest.connect, { runningOnly: true });
  if (!manifest.started) {
    manifest.started = true;
    await writeManifest(manifest);
  }
  await mapLimited(
    manifest.vms.filter((vm) => !running.has(vm.domain)),
    4,
    (vm) => {
      signal?.throwIfAborted();
      return createDomain(manifest.connect, vm.xml);
    },
  );
}

/**
 * Each VM's own config disks: extracted under a temp name and renamed, so a disk is either whole or
 * absent; an existing one is kept because the VM may have written to it.
 */
async function prepareExtraDisks(dir: string, disks: PlannedDisk[], options: UpOptions): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(
    disks.map(async (d) => {
      if (!options.recreate && (await pathExists(d.path))) return;
      await removeDeadPartials(dir, `${d.name}.img.partial-`);
      const temp = `${d.path}.partial-${process.pid}`;
      await rm(temp, { force: true });
      try {
        const { size } = await extractToRaw(d.source, temp, { member: d.member, signal: options.signal });
        const padded = Math.ceil(size / EXTRA_DISK_ALIGN) * EXTRA_DISK_ALIGN;
        if (padded !== size) await truncate(temp, padded);
        // A reflinked raw source arrives with its own mode; the VM's disks are the runner's alone.
        await chmod(temp, 0o600);
        await rename(temp, d.path);
      } finally {
        await rm(temp, { force: true });
      }
    }),
  );
}

/** What an `up` killed mid-extraction left behind (it ran no cleanup): files whose writer is gone. */
async function removeDeadPartials(dir: string, prefix: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) await rm(join(dir, name), { force: true });
  }
}

function nicView(nic: NicSpec, mac: string, index: number): NicView {
  const alias = `ua-basecow-nic${index}`;
  switch (nic.type) {
    case 'bridge':
      return { type: 'bridge', mac, alias, bridge: nic.bridge };
    case 'network':
      return { type: 'network', mac, alias, network: nic.network };
    case 'tap':
      return { type: 'ethernet', mac, alias, tap: nic.tap };
  }
}

/** vda, vdb, ..., vdz, vdaa: the kernel's naming for virtio disks. */
function diskTarget(index: number): string {
  let suffix = '';
  let n = index;
  do {
    suffix = String.fromCharCode(97 + (n % 26)) + suffix;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `vd${suffix}`;
}

export interface DownResult {
  workDir: string;
  destroyed: string[];
  removed: string[];
  /** Things a person should know that did not stop the teardown, e.g. libvirt being unreachable. */
  warnings: string[];
}

/**
 * The testnet's domains that libvirt knows. When libvirt cannot be asked (not running, or no virsh
 * on this host) and basecow never started these domains, nothing of ours can be running there, so
 * teardown goes on with a warning; when it did start them, removing their disks could pull them
 * from under live VMs, so that is an error.
 */
async function presentDomains(manifest: Manifest, connect: string, warnings: string[]): Promise<Set<string>> {
  try {
    return await listDomains(connect);
  } catch (error) {
    if (!(error instanceof LibvirtUnreachableError || error instanceof MissingToolError)) throw error;
    if (wasStarted(manifest)) {
      throw new Error(`${manifestPath(manifest.workDir)}: basecow started these domains, but ${error.message}. Nothing was removed; run down again once libvirt can be reached.`);
    }
    warnings.push(`${error.message}; the domains were never started by basecow, so their disks are removed anyway`);
    return new Set();
  }
}

export async function down(options: { workDir: string; connect?: string }): Promise<DownResult> {
  const workDir = resolve(options.workDir);
  const manifest = await readManifest(workDir);
  if (!manifest) return { workDir, destroyed: [], removed: [], warnings: [] };
  const connect = options.connect ?? manifest.connect;
  const destroyed: string[] = [];
  const removed: string[] = [];
  const warnings: string[] = [];
  const present = await presentDomains(manifest, connect, warnings);
  await mapLimited(manifest.vms, 4, async (vm) => {
    if (present.has(vm.domain) && (await destroyDomain(connect, vm.domain))) destroyed.push(vm.domain);
    for (const path of [...vm.disks.map((d) => d.path), vm.xml]) {
      if (await pathExists(path)) removed.push(path);
      await rm(path, { force: true });
    }
    // What a killed `up` was still extracting: never in the manifest, but next to the disk it was for.
    for (const disk of vm.disks.filter((d) => d.role === 'extra')) {
      await removeDeadPartials(dirname(disk.path), `${basename(disk.path)}.partial-`).catch(() => undefined);
    }
  });
  await rm(manifestPath(workDir), { force: true });
  return { workDir, destroyed: destroyed.sort(), removed: removed.sort(), warnings };
}
