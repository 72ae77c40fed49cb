#!/usr/bin/env bash
# Makes a fresh Debian/Ubuntu machine ready for basecow: system tools, npm packages, a build.
#   scripts/ensure-deps.sh run    what the CLI needs (qemu-img, zstd, GNU tar)
#   scripts/ensure-deps.sh test   plus what the test suite needs (QEMU, libvirtd, virt-xml-validate, ...)
# As root with apt-get it installs what is missing; otherwise it names the exact command and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-run}

# command -> Debian package
declare -A need=([qemu-img]=qemu-utils [zstd]=zstd [tar]=tar)
if [ "$profile" = test ]; then
  need+=([qemu-system-x86_64]=qemu-system-x86 [libvirtd]=libvirt-daemon-system [virsh]=libvirt-clients
         [dnsmasq]=dnsmasq-base [virt-xml-validate]=libxml2-utils [busybox]=busybox-static
         [cpio]=cpio [sfdisk]=fdisk [mkfs.ext4]=e2fsprogs [mkfs.vfat]=dosfstools)
fi

missing=()
for cmd in "${!need[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
if ! tar --version 2>/dev/null | grep -q 'GNU tar'; then missing+=(tar); fi

if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "basecow: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "basecow: missing system packages: ${missing[*]}" >&2
    echo "basecow: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# zstd-napi compiles its addon at install time (about 45 s); a tree installed without scripts lacks it.
addon=node_modules/zstd-napi/build/Release/binding.node
if [ ! -d node_modules ] || [ ! -f "$addon" ]; then
  echo "basecow: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi
if [ ! -f "$addon" ]; then
  echo "basecow: building zstd-napi's native addon (npm's install scripts did not run)" >&2
  npm rebuild zstd-napi >&2
fi
[ -f "$addon" ] || { echo "basecow: $addon is missing; it needs python3, make and a C++ compiler (apt-get install -y python3 make g++)" >&2; exit 1; }
npm run --silent build >&2
