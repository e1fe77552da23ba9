#!/bin/sh
# Benchmark of the Rank module (issue 6). Prints measured times next to a simple anchor
# (the failure-rate heuristic doing the same job without the model) and the targets:
#   - ranking 10,000 tests with 200 runs of history (synthetic, deterministic): <= 50 ms
#   - training on the whole IOF/ROL replay: <= 10 s
# Times are medians of 5 repetitions, in a release build. Nothing is asserted.
#
# usage: bench/rank.sh [RETECS_CSV]   (default: ../shared/data/tcp/iofrol.csv)
set -eu
cd "$(dirname "$0")/.."
data=${1:-../shared/data/tcp/iofrol.csv}
scratch=${REPRO_BENCH_SCRATCH:-.build-rank}
swift build -c release --scratch-path "$scratch" --product repro >/dev/null
swift build -c release --scratch-path "$scratch" --product rank-bench >/dev/null
bin="$scratch/release/repro"
echo "host: $(nproc) cores, $(uname -sr)"
"$scratch/release/rank-bench" --replay "$data" --tests 10000 --runs 200 --repeats 5
echo "full replay (all 9 strategies scored, model trained run by run):"
start=$(date +%s%N)
"$bin" rank eval --replay "$data" --format retecs >/dev/null
end=$(date +%s%N)
echo "  repro rank eval: $(( (end - start) / 1000000 )) ms wall, including import"
