#!/usr/bin/env bash
# The remote cache against BuildGrid on loopback (docs/remote.md), ratios in one run:
#   1. hello as a remote cache hit (download and restore into an empty store) vs a local
#      cache hit of the same build; target: <= 300 ms more
#   2. a 500 MB tree of mixed file sizes: `repro store push` (upload) and `repro store
#      pull` into an empty store (download), vs `cp -a` of the same tree and vs
#      BuildGrid's own client library (bench/bgd_tree.py: upload_directory and
#      download_directory, against the second BuildGrid server, the same configuration
#      with its own empty disk CAS);
#      target >= 200 MB/s
#
#   bench/remote.sh [ROUNDS]     (default 5; installs with scripts/setup --remote first)
#   REPRO_BENCH_BIN=DIR bench/remote.sh   (use DIR/repro and DIR/repro-remote as they are)
# Starts its own PostgreSQL + BuildGrid with scripts/services (state in a temporary
# folder, ports 541xx/501xx) and stops them on exit; needs `scripts/services install`.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
rounds=${1:-5}
work=$(mktemp -d)
chmod 755 "$work"   # the postgres user must reach its cluster below it
export REPRO_SERVICES_DIR=$work/services REPRO_PG_PORT=54191 REPRO_CACHE_PORT=50191 REPRO_EXEC_PORT=50192
cleanup() { scripts/services stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bench_bindir "$work/prefix" --remote repro repro-remote
repro=$bindir/repro
scripts/services start
remote=grpc://127.0.0.1:$REPRO_CACHE_PORT
ms() { python3 -c 'import sys,time; print(int(time.time()*1000))'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# 1. hello: build once (uploads), then local hits vs remote hits into empty stores.
export REPRO_SIGNING_KEY=$work/keys/signing.pem
"$repro" key generate --out "$work/keys" >/dev/null 2>&1
REPRO_HOME=$work/a "$repro" build recipes/hello.toml --remote "$remote" --instance main >/dev/null 2>&1
local_ms=() remote_ms=()
for i in $(seq 1 "$rounds"); do
  rm -rf "$work/out-l" "$work/out-r" "$work/b"
  t=$(ms); REPRO_HOME=$work/a "$repro" build recipes/hello.toml --out "$work/out-l" >/dev/null 2>&1; local_ms+=($(( $(ms) - t )))
  t=$(ms); REPRO_HOME=$work/b "$repro" build recipes/hello.toml --remote "$remote" --instance main --remote-required \
    --out "$work/out-r" >/dev/null 2>&1; remote_ms+=($(( $(ms) - t )))
  cmp -s <("$repro" hash "$work/out-l") <("$repro" hash "$work/out-r") || { echo "bench/remote.sh: outputs differ" >&2; exit 1; }
done
l=$(printf '%s\n' "${local_ms[@]}" | median) r=$(printf '%s\n' "${remote_ms[@]}" | median)
echo "hello, $rounds rounds (median ms): local cache hit $l, remote cache hit into an empty store $r, difference $((r - l)) ms (target <= 300)"

# 2. A 500 MB tree of mixed sizes: 2000 x 16 KiB, 400 x 256 KiB, 60 x 4 MiB, 4 x 32 MiB.
cat >"$work/tree.toml" <<'TOML'
name = "tree"
[toolchain]
host = true
[build]
script = '''
r() { head -c "$2" /dev/urandom > "$REPRO_OUT/$1"; }
mkdir -p $REPRO_OUT/s $REPRO_OUT/m $REPRO_OUT/l $REPRO_OUT/xl
for i in $(seq 1 2000); do r s/$i 16384; done
for i in $(seq 1 400); do r m/$i 262144; done
for i in $(seq 1 60); do r l/$i 4194304; done
for i in $(seq 1 4); do r xl/$i 33554432; done
'''
TOML
REPRO_HOME=$work/a "$repro" lock "$work/tree.toml" >/dev/null 2>"$work/tree.log" || { cat "$work/tree.log" >&2; exit 1; }
tree=$(REPRO_HOME=$work/a "$repro" build "$work/tree.toml" --out "$work/tree-out" 2>"$work/tree.log") || { cat "$work/tree.log" >&2; exit 1; }
bytes=$(du -sb --apparent-size "$work/tree-out" | cut -f1)
sync
t=$(ms); cp -a "$work/tree-out" "$work/tree-copy"; sync; cp_ms=$(( $(ms) - t ))
# The server's CPU time during the push (utime + stime of the BuildGrid process, in ticks).
server_cpu() { awk '{print $14 + $15}' "/proc/$(cat "$REPRO_SERVICES_DIR/cache.pid")/stat"; }
c0=$(server_cpu)
t=$(ms); REPRO_HOME=$work/a "$repro" store push --remote "$remote" --instance main "$tree" >/dev/null; up_ms=$(( $(ms) - t ))
up_server_ms=$(( ($(server_cpu) - c0) * 1000 / $(getconf CLK_TCK) ))
t=$(ms); REPRO_HOME=$work/c "$repro" store pull --remote "$remote" --instance main "$tree" >/dev/null; down_ms=$(( $(ms) - t ))
# BuildGrid's own client library, same tree, the other server (an empty CAS of its own):
# bench/bgd_tree.py says why its batch limit is lowered.
venv=${REPRO_BUILDGRID_VENV:-/opt/repro-buildgrid}
"$venv/bin/python" bench/bgd_tree.py "http://127.0.0.1:$REPRO_EXEC_PORT" main "$work/tree-out" "$work/bgd-down" >"$work/bgd.json" 2>"$work/bgd.log" \
  || { echo "bench/remote.sh: BuildGrid's client failed:" >&2; cat "$work/bgd.log" >&2; exit 1; }
diff -rq "$work/tree-out" "$work/bgd-down" >/dev/null || { echo "bench/remote.sh: BuildGrid's download differs from the tree" >&2; exit 1; }
bup_ms=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["upload_ms"])' "$work/bgd.json")
bdown_ms=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["download_ms"])' "$work/bgd.json")
python3 - "$bytes" "$cp_ms" "$up_ms" "$down_ms" "$bup_ms" "$bdown_ms" "$up_server_ms" <<'PY'
import os, sys
b, cp, up, down, bup, bdown, upcpu = (int(x) for x in sys.argv[1:])
mbs = lambda ms: b / 1e6 / (ms / 1e3)
print(f"tree of {b/1e6:.0f} MB: cp -a {cp} ms ({mbs(cp):.0f} MB/s)")
print(f"  upload:   repro store push {up} ms ({mbs(up):.0f} MB/s), BuildGrid's client {bup} ms ({mbs(bup):.0f} MB/s): {up/bup:.2f}x bgd, {up/cp:.2f}x cp")
print(f"  download: repro store pull {down} ms ({mbs(down):.0f} MB/s), BuildGrid's client {bdown} ms ({mbs(bdown):.0f} MB/s): {down/bdown:.2f}x bgd, {down/cp:.2f}x cp")
print(f"  BuildGrid's own CPU during the push: {upcpu} ms ({upcpu / up:.2f} of {os.cpu_count()} cores): at most "
      f"{b / 1e6 / (upcpu / 1e3 / os.cpu_count()):.0f} MB/s on this machine if the server had every core")
print("  target >= 200 MB/s each way")
PY
