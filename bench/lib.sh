# Sourced by the bench scripts (after `cd` to the repository root).

# bench_install PREFIX: builds and installs repro with scripts/setup into PREFIX, quietly;
# on failure prints setup's log and exits 1.
# More arguments go to scripts/setup (e.g. --remote).
bench_install() {
  local log="${TMPDIR:-/tmp}/repro-bench-setup.log"
  local prefix=$1; shift
  scripts/setup --no-apt "$@" --prefix "$prefix" 2>"$log" || { cat "$log" >&2; echo "$0: scripts/setup failed (log above)" >&2; exit 1; }
}

# bench_bindir PREFIX [--remote] BIN...: sets `bindir` to $REPRO_BENCH_BIN when it is set
# (the binaries are measured as they are), else installs into PREFIX with scripts/setup
# (with --remote, also repro-remote) and uses PREFIX/bin; exits 2 naming the first BIN
# that is not an executable there.
bench_bindir() {
  local prefix=$1; shift
  local setup_args=()
  if [ "${1:-}" = --remote ]; then setup_args=(--remote); shift; fi
  if [ -n "${REPRO_BENCH_BIN:-}" ]; then
    bindir=$REPRO_BENCH_BIN
  else
    bench_install "$prefix" "${setup_args[@]}"
    bindir=$prefix/bin
  fi
  local b
  for b in "$@"; do
    [ -x "$bindir/$b" ] || { echo "$0: $bindir/$b is not an executable" >&2; exit 2; }
  done
}
