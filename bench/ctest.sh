#!/usr/bin/env bash
# What running a ctest suite through repro costs per test (issue 11: the per-test overhead
# of `repro test` over bare ctest on the same build directory, target <= 5 ms). One CMake
# project with N trivial tests (each its own tiny executable run), built on the host; in
# each round, interleaved so that load from other processes falls on every variant alike:
#   ctest          bare `ctest` in the host's build directory (the anchor)
#   testexec       repro-testexec running the same N commands on the host (no sandbox)
#   repro test     `repro test` on a recipe over the host toolchain with the same project
#                  (a warm build: cache hit), everything included: listing in the sandbox,
#                  ordering, the run through repro-testexec, SQLite telemetry, signing
# Prints medians, the ratios to ctest, and (repro test - ctest) / N in ms per test.
#
#   bench/ctest.sh [N] [ROUNDS]          (default 300 tests, 7 rounds; installs first)
#   REPRO_BENCH_BIN=DIR bench/ctest.sh   (use DIR/repro, repro-sandbox, repro-testexec)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
n=${1:-300}
rounds=${2:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_bindir "$work/prefix" repro repro-sandbox repro-testexec
command -v cmake >/dev/null || { echo "bench/ctest.sh: needs cmake (apt-get install cmake)" >&2; exit 2; }

mkdir -p "$work/r/proj"
cat > "$work/r/proj/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.19)
project(bench C)
enable_testing()
add_executable(t t.c)
foreach(i RANGE 1 $n)
  add_test(NAME t\${i} COMMAND t \${i})
endforeach()
CM
echo 'int main(int argc, char **argv) { return argc < 2; }' > "$work/r/proj/t.c"
cmake -S "$work/r/proj" -B "$work/b" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/b" >/dev/null

# The same N commands as a testexec plan (NUL-separated KEY VALUE pairs, docs/testing.md).
{
  printf '%s\0' repro-testexec-plan 1
  for i in $(seq 1 "$n"); do printf '%s\0' test "t$i" cwd "$work/b" arg "$work/b/t" arg "$i"; done
} > "$work/plan"

cat > "$work/r/bench.toml" <<TOML
name = "ctest-bench"
[toolchain]
host = true
[inputs.proj]
path = "proj"
[build]
script = """
cmake -S /build/src/proj -B /build/b -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build /build/b >/dev/null
cp /build/b/t \$REPRO_OUT/t
"""
[test]
framework = "ctest"
directory = "/build/b"
TOML
export HOME=$work/home XDG_CONFIG_HOME=$work/config REPRO_HOME=$work/store REPRO_TESTEXEC=$bindir/repro-testexec
"$bindir/repro" lock "$work/r/bench.toml" >/dev/null 2>&1
"$bindir/repro" build "$work/r/bench.toml" >/dev/null 2>&1
"$bindir/repro" test "$work/r/bench.toml" --order original >/dev/null 2>&1 || {
  echo "bench/ctest.sh: repro test failed:" >&2; "$bindir/repro" test "$work/r/bench.toml" --order original >&2; exit 1; }

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }
: > "$work/ctest"; : > "$work/testexec"; : > "$work/repro"
for r in $(seq 1 "$rounds"); do
  (cd "$work/b" && ms ctest) >> "$work/ctest"
  rm -rf "$work/run"; mkdir -p "$work/run"
  REPRO_TEST_DIR=$work/run ms "$bindir/repro-testexec" "$work/plan" >> "$work/testexec"
  ms "$bindir/repro" test "$work/r/bench.toml" --order original >> "$work/repro"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
c=$(median "$work/ctest"); t=$(median "$work/testexec"); p=$(median "$work/repro")
awk -v c="$c" -v t="$t" -v p="$p" -v n="$n" -v r="$rounds" 'BEGIN {
  printf "%d tests, %d rounds (medians)\n", n, r
  printf "  ctest       %8.1f ms\n", c / 1000
  printf "  testexec    %8.1f ms   %.2fx ctest\n", t / 1000, t / c
  printf "  repro test  %8.1f ms   %.2fx ctest\n", p / 1000, p / c
  printf "repro test - ctest: %.2f ms per test (target <= 5)\n", (p - c) / 1000 / n
}'
