#!/usr/bin/env bash
# A real recipe built in the sandbox vs the same commands run bare on the host, and the
# cost of a cache hit, in one run:
#   bare         GNU hello's upstream tarball unpacked in /tmp and the recipe's script
#                (configure, make -j2, make install) run with the host's gcc and make
#   repro build  `repro build --no-cache recipes/hello.toml`: stage the inputs, start the
#                sandbox over the pinned Debian root, run the script, hash and store /out
#   cache hit    `repro build recipes/hello.toml` with the result in the action cache
# Rounds alternate bare and repro so machine load falls on both; medians are printed.
#
#   bench/build.sh [ROUNDS]       (default 3; the first run fetches the toolchain)
# Targets (issue 3): overhead <= 5%; a cache hit <= 100 ms wall.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
rounds=${1:-3}
prefix=$(mktemp -d)
export REPRO_HOME=${REPRO_BENCH_HOME:-/tmp/repro-bench-home}
trap 'rm -rf "$prefix"' EXIT
bench_install "$prefix"
repro=$prefix/bin/repro
"$repro" build recipes/hello.toml >/dev/null 2>&1   # fetch, assemble the root, warm the cache

orig=$(python3 -c "import json; l=json.load(open('recipes/hello.lock')); print(next(f['sha256'] for f in l['inputs']['hello']['files'] if f['name'].endswith('.orig.tar.gz')))")
tarball=$("$repro" store path "sha256:$orig")

python3 - "$rounds" "$repro" "$tarball" <<'PY'
import os, shutil, statistics, subprocess, sys, tempfile, time
rounds, repro, tarball = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t
def bare():
    d = tempfile.mkdtemp(prefix="bare-hello-")
    try:
        subprocess.run(["tar", "-xzf", tarball, "--strip-components=1", "-C", d], check=True)
        env = dict(os.environ, REPRO_OUT=d + "/out", REPRO_JOBS="2", SOURCE_DATE_EPOCH="0")
        script = './configure --prefix=/usr && make -j"$REPRO_JOBS" && make install DESTDIR="$REPRO_OUT"'
        subprocess.run(["sh", "-c", script], cwd=d, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        shutil.rmtree(d)
def build(*extra):
    subprocess.run([repro, "build", "recipes/hello.toml", *extra], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
b, r = [], []
for _ in range(rounds):
    b.append(timed(bare)); r.append(timed(lambda: build("--no-cache")))
hits = [timed(build) for _ in range(20)]
mb, mr, mh = statistics.median(b), statistics.median(r), statistics.median(hits)
print(f"{rounds} interleaved rounds, {os.cpu_count()} CPUs")
print(f"{'bare (host gcc)':<22}{mb:>9.2f} s")
print(f"{'repro build --no-cache':<22}{mr:>9.2f} s   overhead {100 * (mr / mb - 1):+.1f}%")
print(f"{'repro build (cache hit)':<22}{mh * 1000:>9.1f} ms  (median of 20)")
PY
