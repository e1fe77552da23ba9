#!/usr/bin/env bash
# What `repro diff` costs, on trees and packages made from this host's /usr/include
# (thousands of small text files):
#   same         a tree against an identical copy (hash both sides, nothing to compare)
#   ten changed  the same with 10 headers edited (10 unified diffs)
#   manifest     the edited tree against the original's manifest (digests only)
#   deb          two .deb packages (xz) of the trees: opened, data.tar.xz opened, the
#                10 members diffed
# Best of ROUNDS wall-clock runs, in seconds. Numbers go to docs/reproducibility.md
# ("Reading a diff").
#
#   bench/diff.sh [ROUNDS]       (default 3; REPRO=path/to/repro to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
rounds=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "${REPRO:-}" ]; then
  bench_install "$work/prefix"
  REPRO=$work/prefix/bin/repro
fi

mkdir -p "$work/a/usr" "$work/b/usr"
cp -a /usr/include "$work/a/usr/include"
cp -a /usr/include "$work/b/usr/include"
find "$work/b/usr/include" -name '*.h' -type f | LC_ALL=C sort > "$work/headers"
head -n 10 "$work/headers" | while IFS= read -r f; do sed -i '1s/^/\/* changed *\/\n/' "$f"; done
"$REPRO" hash "$work/a" --manifest > "$work/a.manifest"
for side in a b; do
  mkdir -p "$work/$side/DEBIAN"
  printf 'Package: bench\nVersion: 1\nArchitecture: all\nMaintainer: bench <b@example.invalid>\nDescription: bench\n' > "$work/$side/DEBIAN/control"
  find "$work/$side" -exec touch -h -d @1700000000 {} +
  SOURCE_DATE_EPOCH=1700000000 dpkg-deb --root-owner-group -Zxz --build "$work/$side" "$work/$side.deb" >/dev/null
  rm -rf "$work/$side/DEBIAN"
done
cp -a "$work/a" "$work/a2"

files=$(find "$work/a" -type f | wc -l)
bytes=$(du -sb "$work/a" | cut -f1)
echo "tree: $files files, $bytes bytes; debs: $(stat -c %s "$work/a.deb") bytes each"

best() {
  local best=999999 t0 t1 ms
  for _ in $(seq "$rounds"); do
    t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 )); (( ms < best )) && best=$ms
  done
  printf '%d.%03d' $(( best / 1000 )) $(( best % 1000 ))
}
echo "same:         $(best "$REPRO" diff "$work/a" "$work/a2") s"
echo "ten changed:  $(best "$REPRO" diff "$work/a" "$work/b") s"
echo "manifest:     $(best "$REPRO" diff "$work/a.manifest" "$work/b") s"
echo "deb:          $(best "$REPRO" diff "$work/a.deb" "$work/b.deb") s"
"$REPRO" diff "$work/a.deb" "$work/b.deb" --json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print("deb differences:", d["summary"])'
