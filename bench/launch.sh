#!/usr/bin/env bash
# Sandbox start-up cost, side by side in one run, interleaved round-robin so that load
# from other processes on this (shared) machine falls on every command alike:
#   bare           /usr/bin/true
#   bwrap          Debian's bubblewrap, --unshare-all --die-with-parent, same mounts
#   repro-sandbox  full isolation (user, mount, pid, net, uts, ipc, cgroup namespaces),
#                  read-only root, /proc masking, the default seccomp policy
#   repro run      the CLI: host toolchain view, synthesized /etc, status JSON
#   repro run (AP) the same with REPRO_NO_FAST_PARSE=1: its line parsed by ArgumentParser
#                  instead of the hand-written parser (RunOptions.parseFast)
# Prints median and p90 per command, the ratio of medians to bwrap, and what the
# hand-written parser saves (median of AP minus median of repro run).
#
#   bench/launch.sh [ROUNDS]     (default 300; installs with scripts/setup first)
#   REPRO_BENCH_BIN=DIR bench/launch.sh [ROUNDS]   (use DIR/repro and DIR/repro-sandbox as
#                                                   they are, e.g. /usr/local/bin; no build)
# Targets (issue 2): repro-sandbox <= 1.0x bwrap; repro run -- true <= 2.5x bwrap.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
rounds=${1:-300}
command -v bwrap >/dev/null || { echo "bench/launch.sh: needs bwrap (apt-get install bubblewrap)" >&2; exit 2; }
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
bench_bindir "$prefix" repro repro-sandbox

python3 - "$rounds" "$bindir" <<'PY'
import os, statistics, sys, time
rounds, bindir = int(sys.argv[1]), sys.argv[2]
mounts = ("--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib "
          "--symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp").split()
cmds = {
    "bare": (["/usr/bin/true"], {}),
    "bwrap": (["/usr/bin/bwrap", "--unshare-all", "--die-with-parent", *mounts, "/usr/bin/true"], {}),
    "repro-sandbox": ([f"{bindir}/repro-sandbox", "--die-with-parent", *mounts, "--", "/usr/bin/true"], {}),
    "repro run": ([f"{bindir}/repro", "run", "--", "/usr/bin/true"], {}),
    "repro run (AP)": ([f"{bindir}/repro", "run", "--", "/usr/bin/true"], {"REPRO_NO_FAST_PARSE": "1"}),
}
devnull = os.open(os.devnull, os.O_RDWR)
def once(cmd):
    argv, env = cmd
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    _, st = os.waitpid(pid, 0)
    if st != 0: sys.exit(f"bench/launch.sh: {argv} failed with status {st}")
    return time.perf_counter() - t
for cmd in cmds.values():           # warm-up
    for _ in range(10): once(cmd)
samples = {k: [] for k in cmds}
for _ in range(rounds):
    for k, cmd in cmds.items(): samples[k].append(once(cmd))
base = statistics.median(samples["bwrap"])
print(f"{rounds} interleaved rounds on {os.cpu_count()} CPUs")
print(f"{'command':<15}{'median ms':>10}{'p90 ms':>9}{'x bwrap':>9}")
for k, s in samples.items():
    s.sort()
    print(f"{k:<15}{statistics.median(s)*1e3:>10.2f}{s[int(len(s)*0.9)]*1e3:>9.2f}{statistics.median(s)/base:>9.2f}")
saved = (statistics.median(samples["repro run (AP)"]) - statistics.median(samples["repro run"])) * 1e3
print(f"hand-written repro run parser saves {saved:.2f} ms per start (median AP - median fast)")
PY
