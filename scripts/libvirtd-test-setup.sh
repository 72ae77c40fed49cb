#!/usr/bin/env bash
# Starts a root libvirtd for basecow's VM tests on a machine without systemd, idempotently.
#
# Usage: scripts/libvirtd-test-setup.sh [--boot-check [guest-dir]] [--no-warm]
#   (no args)     configure qemu.conf, start `libvirtd -d` if it is not answering, wait until
#                 `virsh -c qemu:///system list` works (<= 60 s), then warm libvirt's QEMU
#                 capability cache (the first probe takes about a minute; later ones are cached in
#                 /var/cache/libvirt/qemu/capabilities) so the first test domain does not time out.
#   --no-warm     skip the capability warm-up.
#   --boot-check  also boot the test guest (scripts/build-test-guest.sh, built if needed, default
#                 dir <repo>/.basecow/test-guest) as a transient libvirt domain on a qcow2 overlay
#                 and check its serial console shows the base marker and "basecow: done".
# Environment: LIBVIRT_URI (default qemu:///system), BASECOW_LIBVIRTD_LOG
#   (default /var/log/libvirt/libvirtd.log). Must run as root. Prints progress to stderr.
#
# qemu.conf settings (a marked block, rewritten in place, so reruns change nothing):
#   stdio_handler = "file"   QEMU's stdout/stderr go straight to /var/log/libvirt/qemu/<dom>.log;
#                            the default "logd" needs virtlogd, which nothing starts without systemd.
#   Nothing else: QEMU runs as libvirt-qemu with dynamic ownership, as on a Debian/Ubuntu runner,
#   so the tests see what users see (the files QEMU opens must be reachable by that user).
#   cgroup settings are left alone: libvirt 9 manages the cgroup v1 hierarchy directly.
# libvirtd.conf (a marked block too): the socket belongs to group libvirt, mode 0770, no auth, so a
#   non-root user in that group reaches qemu:///system as a runner's user does through polkit.
# /dev/kvm: without udev it stays root-only (0600). Debian's udev rule makes it root:kvm 0660, and
#   libvirt-qemu is in group kvm; without that, libvirt finds KVM unusable for the QEMU user and
#   throws its capability cache away on every domain start (a minute each). The script applies the
#   udev rule's ownership. Guests here still run under TCG (<domain type='qemu'>).
set -euo pipefail

log() { printf 'libvirtd-test-setup: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

uri=${LIBVIRT_URI:-qemu:///system}
daemon_log=${BASECOW_LIBVIRTD_LOG:-/var/log/libvirt/libvirtd.log}
qemu_conf=/etc/libvirt/qemu.conf
script_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo_root=$(dirname "$script_dir")

boot_check=0 warm=1 guest_dir=
while (($#)); do
  case $1 in
    --boot-check) boot_check=1
      if [[ ${2:-} != "" && ${2:0:2} != -- ]]; then guest_dir=$2; shift; fi ;;
    --no-warm) warm=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

[[ $(id -u) == 0 ]] || die "must run as root (it edits $qemu_conf and starts libvirtd)"
for entry in libvirtd:libvirt-daemon-system virsh:libvirt-clients qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || die "${entry%%:*} not found; install it with: apt-get install ${entry#*:}"
done

# ---- qemu.conf ------------------------------------------------------------------------------
begin='# >>> basecow test settings (scripts/libvirtd-test-setup.sh) >>>'
end='# <<< basecow test settings <<<'
block="$begin
stdio_handler = \"file\"
$end"
[[ -f $qemu_conf ]] || die "$qemu_conf missing; install libvirt-daemon-system"
# drop our old block and any uncommented line for a key we set, then append the block
new_conf=$(awk -v b="$begin" -v e="$end" '
  $0 == b { skip = 1; next }
  $0 == e { skip = 0; next }
  skip { next }
  /^[[:space:]]*stdio_handler[[:space:]]*=/ { next }
  { print }' "$qemu_conf")
# $(...) strips trailing newlines, so the block is always preceded by exactly one blank line
while [[ $new_conf == *$'\n' ]]; do new_conf=${new_conf%$'\n'}; done
new_conf=$(printf '%s\n\n%s' "$new_conf" "$block")
config_changed=0
if [[ $new_conf != "$(cat "$qemu_conf")" ]]; then
  [[ -f $qemu_conf.basecow-orig ]] || cp -p "$qemu_conf" "$qemu_conf.basecow-orig"
  printf '%s\n' "$new_conf" >"$qemu_conf.tmp.$$"
  mv "$qemu_conf.tmp.$$" "$qemu_conf"
  config_changed=1
  log "updated $qemu_conf (original kept as $qemu_conf.basecow-orig)"
fi

# ---- libvirtd.conf: the libvirt group's socket access ---------------------------------------
# A runner's user reaches qemu:///system through the libvirt group, which polkit grants on a
# systemd host. Without a system bus here, the socket's group and mode give a test user the same.
libvirtd_conf=/etc/libvirt/libvirtd.conf
sock_block="$begin
unix_sock_group = \"libvirt\"
unix_sock_rw_perms = \"0770\"
auth_unix_rw = \"none\"
$end"
if [[ -f $libvirtd_conf ]] && getent group libvirt >/dev/null; then
  new_sock_conf=$(awk -v b="$begin" -v e="$end" '
    $0 == b { skip = 1; next }
    $0 == e { skip = 0; next }
    skip { next }
    /^[[:space:]]*(unix_sock_group|unix_sock_rw_perms|auth_unix_rw)[[:space:]]*=/ { next }
    { print }' "$libvirtd_conf")
  while [[ $new_sock_conf == *$'\n' ]]; do new_sock_conf=${new_sock_conf%$'\n'}; done
  new_sock_conf=$(printf '%s\n\n%s' "$new_sock_conf" "$sock_block")
  if [[ $new_sock_conf != "$(cat "$libvirtd_conf")" ]]; then
    [[ -f $libvirtd_conf.basecow-orig ]] || cp -p "$libvirtd_conf" "$libvirtd_conf.basecow-orig"
    printf '%s\n' "$new_sock_conf" >"$libvirtd_conf.tmp.$$"
    mv "$libvirtd_conf.tmp.$$" "$libvirtd_conf"
    config_changed=1
    log "updated $libvirtd_conf (original kept as $libvirtd_conf.basecow-orig)"
  fi
fi

# ---- /dev/kvm (what udev would do) ----------------------------------------------------------
if [[ -c /dev/kvm ]] && getent group kvm >/dev/null && [[ $(stat -c '%G %a' /dev/kvm) != "kvm 660" ]]; then
  chgrp kvm /dev/kvm
  chmod 0660 /dev/kvm
  log "made /dev/kvm root:kvm 0660, as Debian's udev rule does"
fi

# ---- daemon ---------------------------------------------------------------------------------
answers() { timeout 10 virsh -c "$uri" list >/dev/null 2>&1; }
# alive = exists and is not a zombie (PID 1 on this machine reaps orphans only every few seconds)
alive() { local st; st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [[ $st != Z && $st != X ]]; }
libvirtd_pid() {
  local pid
  pid=$(cat /run/libvirtd.pid 2>/dev/null) || return 1
  [[ -n $pid ]] && alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == libvirtd ]] && echo "$pid"
}

if pid=$(libvirtd_pid) && ((config_changed)); then
  log "restarting libvirtd (pid $pid) to apply the new qemu.conf"
  kill -TERM "$pid"
  for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
  ! alive "$pid" || die "libvirtd (pid $pid) did not exit after SIGTERM"
fi

if answers; then
  log "libvirtd already answers on $uri"
else
  if pid=$(libvirtd_pid); then
    log "libvirtd (pid $pid) is running but not answering yet"
  else
    mkdir -p "$(dirname "$daemon_log")"
    log "starting libvirtd -d (log: $daemon_log)"
    started=$(date +%s.%N)
    # without systemd/syslog a daemonised libvirtd would log nowhere: send level>=3 to a file
    LIBVIRT_LOG_OUTPUTS="3:file:$daemon_log" libvirtd -d
  fi
  for i in $(seq 1 120); do
    answers && break
    ((i < 120)) || die "libvirtd did not answer on $uri within 60 s; see $daemon_log"
    sleep 0.5
  done
  [[ -n ${started:-} ]] && log "libvirtd answers after $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
fi

if ((warm)); then
  t0=$(date +%s.%N)
  timeout 300 virsh -c "$uri" domcapabilities --virttype qemu --arch x86_64 --machine q35 >/dev/null ||
    die "QEMU capability probe failed; see $daemon_log"
  log "QEMU capabilities ready ($(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s; ~60 s the first time, then cached)"
fi

((boot_check)) || exit 0

# ---- boot check -----------------------------------------------------------------------------
guest_dir=${guest_dir:-$repo_root/.basecow/test-guest}
"$script_dir/build-test-guest.sh" "$guest_dir"
guest_dir=$(cd "$guest_dir" && pwd)
marker=$(sed -n 's/^ *"marker": "\(.*\)",\{0,1\}$/\1/p' "$guest_dir/guest.json")
cmdline=$(sed -n 's/^ *"cmdline": "\(.*\)",\{0,1\}$/\1/p' "$guest_dir/guest.json")
[[ -n $marker && -n $cmdline ]] || die "cannot read marker/cmdline from $guest_dir/guest.json"

work=$(mktemp -d /tmp/basecow-lvcheck.XXXXXX)
# QEMU runs as libvirt-qemu: give it a directory it can enter, with its own copies of the files
chmod 0755 "$work"
cp --sparse=always "$guest_dir/base.img" "$guest_dir/vmlinuz" "$guest_dir/initrd.img" "$work/"
chmod 0444 "$work/base.img"
name="basecow-check-$$"
cleanup() {
  virsh -c "$uri" destroy "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
qemu-img create -q -f qcow2 -F raw -b "$work/base.img" "$work/disk.qcow2"
xml_escape() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/'"'"'/\&apos;/g; s/"/\&quot;/g' <<<"$1"; }
cat >"$work/domain.xml" <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$(xml_escape "$work/vmlinuz")</kernel>
    <initrd>$(xml_escape "$work/initrd.img")</initrd>
    <cmdline>$(xml_escape "${cmdline}$name")</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$(xml_escape "$work/disk.qcow2")'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'>
      <source path='$(xml_escape "$work/console.log")' append='on'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='$(xml_escape "$work/console.log")' append='on'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
if command -v virt-xml-validate >/dev/null 2>&1; then
  virt-xml-validate "$work/domain.xml" domain >&2
else
  log "virt-xml-validate not found (apt-get install libxml2-utils): skipping XML validation"
fi
t0=$(date +%s.%N)
virsh -c "$uri" create "$work/domain.xml" >/dev/null
for i in $(seq 1 120); do
  virsh -c "$uri" domstate "$name" >/dev/null 2>&1 || break
  ((i < 120)) || die "domain $name still running after 60 s; console so far: $(cat "$work/console.log" 2>/dev/null)"
  sleep 0.5
done
log "domain $name ran for $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s (create to gone)"
# the guest's tty turns \n into \r\n: strip the \r before matching whole lines
console=$(tr -d '\r' <"$work/console.log")
grep -a '^basecow: ' <<<"$console" >&2 || true
grep -aqxF "basecow: base-marker=$marker" <<<"$console" || die "console.log lacks the base marker"
grep -aqxF 'basecow: done' <<<"$console" || die "console.log lacks 'basecow: done'"
log "boot check passed"
