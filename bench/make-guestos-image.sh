#!/usr/bin/env bash
# make-guestos-image.sh <out-dir> [few|many|members]
#
# Generates a GuestOS-like benchmark disk image for basecow, deterministically
# and cached, in one of three shapes that differ in how the data lies:
#
#   few      the partitions' filesystems are made in place (mkfs.ext4 -d with
#            -E offset): a few large data regions, as in images built that way
#   many     (default) the filesystems are made apart and copied in with
#            dd conv=sparse, which leaves many smaller data regions
#   members  the 'few' disk, and in the tars other members before and after
#            it (a small config file, a 64 MiB boot image and a checksum list)
#
#   disk.img      sparse GPT raw disk, 1640 MiB apparent size:
#                   p1  EFI   100 MiB  ext4, ~10 MiB of firmware-ish files
#                   p2  root  900 MiB  ext4, ~760 MiB from /usr/bin, /usr/sbin,
#                                      /usr/lib/x86_64-linux-gnu
#                   p3  var   500 MiB  ext4, ~360 MiB from /usr/share/doc, /usr/lib/jvm
#                   rest      unpartitioned, left as holes
#                 (~1.1 GiB allocated; compresses to ~0.45 GB with zstd -3)
#   disk.img.zst  zstd -3 -T0 of disk.img
#   disk.tar.zst  GNU sparse tar of disk.img (member name "disk.img"), zstd -3 -T0
#   disk.pax.tar.zst  the same as a PAX (posix) sparse tar
#   info.json     apparent/allocated bytes of disk.img, archive sizes, layout
#                 (file_bytes = selected file data in whole 4 KiB blocks),
#                 generator sha256, generation time
#   .stamp        sha256 of this script; if it matches and all outputs exist,
#                 the script exits 0 immediately (host file changes do not
#                 invalidate it; delete <out-dir> to force a rebuild).
#
# File selection is deterministic: each source tree is listed in byte order
# (LC_ALL=C) and files are taken while they fit a fixed byte budget (counted
# in 4 KiB blocks, hard links once), so reruns on the same machine produce the
# same amount of data. Disk/partition/fs UUIDs are fixed; timestamps are not,
# so disk.img is not guaranteed to be bit-identical between runs.
#
# Filesystems are built without loop mounts (mkfs.ext4 -d) and copied into the
# disk with dd conv=sparse. Everything is built in a temp dir next to <out-dir>
# and renamed into place at the end; an interrupted run leaves nothing
# half-made. <out-dir> belongs to this script: when it is stale it is replaced
# as a whole (the script refuses if it contains files it did not create).
set -euo pipefail
export LC_ALL=C
umask 022

log() { printf '[make-guestos-image] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ ($# -eq 1 || $# -eq 2) && -n $1 ]] || { echo "usage: $0 <out-dir> [few|many|members]" >&2; exit 2; }
SHAPE=${2:-many}
case $SHAPE in few|many|members) ;; *) echo "unknown shape '$SHAPE' (few, many or members)" >&2; exit 2 ;; esac

# --- required tools (with the Debian package that provides them) -----------
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found; install the Debian package '$2' (apt-get install $2)"; }
need zstd zstd
need sfdisk fdisk
need mkfs.ext4 e2fsprogs
need tar tar
need find findutils
need sort coreutils
need sha256sum coreutils
need truncate coreutils
need stat coreutils
need dd coreutils
need df coreutils
need awk mawk
need flock util-linux
need filefrag e2fsprogs
tar --version 2>/dev/null | head -n1 | grep -q 'GNU tar' \
  || die "GNU tar is required (Debian package 'tar')"

# --- layout and content (changing any of this changes the script's sha256) --
SECTOR=512
MIB=1048576
DISK_MIB=1640
BLOCK=4096              # ext4 block size; budgets count whole blocks

# name  label  start_MiB  size_MiB  budget_MiB  GPT type  partition UUID / fs UUID
PARTS=(
  "efi  EFI    1    100  10  C12A7328-F81F-11D2-BA4B-00A0C93EC93B 6b0c1e2a-0001-4c6f-9a55-62617365636f 6b0c1e2a-1001-4c6f-9a55-62617365636f"
  "root ROOT   101  900  760 0FC63DAF-8483-4772-8E79-3D69D8477DE4 6b0c1e2a-0002-4c6f-9a55-62617365636f 6b0c1e2a-1002-4c6f-9a55-62617365636f"
  "var  VAR    1001 500  360 0FC63DAF-8483-4772-8E79-3D69D8477DE4 6b0c1e2a-0003-4c6f-9a55-62617365636f 6b0c1e2a-1003-4c6f-9a55-62617365636f"
)
DISK_UUID=6b0c1e2a-0000-4c6f-9a55-62617365636f

# Sources per partition: "<host dir>|<dest dir in the fs>|<cap MiB, 0 = none>".
# Taken in this order until the partition budget is used up.
sources_for() {
  case $1 in
    efi)  printf '%s\n' \
            "/usr/share/qemu|EFI/firmware|0" \
            "/usr/lib/ipxe|EFI/ipxe|0" ;;
    root) printf '%s\n' \
            "/usr/bin|usr/bin|0" \
            "/usr/sbin|usr/sbin|0" \
            "/usr/lib/x86_64-linux-gnu|usr/lib/x86_64-linux-gnu|0" ;;
    var)  printf '%s\n' \
            "/usr/share/doc|lib/doc|0" \
            "/usr/lib/jvm|lib/jvm|0" \
            "/usr/share/locale|lib/locale|0" ;;
  esac
}

# --- paths, cache check ------------------------------------------------------
SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
STAMP="$(sha256sum "$SCRIPT" | cut -d' ' -f1) $SHAPE"
OUTPUTS=(disk.img disk.img.zst disk.tar.zst disk.pax.tar.zst info.json)

OUT=$(realpath -m -- "$1")
[[ $OUT != / ]] || die "refusing to use / as out-dir"
PARENT=$(dirname -- "$OUT")
NAME=$(basename -- "$OUT")

is_done() {
  [[ -f $OUT/.stamp && $(<"$OUT/.stamp") == "$STAMP" ]] || return 1
  local f
  for f in "${OUTPUTS[@]}"; do [[ -f $OUT/$f ]] || return 1; done
}

if is_done; then
  log "up to date: $OUT (stamp ${STAMP:0:12})"
  exit 0
fi

mkdir -p -- "$PARENT"
exec 9<"$PARENT"
flock 9                      # serialize concurrent generators in this parent
if is_done; then             # another run finished while we waited
  log "up to date: $OUT (stamp ${STAMP:0:12})"
  exit 0
fi

if [[ -e $OUT || -L $OUT ]]; then
  [[ -d $OUT && ! -L $OUT ]] || die "$OUT exists and is not a directory"
  shopt -s nullglob dotglob
  for f in "$OUT"/*; do
    case ${f##*/} in
      disk.img|disk.img.zst|disk.tar.zst|disk.pax.tar.zst|info.json|.stamp) ;;
      *) die "refusing to replace $OUT: it contains '${f##*/}', which this script did not create" ;;
    esac
  done
  shopt -u nullglob dotglob
fi

# leftovers of killed runs (we hold the lock, so none of them is live)
shopt -s nullglob
for d in "$PARENT/.$NAME.tmp."*; do rm -rf -- "$d"; done
shopt -u nullglob

avail=$(df -B1 --output=avail -- "$PARENT" | tail -n1 | tr -d ' ')
(( avail > 5 * 1024 * MIB )) || die "need ~5 GiB free in $PARENT (have $((avail / MIB)) MiB)"

TMP=$(mktemp -d "$PARENT/.$NAME.tmp.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$TMP/out"
DISK=$TMP/out/disk.img

T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# --- file selection ----------------------------------------------------------
# Lists <src> (files and symlinks, byte order) and prints the relative paths
# that fit into <budget> bytes, counted the way ext4 allocates them: whole
# 4 KiB blocks, a hard-linked inode only once, symlinks > 59 bytes one block.
# Entries that do not fit are skipped. The number of bytes used goes to fd 3.
select_files() {
  local src=$1 budget=$2
  (cd -- "$src" && find . -mindepth 1 \( -type f -o -type l \) ! -path $'*\n*' \
      -printf '%P\t%y\t%s\t%i\t%n\n') \
    | sort \
    | awk -F'\t' -v budget="$budget" -v bs="$BLOCK" '
        {
          n = NF; nlink = $n; ino = $(n - 1); size = $(n - 2); type = $(n - 3)
          path = $0; sub(/\t[^\t]*\t[^\t]*\t[^\t]*\t[^\t]*$/, "", path)
          if (type == "f")      cost = int((size + bs - 1) / bs) * bs
          else if (size > 59)   cost = bs
          else                  cost = 0
          if (nlink > 1 && (ino in seen)) cost = 0
          if (used + cost > budget) next
          if (nlink > 1) seen[ino] = 1
          used += cost; print path
        }
        END { printf "%.0f\n", used > "/dev/fd/3" }'
}

# --- partition table ---------------------------------------------------------
truncate -s "${DISK_MIB}M" "$DISK"
{
  printf 'label: gpt\nlabel-id: %s\nunit: sectors\nfirst-lba: 2048\n\n' "$DISK_UUID"
  for spec in "${PARTS[@]}"; do
    read -r pname label start size _ type puuid _ <<<"$spec"
    printf 'start=%d, size=%d, type=%s, uuid=%s, name="%s"\n' \
      $((start * MIB / SECTOR)) $((size * MIB / SECTOR)) "$type" "$puuid" "$pname"
  done
} | sfdisk --quiet --no-reread --no-tell-kernel "$DISK" >/dev/null

# --- build partitions --------------------------------------------------------
declare -A FILE_BYTES FILE_COUNT
for spec in "${PARTS[@]}"; do
  read -r pname label start size budget _ _ fsuuid <<<"$spec"
  stage=$TMP/stage-$pname
  mkdir -p "$stage"
  left=$((budget * MIB))
  nfiles=0
  while IFS='|' read -r src dest cap; do
    [[ -d $src ]] || { log "warning: $src does not exist, skipped"; continue; }
    lim=$left
    (( cap > 0 && cap * MIB < lim )) && lim=$((cap * MIB))
    list=$TMP/list-$pname
    used=$(select_files "$src" "$lim" 3>&1 >"$list")
    n=$(wc -l <"$list")
    mkdir -p "$stage/$dest"
    if (( n > 0 )); then
      tar -C "$src" --numeric-owner --no-recursion --verbatim-files-from --no-unquote \
          -T "$list" -cf - | tar -C "$stage/$dest" --numeric-owner -xpf -
    fi
    left=$((left - used))
    nfiles=$((nfiles + n))
    log "  $pname: $src -> /$dest: $n entries, $((used / MIB)) MiB"
  done < <(sources_for "$pname")
  used_total=$((budget * MIB - left))
  (( left < budget * MIB / 20 )) \
    || log "warning: $pname: only $((used_total / MIB)) of $budget MiB budget available on this host"
  FILE_BYTES[$pname]=$used_total
  FILE_COUNT[$pname]=$nfiles

  if [[ $pname == root ]]; then
    mkdir -p "$stage"/{boot,dev,etc,home,mnt,opt,proc,root,run,srv,sys,tmp,var}
    chmod 1777 "$stage/tmp"; chmod 0700 "$stage/root"
    printf 'guestos-bench\n' >"$stage/etc/hostname"
    printf '%s\n' \
      'LABEL=ROOT  /          ext4  ro,errors=remount-ro  0 1' \
      'LABEL=VAR   /var       ext4  defaults,nodev        0 2' \
      'LABEL=EFI   /boot/efi  ext4  defaults,noexec       0 2' >"$stage/etc/fstab"
  fi

  # default inode ratio unless the selection needs more inodes
  entries=$(find "$stage" | wc -l)
  inode_opt=()
  (( entries + 512 > size * MIB / 16384 )) && inode_opt=(-N $((entries + 1024)))

  log "mkfs.ext4 $pname ($size MiB, $((used_total / MIB)) MiB of files) [$(elapsed)s]"
  if [[ $SHAPE == many ]]; then
    truncate -s "${size}M" "$TMP/$pname.img"
    mkfs.ext4 -q -F -b "$BLOCK" -L "$label" -U "$fsuuid" -E "root_owner=0:0,hash_seed=$fsuuid" \
      "${inode_opt[@]}" -d "$stage" "$TMP/$pname.img" "${size}M"
    dd if="$TMP/$pname.img" of="$DISK" bs=1M seek="$start" conv=sparse,notrunc status=none
    rm -f -- "$TMP/$pname.img"
  else
    mkfs.ext4 -q -F -b "$BLOCK" -L "$label" -U "$fsuuid" -E "root_owner=0:0,hash_seed=$fsuuid,offset=$((start * MIB))" \
      "${inode_opt[@]}" -d "$stage" "$DISK" "${size}M"
  fi
  rm -rf -- "$stage" "$TMP/list-$pname"
done
extents=$(filefrag "$DISK" | awk '{ print $(NF - 2) }')
log "disk.img: $extents extents ($SHAPE) [$(elapsed)s]"

# --- archives ----------------------------------------------------------------
log "zstd -3 -T0 -> disk.img.zst [$(elapsed)s]"
zstd -T0 -3 -q -o "$TMP/out/disk.img.zst" "$DISK"
# members: a config file and a 64 MiB boot image before the disk, a checksum list after it
MEMBERS=(disk.img)
if [[ $SHAPE == members ]]; then
  mkdir "$TMP/members"
  printf '{"name": "guestos-bench", "version": 1}\n' >"$TMP/members/config.json"
  cat /usr/bin/* 2>/dev/null | head -c $((32 * MIB)) >"$TMP/members/boot.img" || true
  truncate -s $((64 * MIB)) "$TMP/members/boot.img"
  (cd "$TMP/out" && sha256sum disk.img) >"$TMP/members/SHA256SUMS"
  mv "$TMP/members/config.json" "$TMP/members/boot.img" "$TMP/members/SHA256SUMS" "$TMP/out/"
  MEMBERS=(config.json boot.img disk.img SHA256SUMS)
fi
log "tar --sparse | zstd -3 -T0 -> disk.tar.zst, disk.pax.tar.zst [$(elapsed)s]"
tar --sparse --format=gnu -C "$TMP/out" -cf - "${MEMBERS[@]}" | zstd -T0 -3 -q -o "$TMP/out/disk.tar.zst"
tar --sparse --format=posix -C "$TMP/out" -cf - "${MEMBERS[@]}" | zstd -T0 -3 -q -o "$TMP/out/disk.pax.tar.zst"
if [[ $SHAPE == members ]]; then rm -f -- "$TMP/out/config.json" "$TMP/out/boot.img" "$TMP/out/SHA256SUMS"; fi

# --- info.json ---------------------------------------------------------------
apparent=$(stat -c %s "$DISK")
allocated=$(( $(stat -c '%b * %B' "$DISK") ))
zst_bytes=$(stat -c %s "$TMP/out/disk.img.zst")
tar_bytes=$(stat -c %s "$TMP/out/disk.tar.zst")
pax_bytes=$(stat -c %s "$TMP/out/disk.pax.tar.zst")
secs=$(elapsed)
{
  printf '{\n'
  printf '  "generator": "bench/make-guestos-image.sh",\n'
  printf '  "generator_sha256": "%s",\n' "${STAMP%% *}"
  printf '  "shape": "%s",\n' "$SHAPE"
  printf '  "disk": {\n'
  printf '    "file": "disk.img",\n'
  printf '    "apparent_bytes": %d,\n' "$apparent"
  printf '    "allocated_bytes": %d,\n' "$allocated"
  printf '    "extents": %d,\n' "$extents"
  printf '    "partition_table": "gpt",\n'
  printf '    "partitions": [\n'
  sep=
  for spec in "${PARTS[@]}"; do
    read -r pname label start size _ <<<"$spec"
    printf '%s      {"name": "%s", "fs": "ext4", "label": "%s", "start_mib": %d, "size_mib": %d, "file_bytes": %d, "file_count": %d}' \
      "$sep" "$pname" "$label" "$start" "$size" "${FILE_BYTES[$pname]}" "${FILE_COUNT[$pname]}"
    sep=$',\n'
  done
  printf '\n    ]\n'
  printf '  },\n'
  printf '  "archives": {\n'
  printf '    "disk.img.zst": {"bytes": %d, "format": "zstd", "level": 3},\n' "$zst_bytes"
  printf '    "disk.tar.zst": {"bytes": %d, "format": "gnu-sparse-tar+zstd", "level": 3, "member": "disk.img"},\n' "$tar_bytes"
  printf '    "disk.pax.tar.zst": {"bytes": %d, "format": "pax-sparse-tar+zstd", "level": 3, "member": "disk.img"}\n' "$pax_bytes"
  printf '  },\n'
  printf '  "generation_seconds": %s\n' "$secs"
  printf '}\n'
} >"$TMP/out/info.json"
printf '%s\n' "$STAMP" >"$TMP/out/.stamp"

# --- move into place ---------------------------------------------------------
if [[ -e $OUT ]]; then mv -T -- "$OUT" "$TMP/old"; fi
mv -T -- "$TMP/out" "$OUT"
rm -rf -- "$TMP"
trap - EXIT INT TERM

log "done in ${secs}s: $OUT"
log "  disk.img      apparent $((apparent / MIB)) MiB, allocated $((allocated / MIB)) MiB"
log "  disk.img.zst  $((zst_bytes / MIB)) MiB"
log "  disk.tar.zst  $((tar_bytes / MIB)) MiB"
