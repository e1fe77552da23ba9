#!/usr/bin/env bash
# What fault injection costs (issue 15), in one run, interleaved round-robin so that load
# from other processes on this shared machine falls on every variant alike. A small C
# program times its own loop of write(2) calls to /dev/null (ns per call, start-up
# excluded) inside repro-sandbox:
#   no spec        no fault filter at all
#   other family   --fault for recv (the writes are not hooked: only BPF runs)
#   hooked, 0%     --fault "write EIO 0 0 0": every write goes to the supervisor and is
#                  let continue
# Prints medians and the ratios: "other family / no spec" (target: within 5%) and
# "hooked / no spec", the per-call cost of a hooked call at 0% injection.
#
#   bench/faults.sh [ROUNDS] [CALLS]     (default 40 rounds; 200000 unhooked calls and
#                                          20000 hooked calls per run; installs first)
#   REPRO_BENCH_BIN=DIR bench/faults.sh  (use DIR/repro-sandbox as it is; no build)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
rounds=${1:-40}
calls=${2:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_bindir "$work/prefix" repro-sandbox

cat > "$work/calls.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    long n = atol(argv[1]);
    int fd = open("/dev/null", O_WRONLY);
    char b = 'x';
    struct timespec a, z;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        if (write(fd, &b, 1) != 1) return 1;
    clock_gettime(CLOCK_MONOTONIC, &z);
    printf("%.1f\n", ((z.tv_sec - a.tv_sec) * 1e9 + (z.tv_nsec - a.tv_nsec)) / n);
    return 0;
}
C
cc -O2 -o "$work/calls" "$work/calls.c"

python3 - "$rounds" "$calls" "$bindir/repro-sandbox" "$work" <<'PY'
import os, statistics, subprocess, sys
rounds, calls, launcher, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
base = [launcher, "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin", "--dev", "/dev", "--ro-bind", work, "/w"]
variants = {
    "no spec": (base, calls),
    "other family": (base + ["--fault", "recv ECONNRESET 0.5 0 0"], calls),
    "hooked, 0%": (base + ["--fault", "write EIO 0 0 0"], calls // 10),
}
def once(argv, n):
    out = subprocess.run(argv + ["--", "/w/calls", str(n)], capture_output=True, text=True)
    if out.returncode != 0: sys.exit(f"bench/faults.sh: {argv} failed: {out.stderr}")
    return float(out.stdout)
for argv, n in variants.values(): once(argv, n // 10)   # warm-up
samples = {k: [] for k in variants}
for _ in range(rounds):
    for k, (argv, n) in variants.items(): samples[k].append(once(argv, n))
plain = statistics.median(samples["no spec"])
print(f"{rounds} interleaved rounds on {os.cpu_count()} CPUs; write(2) of 1 byte to /dev/null")
print(f"{'variant':<15}{'calls':>8}{'median ns/call':>16}{'p90':>9}{'x no spec':>11}")
for k, s in samples.items():
    s.sort()
    print(f"{k:<15}{variants[k][1]:>8}{statistics.median(s):>16.1f}{s[int(len(s)*0.9)]:>9.1f}{statistics.median(s)/plain:>11.3f}")
hooked = statistics.median(samples["hooked, 0%"])
print(f"unhooked family under a spec: {statistics.median(samples['other family'])/plain:.3f}x no spec (target <= 1.05)")
print(f"hooked call at 0% injection: +{(hooked-plain)/1000:.1f} us per call ({hooked/plain:.0f}x an unhooked call)")
PY
