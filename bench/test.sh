#!/usr/bin/env bash
# `repro test` against its anchors, in one run (issue 11):
#   pytest     recipes/sortedcontainers.toml (300 tests, Debian's python3-pytest) with a
#              warm build: `repro test --order original` vs the same python3 and pytest
#              from the same pinned test root run bare over the same working tree
#              (bwrap only gives the root a mount namespace: no seccomp, no limits, no
#              plugin, no telemetry)
#   ctest      recipes/cjson.toml (22 tests) with a warm build: `repro test` vs bare
#              ctest in the same build directory and root (bwrap as above); the
#              difference per test
#   telemetry  a generated suite of 10,000 trivial pytest tests over the host toolchain:
#              the mean time to commit one execution (repro's own measure,
#              `recording_ms_per_execution`), repro's peak RSS (GNU time), and the wall
#              time against bare pytest on the host
# Rounds alternate anchor and repro so machine load falls on both; medians are printed.
#
#   bench/test.sh [ROUNDS]          (default 3; the first run fetches the toolchains)
#   REPRO_BENCH_BIN=DIR bench/test.sh   uses DIR/repro (and its repro-sandbox,
#                                       repro-testexec) instead of building one
# Targets: pytest <= 1.10x; ctest <= 5 ms per test; telemetry <= 0.2 ms per execution,
# peak RSS <= 100 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
rounds=${1:-3}
prefix=$(mktemp -d)
work=$(mktemp -d)
export REPRO_HOME=${REPRO_BENCH_HOME:-/tmp/repro-bench-home}
trap 'rm -rf "$prefix" "$work"' EXIT
command -v bwrap >/dev/null || { echo "bench/test.sh: needs bwrap (apt-get install bubblewrap)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench/test.sh: needs GNU time (apt-get install time)" >&2; exit 2; }
bench_bindir "$prefix" repro
repro=$bindir/repro

# Warm: build, test root, one run each; keep the working trees the tests start from.
for r in sortedcontainers cjson; do
  "$repro" lock "recipes/$r.toml" >/dev/null 2>&1 || true
  "$repro" test "recipes/$r.toml" --order original --keep-worktree "$work/$r" --json >"$work/$r.json" 2>"$work/$r.err" || true
  python3 - "$work/$r.json" "$work/$r.err" <<'PY'
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except Exception:
    sys.stderr.write(open(sys.argv[2]).read()); sys.exit("warm-up run failed")
print(f"warm-up {s['recipe']}: {s['tests']} tests, {s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped")
PY
done
# The test root of each recipe: the attestation's configuration names it.
root_of() {
  "$repro" test history "$1" --json | python3 -c '
import json, sys, subprocess, base64
runs = json.load(sys.stdin)
env = runs[0]["attestation"]
path = subprocess.run([sys.argv[1], "store", "path", env], capture_output=True, text=True, check=True).stdout.strip()
payload = json.loads(base64.b64decode(json.loads(open(path).read())["payload"]))
for c in payload["predicate"]["configuration"]:
    if c.get("name") == "test-toolchain" or "toolchain" in (c.get("name") or ""):
        d = (c.get("digest") or {}).get("sha256")
        if d: print(d); break
' "$repro"
}
sc_root=$REPRO_HOME/roots/$(root_of sortedcontainers)
cj_root=$REPRO_HOME/roots/$(root_of cjson)
[ -d "$sc_root/usr/lib/python3/dist-packages/pytest" ] || { echo "bench/test.sh: no pytest in $sc_root" >&2; exit 1; }
[ -x "$cj_root/usr/bin/ctest" ] || { echo "bench/test.sh: no ctest in $cj_root" >&2; exit 1; }

# 10,000 trivial tests over the host toolchain.
mkdir -p "$work/tk/proj/tests"
python3 - "$work/tk/proj/tests" <<'PY'
import sys
for f in range(100):
    with open(f"{sys.argv[1]}/test_f{f}.py", "w") as fh:
        for t in range(100):
            fh.write(f"def test_{t}():\n    pass\n\n")
PY
cat >"$work/tk/tk.toml" <<'EOF'
name = "bench-10k"
[toolchain]
host = true
[inputs.proj]
path = "proj"
[build]
script = "cp -r /build/src/proj $REPRO_OUT/proj"
[test]
framework = "pytest"
directory = "/build/src/proj"
args = ["tests"]
EOF
"$repro" lock "$work/tk/tk.toml" >/dev/null 2>&1
cp -a "$work/tk/proj" "$work/tk-bare"
"$repro" build "$work/tk/tk.toml" >/dev/null 2>&1

python3 - "$rounds" "$repro" "$work" "$sc_root" "$cj_root" <<'PY'
import json, os, re, statistics, subprocess, sys, time
rounds, repro, work, sc_root, cj_root = int(sys.argv[1]), *sys.argv[2:]
def timed(cmd, **kw):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    return time.perf_counter() - t, r
def bwrap(root, tree, cwd, cmd):
    return ["bwrap", "--ro-bind", root, "/", "--bind", tree, "/build", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp", "--chdir", cwd, "--setenv", "HOME", "/build", "--unshare-all"] + cmd
# Fresh copies of the working trees per bare run (repro also starts each run from a fresh copy).
def fresh(name):
    dst = f"{work}/bare-{name}"
    subprocess.run(["rm", "-rf", dst], check=True)
    subprocess.run(["cp", "-a", f"{work}/{name}", dst], check=True)
    return dst
res = {}
for label, root, name, cwd, cmd, recipe in [
    ("pytest", sc_root, "sortedcontainers", "/build/src/sortedcontainers",
     ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], "recipes/sortedcontainers.toml"),
    ("ctest", cj_root, "cjson", "/build/cjson-build", ["ctest", "-Q"], "recipes/cjson.toml"),
]:
    bare, rep, n = [], [], None
    for _ in range(rounds):
        tree = fresh(name)
        t, r = timed(bwrap(root, tree, cwd, cmd))
        bare.append(t)
        t, r = timed([repro, "test", recipe, "--order", "original", "--json"])
        rep.append(t)
        if not r.stdout:
            sys.exit(f"repro test {recipe} printed nothing:\n{r.stderr.decode()[-2000:]}")
        n = json.loads(r.stdout)["tests"]
    res[label] = (statistics.median(bare), statistics.median(rep), n)
# Telemetry: 10,000 executions.
tk = f"{work}/tk/tk.toml"
rec, rss, wall, bare = [], [], [], []
for _ in range(rounds):
    t = time.perf_counter()
    # On a copy: nothing the bare run writes lands in the recipe's input (a stale lock).
    subprocess.run(["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--capture=no", "tests"],
                   cwd=f"{work}/tk-bare", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    bare.append(time.perf_counter() - t)
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", repro, "test", tk, "--order", "original", "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall.append(time.perf_counter() - t)
    if not r.stdout:
        sys.exit(f"repro test {tk} printed nothing:\n{r.stderr[-2000:]}")
    s = json.loads(r.stdout)
    rec.append(s["recording_ms_per_execution"])
    rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024)
# One more run ordered by the model (features of 10,000 tests, the history streamed in).
r = subprocess.run(["/usr/bin/time", "-v", repro, "test", tk, "--order", "model", "--json"],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
if not r.stdout:
    sys.exit(f"repro test {tk} --order model printed nothing:\n{r.stderr[-2000:]}")
model_rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
runs = len(json.loads(subprocess.run([repro, "test", "history", "bench-10k", "--json"], capture_output=True, text=True).stdout))
print(f"{rounds} interleaved rounds, {os.cpu_count()} CPUs, load {open('/proc/loadavg').read().split()[0]}")
b, r, n = res["pytest"]
print(f"pytest  {n} tests: bare {b:.2f} s, repro test {r:.2f} s: {r / b:.2f}x (target <= 1.10x)")
b, r, n = res["ctest"]
print(f"ctest   {n} tests: bare {b * 1000:.0f} ms, repro test {r * 1000:.0f} ms: {(r - b) * 1000 / n:.1f} ms per test over bare (target <= 5 ms)")
print(f"telemetry 10,000 executions: {statistics.median(rec):.3f} ms per execution (target <= 0.2), "
      f"repro peak RSS {statistics.median(rss):.0f} MiB (target <= 100); "
      f"wall {statistics.median(wall):.1f} s vs bare pytest {statistics.median(bare):.1f} s: {statistics.median(wall) / statistics.median(bare):.2f}x")
print(f"          --order model: repro peak RSS {model_rss:.0f} MiB with {runs} runs of the suite in telemetry")
PY
