import { open, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BasecowError, UsageError } from '../errors.js';
import { resolveDomainType, type DomainType } from '../libvirt/domain-type.js';
import { loadTemplate, renderDomain, renderField, type DiskView, type DomainView, type NicView } from '../libvirt/domain-xml.js';
import { DEFAULT_CONNECT_URI, createDomain, listDomains } from '../libvirt/virsh.js';
import { mapLimited } from '../shared/map-limited.js';
import { ensureBase, type BaseResult, type EnsureBaseOptions } from '../store/ensure-base.js';
import { storeLayout } from '../store/layout.js';
import { releaseLease, releaseWorkDirLeases } from '../store/lease.js';
import { readSidecar } from '../store/sidecar.js';
import { pathExists } from '../shared/fs.js';
import { prepareExtraDisks } from './extra-disks.js';
import { sanitizeVmNames, validateGroup, type IdentityHash } from './identity.js';
import { manifestPath, readManifest, wasStarted, writeManifest, type Manifest } from './manifest.js';
import { createOverlays } from './overlay.js';
import { defaultGroup, planTestnet, type VmPlan } from './plan.js';
import type { NicSpec, VmSpec } from './types.js';
import { withWorkDirLock } from './work-dir-lock.js';

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
  /** How long to wait for another up or down on the same work dir. */
  workDirWaitMs?: number;
  /** Replaces the identity hash; tests use it to force MAC collisions. */
  identityHash?: IdentityHash;
  /** A base the caller already ensured (the action reports its phases apart); else up ensures it. */
  base?: BaseResult;
}

/**
 * Prepare the base, give every VM an overlay, its extra disks and a domain XML, record it all in
 * manifest.json and, on request, start the domains. Running it again converges on the same state:
 * existing overlays and disks are reused (after checks), running domains are left running.
 *
 * The manifest is written before the first per-VM file, with every path `up` may create, so that
 * `down` can clean up after an `up` that failed halfway. The whole run holds the work dir's lock,
 * so the manifest and the files always agree.
 */
export async function up(options: UpOptions): Promise<Manifest> {
  const workDir = resolve(options.workDir);
  const names = sanitizeVmNames(options.vms.map((vm) => vm.name));
  const group = validateGroup(options.group ?? defaultGroup(workDir));
  const connect = options.connect ?? DEFAULT_CONNECT_URI;
  const nicSpecsOf = (spec: VmSpec): NicSpec[] => spec.nics ?? (options.network ? [options.network] : []);
  const plans = planTestnet(options.vms, names, options.vms.map((spec) => nicSpecsOf(spec).length), workDir, group, options.identityHash);
  const [domainType, template] = await Promise.all([resolveDomainType(options.domainType), loadTemplate(options.template)]);

  return withWorkDirLock(
    workDir,
    async () => {
      const previous = await readManifest(workDir);
      if (previous) refuseOrphans(previous, plans);
      // The testnet leases its base for as long as its manifest uses it (see lease.ts); a caller
      // that ensured the base itself took the lease then.
      const base = options.base ?? (await ensureBase({ ...options, lease: options.lease ?? { workDir } }));
      const layout = storeLayout(options.cacheDir);
      let baseDigest: string | undefined;
      try {
        baseDigest = (await readSidecar(base.sidecar).catch(() => undefined))?.rawDigest;
        if (previous && !options.recreate) await refuseChangedBase(previous, base, baseDigest);
      } catch (error) {
        if (!options.base && base.lease) await releaseLease(layout, base.key, base.lease.id);
        throw error;
      }      // `started` stays true once set, so a later `up` without --start cannot make `down` forget it.
      const manifest: Manifest = {
        schema: 'basecow.manifest/v1',
        key: base.key,
        base: base.base,
        ...(baseDigest ? { baseDigest } : {}),
        cacheHit: base.cacheHit,
        group,
        workDir,
        domainType,
        connect,
        started: previous ? wasStarted(previous) : false,
        vms: plans.map((plan) => plan.entry),
      };
      await writeManifest(manifest);
      // The manifest now holds this testnet's lease; older ones for this work dir are superseded.
      const leaseWarning = (error: Error) =>
        options.onWarning?.({ code: 'lease-not-released', message: `cannot release an earlier lease of ${workDir} (gc judges it by the manifest anyway): ${error.message}` });
      if (previous && previous.key !== base.key) await releaseWorkDirLeases(layout, previous.key, workDir).catch(leaseWarning);
      if (base.lease) await releaseWorkDirLeases(layout, base.key, workDir, base.lease.id).catch(leaseWarning);

      options.signal?.throwIfAborted();
      await createOverlays({
        base: base.base,
        overlays: plans.map((plan) => ({ path: plan.entry.overlay })),
        minSizeBytes: options.minSizeBytes,
        qcow2Options: options.qcow2Options,
        recreate: options.recreate,
      });
      await mapLimited(plans, 8, async (plan, index) => {
        options.signal?.throwIfAborted();
        await prepareExtraDisks(plan.dir, plan.extra, options);
        await prepareConsoleLog(plan.entry.consoleLog, options);
        await writeFile(plan.entry.xml, renderDomain(template.text, domainView(plan, index, group, domainType, base.base, nicSpecsOf(plan.spec), options)));
      });
      options.signal?.throwIfAborted();
      if (options.start) await startDomains(manifest, options.signal);
      return manifest;
    },
    {
      waitTimeoutMs: options.workDirWaitMs,
      lockTiming: options.lockTiming,
      signal: options.signal,
      onWarning: options.onWarning,
    },
  );
}

/**
 * Existing overlays record the base by path only: over a base whose bytes changed since they were
 * made (a caller key whose source changed, a base replaced after it failed verification), or one
 * that is gone, a guest would read a mix of two disks.
 */
async function refuseChangedBase(previous: Manifest, base: BaseResult, digest: string | undefined): Promise<void> {
  const overlays = [];
  for (const vm of previous.vms) if (await pathExists(vm.overlay)) overlays.push(vm.overlay);
  if (overlays.length === 0) return;
  const facts = { workDir: previous.workDir, path: overlays[0], base: previous.base };
  if (previous.base !== base.base && !(await pathExists(previous.base))) {
    throw new BasecowError('overlay-base-gone', `${manifestPath(previous.workDir)}: its overlays (${overlays.join(', ')}) are backed by ${previous.base}, which is gone`, facts);
  }
  if (previous.base === base.base && previous.baseDigest && digest && previous.baseDigest !== digest) {
    throw new BasecowError(
      'overlay-base-changed',
      `${manifestPath(previous.workDir)}: its overlays (${overlays.join(', ')}) were made over ${base.base} when its content's digest was ${previous.baseDigest}; it is now ${digest}`,
      facts,
    );
  }
}

/**
 * The serial log is created here, by the user running up, readable by everyone (0644). Left to
 * libvirtd, it would be created by root with mode 0600, and the runner's own tests and artifact
 * uploads could not read it. libvirt lends a file it labels to QEMU's user while the VM runs and
 * gives it back afterwards; the mode stays, so the log can be read during and after the run.
 */
async function prepareConsoleLog(path: string, options: UpOptions): Promise<void> {
  const handle = await open(path, 'a', 0o644);
  try {
    const info = await handle.stat();
    if ((info.mode & 0o444) !== 0o444) await handle.chmod((info.mode & 0o7777) | 0o444);
  } catch (error) {
    options.onWarning?.({ code: 'console-log-not-readable', message: `cannot make ${path} readable by everyone (VMs still boot; its readers may be refused): ${(error as Error).message}` });
  } finally {
    await handle.close();
  }
}

function domainView(plan: VmPlan, index: number, group: string, domainType: DomainType, base: string, nicSpecs: NicSpec[], options: UpOptions): DomainView {
  const { spec, name, entry } = plan;
  const disks: DiskView[] = entry.disks.map((d) => ({ ...d, cache: 'unsafe', discard: 'unmap', backingFile: d.role === 'primary' ? base : undefined }));
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
    nics: nicSpecs.map((nic, j) => nicView(nic, plan.nicMacs[j], j)),
    consoleLog: entry.consoleLog,
  };
  const cmdline = spec.cmdline ?? options.cmdline;
  if (cmdline !== undefined) view.cmdline = renderField(cmdline, view);
  return view;
}

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
      `${manifestPath(previous.workDir)} already has ${orphans.join(', ')}, which this up would no longer list (other VMs, group or extra disks); tear the testnet down first, or keep them`,
      'would-orphan',
      { workDir: previous.workDir },
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
