#!/bin/sh
# Benchmark of the Rank module (issues 6 and 16). Prints measured times next to a simple
# anchor doing the same job without the model, the ratio, and the targets:
#   - ordering 10,000 tests with 500 runs of history (synthetic, deterministic, with
#     changed files and an import graph so the change features are computed): <= 50 ms
#   - model update after a run (train on it + absorb it into the feature state): <= 100 ms
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
echo "host: $(nproc) cores, $(uname -sr), load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$scratch/release/rank-bench" --replay "$data" --tests 10000 --runs 500 --repeats 5
echo "the same without change data (the issue 6 setting):"
"$scratch/release/rank-bench" --tests 10000 --runs 500 --repeats 5 --without-changes | head -2
echo "full replay (all strategies scored, model trained run by run):"
start=$(date +%s%N)
"$bin" rank eval --replay "$data" --format retecs >/dev/null
end=$(date +%s%N)
echo "  repro rank eval: $(( (end - start) / 1000000 )) ms wall, including import"
