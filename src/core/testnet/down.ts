import { lstat, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { BasecowError, errnoCode } from '../errors.js';
import { LibvirtUnreachableError, destroyDomain, listDomains } from '../libvirt/virsh.js';
import { MissingToolError } from '../exec/run-tool.js';
import { pathExists } from '../shared/fs.js';
import { mapLimited } from '../shared/map-limited.js';
import type { LockTiming } from '../shared/lock.js';
import type { WarningSink } from '../warnings.js';
import { removeDeadExtraDiskTemps } from './extra-disks.js';
import { sanitizeVmName, validateGroup } from './identity.js';
import { manifestPath, readManifest, wasStarted, type Manifest } from './manifest.js';
import { domainXmlPath, extraDiskPath, isReservedDiskName, overlayPath, vmDir } from './plan.js';
import { withWorkDirLock } from './work-dir-lock.js';
import { validateKey } from '../store/key.js';
import { storeLayout } from '../store/layout.js';
import { releaseWorkDirLeases } from '../store/lease.js';

export interface DownOptions {
  workDir: string;
  connect?: string;
  onWarning?: WarningSink;
  workDirWaitMs?: number;
  lockTiming?: Partial<LockTiming>;
  signal?: AbortSignal;
}

export interface DownResult {
  workDir: string;
  destroyed: string[];
  removed: string[];
}

/** What `down` may do for one VM: a domain to stop and files to remove, all re-derived from names. */
interface Teardown {
  domain: string;
  files: string[];
  extraDisks: string[];
}

function untrusted(workDir: string, what: string): BasecowError {
  return new BasecowError(
    'manifest-untrusted',
    `${manifestPath(workDir)}: ${what}; basecow only removes what it created inside the work dir, so nothing was removed (restore the manifest, or delete the work dir by hand)`,
    { workDir },
  );
}

/**
 * Checks a manifest against what `up` would have written for the same names and turns it into the
 * list of things to tear down. A manifest is a file anyone with write access to the work dir can
 * edit: a path or a domain that is not exactly what basecow derives from the work dir, the group and
 * the VM and disk names is refused, before anything is touched. Directories on the way are checked
 * not to be symlinks, so a planted link cannot lead the removal out of the work dir.
 */
async function planTeardown(workDir: string, manifest: Manifest): Promise<Teardown[]> {
  let group: string;
  try {
    group = validateGroup(manifest.group);
  } catch {
    throw untrusted(workDir, `group ${JSON.stringify(manifest.group)} is not one basecow makes`);
  }
  const teardowns: Teardown[] = [];
  for (const vm of manifest.vms) {
    const name = vm.name;
    if (typeof name !== 'string' || (() => { try { return sanitizeVmName(name) !== name; } catch { return true; } })()) {
      throw untrusted(workDir, `VM name ${JSON.stringify(name)} is not one basecow makes`);
    }
    if (vm.domain !== `${group}-${name}`) throw untrusted(workDir, `domain ${JSON.stringify(vm.domain)} of VM ${name} is not ${group}-${name}`);
    const expect = (path: unknown, wanted: string): string => {
      if (path !== wanted) throw untrusted(workDir, `path ${JSON.stringify(path)} of VM ${name} is not the one basecow derives (${wanted})`);
      return wanted;
    };
    const files = [expect(vm.xml, domainXmlPath(workDir, name))];
    const extraDisks: string[] = [];
    for (const disk of vm.disks ?? []) {
      if (disk.role === 'primary') {
        files.push(expect(disk.path, overlayPath(workDir, name)));
        continue;
      }
      const stem = basename(String(disk.path)).replace(/\.img$/, '');
      const safeStem = (() => { try { return sanitizeVmName(stem) === stem && !isReservedDiskName(stem); } catch { return false; } })();
      if (!safeStem) throw untrusted(workDir, `disk path ${JSON.stringify(disk.path)} of VM ${name} is not one basecow makes`);
      extraDisks.push(expect(disk.path, extraDiskPath(workDir, name, stem)));
    }
    await refuseSymlinkedDirs(workDir, vmDir(workDir, name));
    teardowns.push({ domain: vm.domain, files: [...files, ...extraDisks], extraDisks });
  }
  return teardowns;
}

/** Every directory from the work dir (exclusive) down to `dir` must be a real directory or absent. */
async function refuseSymlinkedDirs(workDir: string, dir: string): Promise<void> {
  let current = workDir;
  for (const part of relative(workDir, dir).split(sep)) {
    current = join(current, part);
    try {
      const info = await lstat(current);
      if (!info.isDirectory()) throw untrusted(workDir, `${current} is a ${info.isSymbolicLink() ? 'symbolic link' : 'non-directory'}, not the directory basecow made`);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return;
      throw error;
    }
  }
}

/**
 * The testnet's domains that libvirt knows. When libvirt cannot be asked (not running, or no virsh
 * on this host) and basecow never started these domains, nothing of ours can be running there, so
 * teardown goes on with a warning; when it did start them, removing their disks could pull them
 * from under live VMs, so that is an error.
 */
async function presentDomains(manifest: Manifest, workDir: string, connect: string, onWarning?: WarningSink): Promise<Set<string>> {
  try {
    return await listDomains(connect);
  } catch (error) {
    if (!(error instanceof LibvirtUnreachableError || error instanceof MissingToolError)) throw error;
    if (wasStarted(manifest)) {
      throw new BasecowError('libvirt-unreachable', `${manifestPath(workDir)}: basecow started these domains, but ${error.message}. Nothing was removed; run down again once libvirt can be reached.`, { workDir });
    }
    onWarning?.({ code: 'libvirt-unreachable', message: `${error.message}; the domains were never started by basecow, so their disks are removed anyway` });
    return new Set();
  }
}

/**
 * The testnet is gone, so are its leases on the base. The store is found from the base's path
 * (<cache-dir>/v1/bases/<key>.img); a manifest that does not have that shape leases nothing that
 * down could find, and a lease left behind goes stale by itself now that the manifest is gone.
 */
async function releaseLeases(manifest: Manifest, workDir: string, onWarning?: WarningSink): Promise<void> {
  try {
    const key = validateKey(manifest.key);
    if (basename(String(manifest.base)) !== `${key}.img` || basename(dirname(manifest.base)) !== 'bases') return;
    await releaseWorkDirLeases(storeLayout(dirname(dirname(dirname(manifest.base)))), key, workDir);
  } catch (error) {
    onWarning?.({ code: 'lease-not-released', message: `cannot release ${workDir}'s lease on base ${manifest.key} (gc treats it as stale from now on): ${(error as Error).message}` });
  }
}

/**
 * Stops the work dir's domains and removes the files `up` made for them (console logs stay for
 * post-mortems; the base stays in the store), then the manifest. Holds the work dir's lock.
 */
export async function down(options: DownOptions): Promise<DownResult> {
  const workDir = resolve(options.workDir);
  if (!(await pathExists(manifestPath(workDir)))) return { workDir, destroyed: [], removed: [] };
  return withWorkDirLock(
    workDir,
    async () => {
      const manifest = await readManifest(workDir);
      if (!manifest) return { workDir, destroyed: [], removed: [] };
      if (resolve(manifest.workDir) !== workDir) {
        throw untrusted(workDir, `it names work dir ${JSON.stringify(manifest.workDir)}, not ${workDir} (a moved or copied work dir)`);
      }
      const teardowns = await planTeardown(workDir, manifest);
      const connect = options.connect ?? manifest.connect;
      const destroyed: string[] = [];
      const removed: string[] = [];
      const present = await presentDomains(manifest, workDir, connect, options.onWarning);
      await mapLimited(teardowns, 4, async (vm) => {
        if (present.has(vm.domain) && (await destroyDomain(connect, vm.domain))) destroyed.push(vm.domain);
        for (const path of vm.files) {
          if (await pathExists(path)) removed.push(path);
          await rm(path, { force: true });
        }
        for (const disk of vm.extraDisks) {
          await removeDeadExtraDiskTemps(disk).catch((error: Error) =>
            options.onWarning?.({ code: 'leftover-not-removed', message: `cannot remove what a killed up left beside ${disk}: ${error.message}` }),
          );
        }
      });
      await rm(manifestPath(workDir), { force: true });
      await releaseLeases(manifest, workDir, options.onWarning);
      return { workDir, destroyed: destroyed.sort(), removed: removed.sort() };
    },
    {
      waitTimeoutMs: options.workDirWaitMs,
      lockTiming: options.lockTiming,
      signal: options.signal,
      onWarning: options.onWarning,
    },
  );
}
