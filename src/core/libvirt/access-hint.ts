import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runTool } from '../exec/run-tool.js';

interface QemuUser {
  uid: number;
  /** The gid libvirt reported and the user's supplementary groups. */
  groups: number[];
}

/**
 * libvirt reports the uid and primary gid; QEMU also holds the user's supplementary groups (on
 * Debian, libvirt-qemu's primary group is kvm and its own group is supplementary). Not knowing
 * them (no such user here, no `id`) only makes the hint more cautious.
 */
async function qemuUser(uid: number, gid: number): Promise<QemuUser> {
  try {
    const { stdout } = await runTool(['id', '-G', String(uid)]);
    return { uid, groups: [gid, ...stdout.trim().split(/\s+/).map(Number)] };
  } catch {
    return { uid, groups: [gid] };
  }
}

/**
 * Whether QEMU's user may enter the directory. When libvirt did not say who that is, only the bits
 * for other users count: QEMU runs as a user of its own.
 */
function canSearch(mode: number, owner: number, group: number, user: QemuUser | undefined): boolean {
  if (!user) return (mode & 0o001) !== 0;
  if (user.uid === 0) return true;
  if (owner === user.uid) return (mode & 0o100) !== 0;
  if (user.groups.includes(group)) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/** The directories from `/` down to the one holding `path`. */
function ancestors(path: string): string[] {
  const dirs: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) return dirs;
  }
}

/**
 * libvirt and QEMU report "Permission denied" with the file's path ("Could not open '<file>'", or
 * "Cannot access ... '<file>' ... (as uid:N, gid:M)") when the user QEMU runs as (libvirt-qemu on
 * Debian and Ubuntu) cannot reach a file. The usual cause is a parent directory such as a 0750 home
 * or a 0700 temp dir, which libvirt's relabelling does not touch, so this names that directory and
 * the way out.
 */
export async function explainAccessDenied(message: string): Promise<string | undefined> {
  if (!/permission denied/i.test(message)) return undefined;
  const as = /\(as uid:(\d+), gid:(\d+)\)/.exec(message);
  const user = as ? await qemuUser(Number(as[1]), Number(as[2])) : undefined;
  const who = user ? `uid ${user.uid}, the user QEMU runs as,` : 'other users, QEMU\'s user among them,';
  const paths = [...message.matchAll(/'(\/[^']+)'/g)].map((m) => m[1]);
  for (const path of paths) {
    for (const dir of ancestors(path)) {
      let info;
      try {
        info = await stat(dir);
      } catch {
        break;
      }
      if (!canSearch(info.mode, info.uid, info.gid, user)) {
        const mode = (info.mode & 0o7777).toString(8).padStart(4, '0');
        return (
          `${dir} (mode ${mode}, owner uid ${info.uid}) does not let ${who} reach ${path}. ` +
          `Keep the base store, the work dir and boot files under directories that user can enter (for example /var/tmp/basecow), ` +
          `or let it in: chmod o+x '${dir}'`
        );
      }
    }
  }
  return undefined;
}
