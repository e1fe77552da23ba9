#!/usr/bin/env python3
"""Build a test-prioritization history with change data from a Python project's
consecutive release sdists (see README.md in this folder).

For each release after the first (the first is only the baseline tree):
  1. unpack the sdist; changed_files = files whose content differs from the previous
     release's tree (added and removed files included);
  2. a seeded coin (per release, drawn before any test runs) decides whether 1-3
     mutation faults go into ONE changed library module; each mutation is kept only if,
     applied alone, it makes at least one test fail that passes on the pristine release;
  3. run the real pytest suite and write one JSON line per test execution.

Nothing here looks at a ranking model or heuristic: the only signal used to choose a
fault is whether some test fails with it.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

# --------------------------------------------------------------------------- sdists

def _sdist_of(dest: Path, pkg: str, version: str) -> Path | None:
    # newer sdists are named with the normalized project name (PEP 625: more_itertools-...)
    # (an exact name: a prefix test would take 2.4.1's sdist for 2.4 once both are here)
    stems = {f"{pkg.lower()}-{version}", f"{re.sub(r'[-_.]+', '_', pkg.lower())}-{version}"}
    names = {st + ext for st in stems for ext in (".tar.gz", ".zip")}
    for f in sorted(dest.iterdir()):
        if f.name.lower() in names:
            return f
    return None


def download(python: str, pkg: str, version: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    f = _sdist_of(dest, pkg, version)
    if f is not None:
        return f
    cmd = [python, "-m", "pip", "download", f"{pkg}=={version}", "--no-deps",
           "--no-binary", ":all:", "-d", str(dest), "-q"]
    if subprocess.run(cmd).returncode != 0:
        # pip prepares an sdist's metadata in an isolated build env; a setup.py that imports
        # its own package can find the build backend's vendored copy there instead (a newer
        # setuptools puts more_itertools on sys.path) and report the wrong version. Retry with
        # the interpreter's own setuptools and wheel (README).
        subprocess.run(cmd + ["--no-build-isolation"], check=True)
    f = _sdist_of(dest, pkg, version)
    if f is not None:
        return f
    sys.exit(f"make_history: no sdist of {pkg}=={version} in {dest}")


def unpack(sdist: Path, dest: Path) -> None:
    """Unpack into dest, dropping the sdist's single top-level directory."""
    if dest.exists():
        shutil.rmtree(dest)
    tmp = dest.with_name(dest.name + ".unpack")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as z:
            z.extractall(tmp)
    else:
        with tarfile.open(sdist) as t:
            t.extractall(tmp, filter="data")
    tops = list(tmp.iterdir())
    if len(tops) != 1 or not tops[0].is_dir():
        sys.exit(f"make_history: {sdist}: expected one top-level directory")
    tops[0].rename(dest)
    tmp.rmdir()


def tree_hashes(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            data = os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
            out[rel] = hashlib.sha256(data).hexdigest()
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

# ------------------------------------------------------------------ library modules

TEST_DIRS = {"tests", "test", "testing"}
NON_LIBRARY_TOP = TEST_DIRS | {"docs", "doc", "examples", "example", "scripts", "benchmarks", "bench", "tools"}


def is_library_module(rel: str, tree: Path) -> bool:
    """A .py file inside an import package of the project, not a test file."""
    parts = rel.split("/")
    if not rel.endswith(".py") or len(parts) < 2:
        return False  # top-level files (setup.py, conftest.py, noxfile.py) are not library code
    if parts[0] in NON_LIBRARY_TOP or any(p in TEST_DIRS for p in parts[:-1]):
        return False
    base = parts[-1]
    if base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py":
        return False
    pkg_dir = tree / Path(*parts[:-1])
    return (pkg_dir / "__init__.py").exists()

# ------------------------------------------------------------------------ mutations

FLIP_CMP = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
            ast.In: ast.NotIn, ast.NotIn: ast.In}
CMP_TEXT = {ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Eq: "==",
            ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}


def _in_fstring_or_annotation(tree: ast.AST) -> set[int]:
    """ids of nodes whose source positions are unreliable (inside f-strings on 3.11) or
    that sit in annotations (no behaviour to break)."""
    skip: set[int] = set()

    def mark(n: ast.AST) -> None:
        for d in ast.walk(n):
            skip.add(id(d))
    for n in ast.walk(tree):
        if isinstance(n, ast.JoinedStr):
            mark(n)
        if isinstance(n, ast.arg) and n.annotation is not None:
            mark(n.annotation)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.returns is not None:
            mark(n.returns)
        if isinstance(n, ast.AnnAssign):
            mark(n.annotation)
    return skip


def mutation_sites(src: str) -> list[dict]:
    """Every candidate mutation of a module, in a stable order. A site is a text edit:
    replace bytes [start, end) of a line range with new text (expression sites) or
    insert a line (early return)."""
    tree = ast.parse(src)
    skip = _in_fstring_or_annotation(tree)
    sites = []

    def expr_site(kind, node, new_node, desc):
        sites.append({"kind": kind, "line": node.lineno, "col": node.col_offset,
                      "end_line": node.end_lineno, "end_col": node.end_col_offset,
                      "new": "(" + ast.unparse(new_node) + ")", "desc": desc})

    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in FLIP_CMP:
                    new = ast.Compare(left=node.left, comparators=node.comparators,
                                      ops=[FLIP_CMP[type(o)]() if j == i else o for j, o in enumerate(node.ops)])
                    expr_site("flip-comparison", node, new,
                              f"{CMP_TEXT[type(op)]} -> {CMP_TEXT[FLIP_CMP[type(op)]]}")
        elif isinstance(node, ast.BoolOp):
            new = ast.BoolOp(op=ast.Or() if isinstance(node.op, ast.And) else ast.And(), values=node.values)
            expr_site("flip-boolean", node, new,
                      "and -> or" if isinstance(node.op, ast.And) else "or -> and")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            new = ast.BinOp(left=node.left, right=node.right,
                            op=ast.Sub() if isinstance(node.op, ast.Add) else ast.Add())
            expr_site("flip-arithmetic", node, new, "+ -> -" if isinstance(node.op, ast.Add) else "- -> +")
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            expr_site("change-constant", node, ast.Constant(not node.value), f"{node.value} -> {not node.value}")
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            expr_site("change-constant", node, ast.Constant(node.value + 1), f"{node.value} -> {node.value + 1}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            has_doc = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                       and isinstance(body[0].value.value, str))
            if has_doc and len(body) == 1:
                continue
            target = body[1] if has_doc else body[0]
            first_line = min([target.lineno] + [d.lineno for d in getattr(target, "decorator_list", [])])
            if first_line == node.lineno:
                continue  # one-line def
            sites.append({"kind": "early-return", "line": first_line, "col": target.col_offset,
                          "end_line": first_line, "end_col": target.col_offset,
                          "insert_line": True, "new": "return None",
                          "desc": f"return None at the top of {node.name}()"})
    sites.sort(key=lambda s: (s["line"], s["col"], s["end_line"], s["end_col"], s["kind"], s["desc"]))
    return sites


FAMILIES = {"flip-comparison": "operator", "flip-boolean": "operator", "flip-arithmetic": "operator",
            "change-constant": "constant", "early-return": "early-return"}


def trial_order(sites: list[dict], rng: random.Random) -> list[dict]:
    """The order in which sites are tried: each time a family (operator flip, constant
    change, early return) uniformly among those with sites left, then a site of it
    uniformly, so that the many small methods do not make early returns dominate."""
    groups: dict[str, list[dict]] = {}
    for s in sites:
        groups.setdefault(FAMILIES[s["kind"]], []).append(s)
    order = []
    while groups:
        fam = rng.choice(sorted(groups))
        g = groups[fam]
        order.append(g.pop(rng.randrange(len(g))))
        if not g:
            del groups[fam]
    return order


def apply_sites(src: str, sites: list[dict]) -> str:
    """Apply non-overlapping sites (positions are utf-8 byte columns, as ast gives them)."""
    lines = src.encode().split(b"\n")
    for s in sorted(sites, key=lambda s: (s["line"], s["col"]), reverse=True):
        if s.get("insert_line"):
            lines.insert(s["line"] - 1, b" " * s["col"] + s["new"].encode())
            continue
        a, b = s["line"] - 1, s["end_line"] - 1
        head = lines[a][:s["col"]]
        tail = lines[b][s["end_col"]:]
        lines[a:b + 1] = [head + s["new"].encode() + tail]
    return b"\n".join(lines).decode()


def overlaps(s: dict, t: dict) -> bool:
    """Conservative: two sites conflict when their line ranges meet."""
    return s["line"] <= t["end_line"] and t["line"] <= s["end_line"]


def compiles(src: str) -> bool:
    try:
        compile(src, "<mutant>", "exec")
        return True
    except (SyntaxError, ValueError):
        return False

# ------------------------------------------------------------------------- running

RECORDER = '''
"""pytest plugin: record each test's verdict and duration in collection order."""
import json, os
_order, _res, _collect_errors = [], {}, []

def pytest_collection_modifyitems(session, config, items):
    _order[:] = [it.nodeid for it in items]

def pytest_collectreport(report):
    if report.failed:
        _collect_errors.append(report.nodeid)

def pytest_runtest_logreport(report):
    r = _res.setdefault(report.nodeid, {"setup": None, "call": None, "teardown": None,
                                        "dur": 0.0, "sub_failed": False, "timeout": False})
    if type(report).__name__ == "SubtestReport" or getattr(report, "context", None) is not None:
        if report.failed:
            r["sub_failed"] = True
        return
    r[report.when] = report.outcome
    r["dur"] += report.duration
    if report.failed and "Timeout" in str(report.longrepr):
        r["timeout"] = True

def pytest_sessionfinish(session, exitstatus):
    out = []
    for nid in _collect_errors:
        out.append({"test": nid, "verdict": "error", "duration": 0.0, "collect_error": True})
    for nid in _order:
        r = _res.get(nid)
        if r is None:
            continue  # not run (deselected / interrupted)
        if r["setup"] == "failed":
            v = "error"
        elif r["call"] == "failed" or r["sub_failed"]:
            v = "fail"
        elif r["teardown"] == "failed":
            v = "error"
        elif r["setup"] == "skipped" or r["call"] == "skipped":
            v = "skip"
        else:
            v = "pass"
        out.append({"test": nid, "verdict": v, "duration": r["dur"], "timeout": r["timeout"]})
    with open(os.environ["TCP_RECORD_OUT"], "w") as f:
        json.dump({"exitstatus": int(exitstatus), "results": out}, f)
'''


def run_suite(python: str, tree: Path, support: Path, out_json: Path, timeout: int,
              junit: Path | None, total_timeout: int) -> dict | None:
    """Run the release's pytest suite in tree; None if the whole run exceeded total_timeout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}
    src = tree / "src"
    paths = [str(support), str(src if src.is_dir() else tree)]
    env.update({"PYTHONPATH": os.pathsep.join(paths), "PYTHONHASHSEED": "0",
                "PYTHONDONTWRITEBYTECODE": "1", "TZ": "UTC", "TCP_RECORD_OUT": str(out_json)})
    cmd = [python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "_tcp_recorder",
           f"--timeout={timeout}", "-q", "--continue-on-collection-errors",
           f"--basetemp={tree.parent / (tree.name + '.pytest-tmp')}"]
    if junit is not None:
        cmd.append(f"--junitxml={junit}")
    if out_json.exists():
        out_json.unlink()
    try:
        subprocess.run(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=total_timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        shutil.rmtree(tree.parent / (tree.name + ".pytest-tmp"), ignore_errors=True)
    if not out_json.exists():
        sys.exit(f"make_history: pytest wrote no results in {tree} (command: {' '.join(cmd)})")
    return json.loads(out_json.read_text())


def write_support(work: Path, pkg: str, version: str) -> Path:
    """A directory on PYTHONPATH with the recorder plugin and minimal installed-package
    metadata, so importlib.metadata.version(pkg) works as it would after an install."""
    support = work / "support" / version
    if support.exists():
        shutil.rmtree(support)
    di = support / f"{pkg}-{version}.dist-info"
    di.mkdir(parents=True)
    (di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {pkg}\nVersion: {version}\n")
    (support / "_tcp_recorder.py").write_text(RECORDER)
    return support


def junit_count(path: Path) -> int:
    return sum(1 for _ in ET.parse(path).getroot().iter("testcase"))

# ---------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", required=True)
    ap.add_argument("--versions", required=True,
                    help="comma-separated versions in release order, or @FILE (one a line, # comments); "
                         "the first is the baseline tree only")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True, type=Path, help="the .jsonl history to write")
    ap.add_argument("--faults", type=Path, help="sidecar with the injected mutations (default OUT-faults.json)")
    ap.add_argument("--work", type=Path, help="work directory (default /tmp/tcp-history-PKG)")
    ap.add_argument("--python", default=sys.executable, help="interpreter with pytest and pytest-timeout")
    ap.add_argument("--fault-share", type=float, default=0.5)
    ap.add_argument("--max-attempts", type=int, default=40, help="sites tried per faulty release")
    ap.add_argument("--timeout", type=int, default=30, help="per-test timeout of the recorded run (s)")
    ap.add_argument("--repro", help="repro binary: also write the import graph of all release trees "
                                    "(repro rank imports, union) to --imports-out")
    ap.add_argument("--imports-out", type=Path, help="default OUT-imports.json (with --repro)")
    ap.add_argument("--trial-timeout", type=int, default=10, help="per-test timeout of trial runs (s)")
    ap.add_argument("--persist-share", type=float, default=0.0,
                    help="after a run with kept faults, the chance that the next release carries them "
                         "again (re-applied where their lines are still there); 0 = never (README)")
    args = ap.parse_args()

    if args.versions.startswith("@"):
        versions = [l.split("#")[0].strip() for l in Path(args.versions[1:]).read_text().splitlines()]
        versions = [v for v in versions if v]
    else:
        versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    if len(versions) < 2:
        sys.exit("make_history: need at least two versions (the first is the baseline)")
    pkg = args.package
    work = args.work or Path(f"/tmp/tcp-history-{pkg}")
    faults_path = args.faults or args.out.with_name(args.out.stem + "-faults.json")
    sdists, trees, runs = work / "sdists", work / "trees", work / "runs"
    for d in (sdists, trees, runs):
        d.mkdir(parents=True, exist_ok=True)

    sidecar = {"package": pkg, "seed": args.seed, "fault_share": args.fault_share,
               "max_attempts": args.max_attempts, "baseline": versions[0], "sdists": {}, "runs": []}
    if args.persist_share > 0:
        sidecar["persist_share"] = args.persist_share
    prev_hashes = None
    prev_faults = None  # (version, module, mutations) of the previous run, if it kept new faults
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(args.out.suffix + ".tmp")
    with open(tmp_out, "w") as out:
        for idx, version in enumerate(versions):
            sd = download(args.python, pkg, version, sdists)
            sidecar["sdists"][version] = {"file": sd.name, "sha256": sha256(sd)}
            tree = trees / version
            unpack(sd, tree)
            hashes = tree_hashes(tree)
            if prev_hashes is None:
                prev_hashes = hashes
                print(f"{version}: baseline ({len(hashes)} files)", flush=True)
                continue
            changed = sorted(k for k in set(hashes) | set(prev_hashes) if hashes.get(k) != prev_hashes.get(k))
            prev_hashes = hashes

            # Fault decision: a per-release RNG, drawn before any test runs.
            rng = random.Random(f"{args.seed}/{pkg}/{version}")
            coin = rng.random() < args.fault_share
            record = {"run": version, "coin": coin, "changed_library_modules": [], "module": None,
                      "wanted": 0, "mutations": [], "attempts": 0}
            lib = [c for c in changed if c in hashes and is_library_module(c, tree)]
            record["changed_library_modules"] = lib
            run_tree = runs / version
            if run_tree.exists():
                shutil.rmtree(run_tree)
            shutil.copytree(tree, run_tree, symlinks=True)
            support = write_support(work, pkg, version)
            res_json = work / f"result-{version}.json"

            base_cache: list[set[str]] = []

            def pristine_passing() -> set[str]:
                """Tests passing on the pristine release (trial timeouts), run once per release."""
                if not base_cache:
                    base = run_suite(args.python, run_tree, support, res_json, args.trial_timeout, None, 600)
                    if base is None:
                        sys.exit(f"make_history: {version}: the pristine suite did not finish")
                    base_cache.append({r["test"] for r in base["results"] if r["verdict"] == "pass"})
                return base_cache[0]

            def newly_failing(module: str, pristine_src: str, mutant: str) -> list[str] | None:
                """Trial of one mutant alone: the tests passing on the pristine release that fail
                or error with it; None if it hangs the run, breaks collection or times a test out."""
                base_ok = pristine_passing()
                (run_tree / module).write_text(mutant, encoding="utf-8")
                res = run_suite(args.python, run_tree, support, res_json, args.trial_timeout, None, 300)
                (run_tree / module).write_text(pristine_src, encoding="utf-8")
                if res is None:
                    return None  # hung as a whole: rejected
                rs = res["results"]
                if any(r.get("collect_error") for r in rs) or any(r.get("timeout") for r in rs):
                    return None  # breaks collection or hangs a test: rejected
                return [r["test"] for r in rs if r["verdict"] in ("fail", "error") and r["test"] in base_ok]

            # Fault persistence (--persist-share; README, Rules): only after a run that kept
            # new faults, with its own RNG drawn before any test runs.
            persisted = False
            if args.persist_share > 0:
                record["persist_coin"] = None
                if prev_faults is not None:
                    prev_version, prev_module, prev_mutations = prev_faults
                    prng = random.Random(f"{args.seed}/{pkg}/{version}/persist")
                    heads = prng.random() < args.persist_share
                    record["persist_coin"] = heads
                    if heads:
                        tried, kept = [], []
                        path = tree / prev_module
                        pristine_src = path.read_text(encoding="utf-8") if path.is_file() else None
                        new_lines = pristine_src.split("\n") if pristine_src is not None else []
                        for pm in prev_mutations:
                            orig = pm["original_lines"]
                            # the textual edit as apply_sites made it: an inserted line before the
                            # original one, or the original lines collapsed into the mutated one
                            repl = pm["mutated_lines"] if pm["kind"] == "early-return" else pm["mutated_lines"][:1]
                            n = len(orig)
                            at = next((i for i in range(len(new_lines) - n + 1) if new_lines[i:i + n] == orig), None)
                            outcome = {"from_line": pm["line"], "kind": pm["kind"], "desc": pm["desc"]}
                            tried.append(outcome)
                            if at is None:
                                outcome["result"] = "line not found"
                                continue
                            outcome["line"] = at + 1
                            if any(at <= k["end_line"] - 1 and k["line"] - 1 <= at + n - 1 for k in kept):
                                outcome["result"] = "shares a line with a kept one"
                                continue
                            mutant = "\n".join(new_lines[:at] + repl + new_lines[at + n:])
                            if not compiles(mutant):
                                outcome["result"] = "does not compile"
                                continue
                            newly = newly_failing(prev_module, pristine_src, mutant)
                            if not newly:
                                outcome["result"] = "rejected"
                                continue
                            outcome["result"] = "kept"
                            kept.append({"kind": pm["kind"], "line": at + 1, "col": pm["col"],
                                         "end_line": at + n, "end_col": pm["end_col"], "desc": pm["desc"],
                                         "original_lines": orig, "mutated_lines": repl,
                                         "tests_failing_alone": len(newly), "repl": repl})
                        record["persist_tried"] = tried
                        if kept:
                            persisted = True
                            lines = list(new_lines)
                            for k in sorted(kept, key=lambda k: k["line"], reverse=True):
                                lines[k["line"] - 1:k["end_line"]] = k.pop("repl")
                            mutant = "\n".join(lines)
                            assert compiles(mutant)
                            (run_tree / prev_module).write_text(mutant, encoding="utf-8")
                            record.update(coin=None, persisted_from=prev_version, module=prev_module,
                                          mutations=kept)

            if coin and lib and not persisted:
                with_sites = [m for m in lib if mutation_sites((tree / m).read_text(encoding="utf-8"))]
                if with_sites:
                    module = rng.choice(with_sites)
                    wanted = rng.randint(1, 3)
                    record.update(module=module, wanted=wanted)
                    pristine_src = (tree / module).read_text(encoding="utf-8")
                    sites = trial_order(mutation_sites(pristine_src), rng)
                    pristine_passing()
                    accepted = []
                    for site in sites:
                        if len(accepted) >= wanted or record["attempts"] >= args.max_attempts:
                            break
                        if any(overlaps(site, a) for a in accepted):
                            continue
                        mutant = apply_sites(pristine_src, [site])
                        if not compiles(mutant):
                            continue
                        record["attempts"] += 1
                        newly = newly_failing(module, pristine_src, mutant)
                        if newly:
                            accepted.append(site)
                            m = {k: site[k] for k in ("kind", "line", "col", "end_line", "end_col", "desc")}
                            m["original_lines"] = pristine_src.split("\n")[site["line"] - 1:site["end_line"]]
                            m["mutated_lines"] = mutant.split("\n")[site["line"] - 1:site["end_line"] + (1 if site.get("insert_line") else 0)]
                            m["tests_failing_alone"] = len(newly)
                            record["mutations"].append(m)
                    if accepted:
                        mutant = apply_sites(pristine_src, accepted)
                        assert compiles(mutant)
                        (run_tree / module).write_text(mutant, encoding="utf-8")

            junit = work / f"junit-{version}.xml"
            res = run_suite(args.python, run_tree, support, res_json, args.timeout, junit, 1800)
            if res is None:
                sys.exit(f"make_history: {version}: the recorded run did not finish in 1800 s")
            rs = res["results"]
            nj = junit_count(junit)
            if nj != len(rs):
                print(f"  note: {version}: junit has {nj} testcases, recorder {len(rs)}", flush=True)
            record["pytest_exit"] = res["exitstatus"]
            record["failing_tests"] = [r["test"] for r in rs if r["verdict"] in ("fail", "error")]
            for r in rs:
                test_file = r["test"].split("::")[0]
                out.write(json.dumps({"run": version, "test": r["test"], "verdict": r["verdict"],
                                      "duration": round(r["duration"], 6), "changed_files": changed,
                                      "test_file": test_file}) + "\n")
            sidecar["runs"].append(record)
            prev_faults = ((version, record["module"], record["mutations"])
                           if record["mutations"] and "persisted_from" not in record else None)
            nf = len(record["failing_tests"])
            print(f"{version}: {len(changed)} changed, {len(rs)} tests, {nf} failing, "
                  f"faults {len(record['mutations'])}/{record['wanted']} in {record['module']} "
                  f"(coin {record['coin']}, {record['attempts']} tried"
                  + (f", persisted from {record['persisted_from']}" if "persisted_from" in record else "")
                  + ")", flush=True)
    tmp_out.replace(args.out)
    faults_path.write_text(json.dumps(sidecar, indent=1) + "\n")
    if args.repro:
        imports_out = args.imports_out or args.out.with_name(args.out.stem + "-imports.json")
        subprocess.run([args.repro, "rank", "imports", *[str(trees / v) for v in versions],
                        "-o", str(imports_out)], check=True)


if __name__ == "__main__":
    main()
