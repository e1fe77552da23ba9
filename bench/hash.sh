#!/bin/bash
# bench/hash.sh: `repro hash DIR` vs `find | sort | xargs sha256sum` vs `nix-hash --type
# sha256 DIR` (Debian's nix-bin, when installed) on generated trees, interleaved
# round-robin in one run; prints medians, ratios and peak RSS.
#
# Usage: bench/hash.sh [--repro PATH] [--rounds N]
# Env:   LARGE_FILES (2000) LARGE_MB (200)   the tree of larger files
#        SMALL_FILES (20000)                  the tree of small files (0 to skip)
#        BENCH_DIR (/tmp/repro-bench-hash)    where the trees are made (kept between runs)
set -euo pipefail

repro=""
rounds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --repro) repro="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "usage: $0 [--repro PATH] [--rounds N]" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$repro" ]; then
  for c in "$here/.build/release/repro" "$here/.build-store/release/repro" "$(command -v repro || true)"; do
    if [ -n "$c" ] && [ -x "$c" ]; then repro="$c"; break; fi
  done
fi
[ -x "$repro" ] || { echo "no repro binary; build with: swift build -c release" >&2; exit 2; }

large_files=${LARGE_FILES:-2000}
large_mb=${LARGE_MB:-200}
small_files=${SMALL_FILES:-20000}
base=${BENCH_DIR:-/tmp/repro-bench-hash}
mkdir -p "$base"

# Deterministic content: a 1 MiB pseudo-random pool, sliced per file.
make_pool() {
  [ -f "$base/pool" ] || head -c $((1 << 20)) /dev/urandom > "$base/pool"
}

make_tree() { # dir files total_bytes
  local dir=$1 files=$2 total=$3 stamp="$1.done-$2-$3"
  [ -f "$stamp" ] && return
  rm -rf "$dir" "$dir".done-*
  mkdir -p "$dir"
  local per=$(( total / files ))
  python3 - "$dir" "$files" "$per" "$base/pool" <<'PY'
import os, sys
d, n, per, pool = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), open(sys.argv[4], "rb").read()
for i in range(n):
    sub = os.path.join(d, "d%03d" % (i % 100), "e%02d" % (i % 7))
    os.makedirs(sub, exist_ok=True)
    data = bytearray()
    off = (i * 7919) % len(pool)
    while len(data) < per:
        take = pool[off:off + per - len(data)]
        data += take
        off = 0
    data[:8] = i.to_bytes(8, "little")
    with open(os.path.join(sub, "f%06d" % i), "wb") as f:
        f.write(data)
PY
  touch "$stamp"
}

make_pool
trees=("large:$base/large:$large_files:$((large_mb << 20))")
[ "$small_files" -gt 0 ] && trees+=("small:$base/small:$small_files:$((small_files * 2048))")
for t in "${trees[@]}"; do
  IFS=: read -r name dir files bytes <<< "$t"
  echo "making $name tree: $files files, $((bytes >> 20)) MiB in $dir" >&2
  make_tree "$dir" "$files" "$bytes"
done

tools=(repro sha256sum)
have_nix=0
if command -v nix-hash > /dev/null; then tools+=(nix-hash); have_nix=1; fi

run() { # tool dir
  case "$1" in
    repro) "$repro" hash "$2" ;;
    sha256sum) (cd "$2" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) ;;
    nix-hash) nix-hash --type sha256 "$2" ;;
  esac > /dev/null
}

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1e6}'; }
rss() { # tool dir -> peak RSS KiB
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M bash -c "$(declare -f run); repro='$repro'; run $1 '$2'" 2>&1 >/dev/null | tail -1
  else echo "-"; fi
}

echo "repro: $repro; cores: $(nproc); rounds: $rounds (interleaved, after one warm-up each)"
for t in "${trees[@]}"; do
  IFS=: read -r name dir files bytes <<< "$t"
  declare -A times=()
  for tool in "${tools[@]}"; do run "$tool" "$dir"; done  # warm the page cache
  for ((r = 0; r < rounds; r++)); do
    for tool in "${tools[@]}"; do
      s=$(now); run "$tool" "$dir"; e=$(now)
      times[$tool]+="$((e - s)) "
    done
  done
  echo
  echo "tree $name: $files files, $((bytes >> 20)) MiB"
  printf '%-12s %12s %14s %12s\n' tool "median ms" "repro speedup" "peak RSS"
  rmed=$(tr ' ' '\n' <<< "${times[repro]}" | grep . | median)
  for tool in "${tools[@]}"; do
    med=$(tr ' ' '\n' <<< "${times[$tool]}" | grep . | median)
    ratio=$(awk -v a="$med" -v b="$rmed" 'BEGIN {printf "%.2fx", a/b}')
    printf '%-12s %12s %14s %10s KiB\n' "$tool" "$med" "$ratio" "$(rss "$tool" "$dir")"
  done
  unset times
done
[ "$have_nix" = 1 ] || echo "(nix-hash not installed: apt-get install nix-bin to compare)"
