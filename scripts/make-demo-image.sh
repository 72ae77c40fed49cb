#!/usr/bin/env bash
# Regenerates images/demo.img.zst, the small disk the README's main command uses when no image is
# given. Deterministic, so the committed file only changes when this script does.
# Layout (the test guest's init relies on it):
#   sector 0        "BASECOW-MARKER:basecow-demo-v1", NUL-padded: proves a VM reads the shared base
#   1 MiB           zeros: each VM writes its own name here, into its overlay
#   8 MiB           some text data, so the base is not all holes
#   64 MiB          apparent size; everything not listed is a hole
set -euo pipefail
cd "$(dirname "$0")/.."
out=images/demo.img.zst
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
img="$work/demo.img"
truncate -s 64M "$img"
printf 'BASECOW-MARKER:basecow-demo-v1' | dd of="$img" conv=notrunc status=none
seq 1 300000 | dd of="$img" bs=1M seek=8 conv=notrunc status=none
zstd -q -19 --no-progress -f "$img" -o "$work/demo.img.zst"
mv "$work/demo.img.zst" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)" >&2
