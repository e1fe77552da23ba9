#!/usr/bin/env bash
# What `repro verify` costs, in one run:
#   unrepro        the deliberately unreproducible test recipe (host toolchain): verify,
#                  then verify --find-culprit (number of extra builds printed)
#   hello          `repro verify recipes/hello.toml --variations all` (2 builds, the
#                  Debian toolchain; the first round fetches it into a fresh store)
#   hello-none     the same with --variations none, to see what the varied build adds
# Numbers go to docs/reproducibility.md ("Measured here").
#
#   bench/verify.sh [ROUNDS]       (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
rounds=${1:-1}
prefix=$(mktemp -d)
export REPRO_HOME=${REPRO_BENCH_HOME:-/tmp/repro-bench-home}
trap 'rm -rf "$prefix"' EXIT
bench_install "$prefix"
repro=$prefix/bin/repro
cp -r Tests/VerifyTests/Fixtures/Unrepro "$prefix/unrepro"
"$repro" lock "$prefix/unrepro/unrepro.toml" >/dev/null

seconds() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); printf '%d.%02d' $(( (t1 - t0) / 1000000000 )) $(( (t1 - t0) / 10000000 % 100 )); }
for i in $(seq "$rounds"); do
  echo "round $i"
  echo "  unrepro verify:               $(seconds "$repro" verify "$prefix/unrepro/unrepro.toml") s"
  builds=$("$repro" verify "$prefix/unrepro/unrepro.toml" --find-culprit --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["culprits"]["builds"])' || true)
  echo "  unrepro verify --find-culprit: $(seconds "$repro" verify "$prefix/unrepro/unrepro.toml" --find-culprit) s ($builds extra builds)"
  echo "  hello --variations all:       $(seconds "$repro" verify recipes/hello.toml --variations all) s"
  echo "  hello --variations none:      $(seconds "$repro" verify recipes/hello.toml --variations none) s"
done
