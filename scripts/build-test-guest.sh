#!/usr/bin/env bash
# Builds a tiny bootable test guest for basecow's VM tests: a Debian cloud kernel, a busybox
# initramfs and a 64 MiB raw base disk. Deterministic (same inputs => same bytes), idempotent
# (a stamp makes a rebuild a no-op) and atomic (built in a temp dir, renamed into place).
#
# Usage: scripts/build-test-guest.sh [out-dir]      (default: <repo>/.basecow/test-guest)
#
# Environment:
#   BASECOW_MARKER       token written into the base disk (default basecow-test-guest-v1),
#                        [A-Za-z0-9._-] only
#   BASECOW_KERNEL_DEB   use this linux-image-*-cloud-amd64 .deb instead of `apt-get download`
#   BASECOW_INSTALL=1    when root, apt-get install missing tools instead of failing
#
# Outputs in out-dir:
#   vmlinuz       linux-image-6.1.0-N-cloud-amd64 kernel (serial console built in, virtio modular)
#   initrd.img    gzip'd newc cpio: static busybox + virtio modules + /init (below)
#   base.img      64 MiB sparse raw disk holding the marker (sector 0) and 4 MiB of pseudo-random
#                 data at 16 MiB (so the image is not all holes)
#   base.img.zst  zstd -19 of base.img
#   base.tar.zst  zstd of a GNU-format sparse tar whose single member `disk.img` is base.img
#   guest.json    {kernel, initrd, cmdline, marker, image}: cmdline lacks the VM name, the caller
#                 appends it (it ends with "basecow.vm=")
#   .stamp        sha256 of this script + marker + out-dir; matching stamp => exit 0 at once
#
# ---------------------------------------------------------------------------------------------
# On-disk protocol (the guest's only disk is /dev/vda, the overlay over base.img):
#   * offset 0, 512 bytes (sector 0) of the base: "BASECOW-MARKER:<token>", NUL-padded.
#   * offset 1 MiB (1048576), one 4096-byte block: zero in the base; the guest writes
#     "BASECOW-VM:<name>", NUL-padded, there (dd bs=4096 seek=256 count=1 conv=notrunc; sync).
#   * the VM name comes from the kernel command line: basecow.vm=<name>
# The guest's /init prints to the serial console (ttyS0), one line each, in this order:
#   basecow: vm=<name>
#   basecow: base-marker=<text of sector 0 up to the first NUL, or 'none'>
#   basecow: previous-write=<text at 1 MiB up to the first NUL, or 'none'>
#   basecow: wrote=BASECOW-VM:<name>
#   basecow: done
# then `poweroff -f`. A restarted VM whose overlay survived prints
# previous-write=BASECOW-VM:<name> on its second boot. On failure it prints
#   basecow: error <reason>           (e.g. "basecow: error no /dev/vda" after ~10 s)
# and powers off as well. Boot takes ~3 s under TCG. Suggested cmdline:
#   console=ttyS0 panic=-1 quiet basecow.vm=<name>
# ---------------------------------------------------------------------------------------------
set -euo pipefail

log() { printf 'build-test-guest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

script_path=$(readlink -f "${BASH_SOURCE[0]}")
repo_root=$(cd "$(dirname "$script_path")/.." && pwd)
out_arg=${1:-$repo_root/.basecow/test-guest}
[[ $# -le 1 ]] || die "usage: $0 [out-dir]"
mkdir -p "$(dirname "$out_arg")"
out=$(cd "$(dirname "$out_arg")" && pwd)/$(basename "$out_arg")

token=${BASECOW_MARKER:-basecow-test-guest-v1}
[[ $token =~ ^[A-Za-z0-9._-]{1,200}$ ]] || die "BASECOW_MARKER must match [A-Za-z0-9._-]{1,200}, got '$token'"
marker="BASECOW-MARKER:$token"

outputs=(vmlinuz initrd.img base.img base.img.zst base.tar.zst guest.json)
stamp_value=$( { sha256sum <"$script_path"; printf '%s\n%s\n' "$marker" "$out"; } | sha256sum | cut -d' ' -f1)

is_current() {
  local f
  for f in "${outputs[@]}"; do [[ -s $out/$f ]] || return 1; done
  [[ -f $out/.stamp && $(cat "$out/.stamp") == "$stamp_value" ]]
}

if is_current; then
  log "up to date: $out"
  exit 0
fi

# ---- tools ----------------------------------------------------------------------------------
# tool:package (package = what `apt-get install` needs on Debian 12)
required_tools=(
  busybox:busybox-static cpio:cpio gzip:gzip zstd:zstd tar:tar dpkg-deb:dpkg
  apt-get:apt apt-cache:apt perl:perl-base flock:util-linux sha256sum:coreutils
  truncate:coreutils dd:coreutils find:findutils file:file
)
missing_pkgs=()
for entry in "${required_tools[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing_pkgs+=("${entry#*:}")
done
if ((${#missing_pkgs[@]})); then
  mapfile -t missing_pkgs < <(printf '%s\n' "${missing_pkgs[@]}" | sort -u)
  if [[ ${BASECOW_INSTALL:-} == 1 && $(id -u) == 0 ]]; then
    log "installing: ${missing_pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >&2
  else
    die "missing tools; install them with: apt-get install ${missing_pkgs[*]} (or rerun as root with BASECOW_INSTALL=1)"
  fi
fi
busybox_bin=$(command -v busybox)
file -L "$busybox_bin" | grep -q 'statically linked' ||
  die "$busybox_bin is not statically linked; install it with: apt-get install busybox-static"

# ---- lock, re-check, temp dir ---------------------------------------------------------------
exec 9>"$out.lock"
flock 9
if is_current; then # another process built it while we waited
  log "up to date: $out"
  exit 0
fi

# leftovers of a build that was killed (we hold the lock, so nobody else is using them)
rm -rf "$out".tmp.* "$out".old.*
tmp=$(mktemp -d "$out.tmp.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/basecow-guest-work.XXXXXX")
cleanup() { rm -rf "$tmp" "$work" "${old:-}"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 755 "$tmp" "$work"
log "building in $tmp"

# ---- kernel ---------------------------------------------------------------------------------
if [[ -n ${BASECOW_KERNEL_DEB:-} ]]; then
  deb=$(readlink -f "$BASECOW_KERNEL_DEB")
  [[ -f $deb ]] || die "BASECOW_KERNEL_DEB=$BASECOW_KERNEL_DEB does not exist"
else
  pick_kernel() {
    apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null |
      cut -d' ' -f1 | sort -V | tail -n1
  }
  pkg=$(pick_kernel)
  if [[ -z $pkg ]]; then
    if [[ $(id -u) == 0 ]]; then
      log "no linux-image-6.1.0-*-cloud-amd64 in the apt lists; running apt-get update"
      apt-get update -qq >&2
      pkg=$(pick_kernel)
    fi
    [[ -n $pkg ]] || die "no linux-image-6.1.0-*-cloud-amd64 package known to apt (run apt-get update as root, or set BASECOW_KERNEL_DEB)"
  fi
  log "downloading $pkg"
  apt_opts=(-q)
  # as root, apt drops to user _apt to download and warns when it cannot write the target dir
  [[ $(id -u) == 0 ]] && apt_opts+=(-o APT::Sandbox::User=root)
  (cd "$work" && apt-get "${apt_opts[@]}" download "$pkg" >&2)
  deb=$(ls "$work"/linux-image-*.deb)
fi
log "unpacking $(basename "$deb")"
mkdir "$work/deb"
dpkg-deb -x "$deb" "$work/deb"
kernels=("$work"/deb/boot/vmlinuz-*)
[[ ${#kernels[@]} == 1 && -f ${kernels[0]} ]] || die "expected exactly one boot/vmlinuz-* in $deb"
kver=${kernels[0]##*/vmlinuz-}
cp "${kernels[0]}" "$tmp/vmlinuz"
moddir="$work/deb/lib/modules/$kver/kernel/drivers"

# ---- initramfs ------------------------------------------------------------------------------
modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk)
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
ln -s bin "$root/sbin"
cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$busybox_bin" --list); do
  [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
done
for m in "${modules[@]}"; do
  src=$(find "$moddir/virtio" "$moddir/block" -maxdepth 1 \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" \) | head -n1)
  [[ -n $src ]] || die "module $m not found under $moddir/{virtio,block} (kernel $kver)"
  case $src in
    *.ko) cp "$src" "$root/lib/modules/$m.ko" ;;
    *.ko.xz) command -v xz >/dev/null || die "xz needed to unpack $src: apt-get install xz-utils"
      xz -dc "$src" >"$root/lib/modules/$m.ko" ;;
    *.ko.zst) zstd -qdc "$src" >"$root/lib/modules/$m.ko" ;;
    *.ko.gz) gzip -dc "$src" >"$root/lib/modules/$m.ko" ;;
  esac
done

cat >"$root/init" <<EOF
#!/bin/busybox sh
# basecow test guest init; protocol documented in scripts/build-test-guest.sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo # the firmware leaves escape codes on the current line: start the protocol lines on a fresh one
mount -t proc proc /proc
mount -t sysfs sysfs /sys

say() { echo "basecow: \$*"; }
finish() { sync; poweroff -f; sleep 5; echo o >/proc/sysrq-trigger; }

vm=
for word in \$(cat /proc/cmdline); do
  case "\$word" in basecow.vm=*) vm="\${word#basecow.vm=}" ;; esac
done
say "vm=\${vm:-none}"

for m in ${modules[*]}; do
  insmod /lib/modules/\$m.ko || say "warning insmod \$m failed"
done

i=0
while [ ! -b /dev/vda ]; do
  i=\$((i + 1))
  if [ \$i -gt 100 ]; then say "error no /dev/vda"; finish; fi
  usleep 100000
done

# text at byte offset \$1 (in 512-byte sectors) up to the first NUL, within \$2 bytes
read_text() {
  t=\$(dd if=/dev/vda bs=512 skip="\$1" count="\$2" 2>/dev/null | tr '\\000' '\\n' | head -n 1)
  echo "\${t:-none}"
}
say "base-marker=\$(read_text 0 1)"
say "previous-write=\$(read_text 2048 8)"

if [ -z "\$vm" ]; then say "error no basecow.vm= on the kernel command line"; finish; fi
{ printf 'BASECOW-VM:%s' "\$vm"; dd if=/dev/zero bs=4096 count=1 2>/dev/null; } | head -c 4096 >/tmp/block
if dd if=/tmp/block of=/dev/vda bs=4096 seek=256 count=1 conv=notrunc 2>/dev/null && sync; then
  say "wrote=BASECOW-VM:\$vm"
  say "done"
else
  say "error write to /dev/vda failed"
fi
finish
EOF
chmod 755 "$root/init"

log "packing initrd.img (busybox $("$busybox_bin" | head -n1 | cut -d' ' -f2), modules: ${modules[*]})"
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
  cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9 -n >"$tmp/initrd.img"

# ---- base disk ------------------------------------------------------------------------------
log "writing base.img (64 MiB sparse, marker '$marker')"
truncate -s 64M "$tmp/base.img"
printf '%s' "$marker" | dd of="$tmp/base.img" bs=512 count=1 conv=notrunc,sync status=none
# 4 MiB of deterministic pseudo-random bytes at 16 MiB (perl's rand is drand48: seeded, portable)
perl -e 'srand(20240601); my $n = 4 * 1024 * 1024 / 4;
  for (1 .. 64) { print pack("L*", map { int(rand(4294967296)) } 1 .. $n / 64) }' |
  dd of="$tmp/base.img" bs=1M seek=16 conv=notrunc status=none iflag=fullblock
touch -d @0 "$tmp/base.img"

log "compressing base.img.zst and base.tar.zst (zstd -19)"
zstd -q -19 -T1 -c "$tmp/base.img" >"$tmp/base.img.zst"
tar --sparse --format=gnu --numeric-owner --owner=0 --group=0 --mtime=@0 --mode=0644 \
  --transform='s,^base\.img$,disk.img,' -C "$tmp" -cf - base.img |
  zstd -q -19 -T1 -c >"$tmp/base.tar.zst"

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
cat >"$tmp/guest.json" <<EOF
{
  "kernel": $(json_str "$out/vmlinuz"),
  "initrd": $(json_str "$out/initrd.img"),
  "cmdline": "console=ttyS0 panic=-1 quiet basecow.vm=",
  "marker": $(json_str "$marker"),
  "image": $(json_str "$out/base.img.zst"),
  "kernelVersion": $(json_str "$kver")
}
EOF
printf '%s\n' "$stamp_value" >"$tmp/.stamp"

# ---- swap into place ------------------------------------------------------------------------
old=
if [[ -e $out ]]; then
  old=$(mktemp -u "$out.old.XXXXXX")
  mv -T "$out" "$old"
fi
mv -T "$tmp" "$out"
log "built $out (kernel $kver)"
