#!/usr/bin/env bash
# What storing many output files costs: a build step that writes FILES files of 2 KiB
# (fresh random bytes each round, so every blob is new to the store), run bare on the
# host vs as `repro build --no-cache` of a host-toolchain recipe (sandbox, hashing and
# copying every file into the store, manifest, provenance, SBOMs, removal of the work
# directory), interleaved; prints medians and repro's overhead per file.
#
#   bench/outputs.sh [ROUNDS]     (default 3)      Env: FILES (20000)
# `REPRO_BENCH_BIN=DIR` measures DIR/repro instead of building with scripts/setup.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
rounds=${1:-3}
files=${FILES:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_bindir "$work/prefix" repro
repro=$bindir/repro
export REPRO_HOME=$work/store

step="python3 -c \"
import os
out = os.environ['REPRO_OUT']
for i in range($files):
    d = os.path.join(out, 'd%03d' % (i % 100))
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, 'f%06d' % i), 'wb').write(os.urandom(2048))
\""
mkdir -p "$work/recipe"
cat > "$work/recipe/outputs.toml" <<EOF
name = "outputs"
[toolchain]
host = true
[build]
script = '''
$step
'''
EOF
"$repro" lock "$work/recipe/outputs.toml" >/dev/null 2>&1

python3 - "$rounds" "$repro" "$work" "$step" "$files" <<'PY'
import os, shutil, statistics, subprocess, sys, tempfile, time
rounds, repro, work, step, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t
def bare():
    d = tempfile.mkdtemp(prefix="bare-outputs-", dir=work)
    try:
        subprocess.run(["sh", "-c", step], env=dict(os.environ, REPRO_OUT=d), check=True)
    finally:
        shutil.rmtree(d)
def build():
    subprocess.run([repro, "build", work + "/recipe/outputs.toml", "--no-cache"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
b, r = [], []
for _ in range(rounds):
    b.append(timed(bare)); r.append(timed(build))
mb, mr = statistics.median(b), statistics.median(r)
print(f"{rounds} interleaved rounds, {os.cpu_count()} CPUs, {files} output files of 2 KiB")
print(f"{'bare (write + rm -r)':<24}{mb:>8.2f} s")
print(f"{'repro build --no-cache':<24}{mr:>8.2f} s   {mr / mb:.2f}x bare, {1e6 * (mr - mb) / files:.0f} us more per file")
PY
