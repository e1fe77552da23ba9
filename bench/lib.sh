# Sourced by the bench scripts (after `cd` to the repository root).

# bench_install PREFIX: builds and installs repro with scripts/setup into PREFIX, quietly;
# on failure prints setup's log and exits 1.
bench_install() {
  local log="${TMPDIR:-/tmp}/repro-bench-setup.log"
  scripts/setup --no-apt --prefix "$1" 2>"$log" || { cat "$log" >&2; echo "$0: scripts/setup failed (log above)" >&2; exit 1; }
}
