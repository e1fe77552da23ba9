import Core
import Foundation

/// repro's pytest plugin, shipped as Python source inside repro. The runner writes it
/// to a host directory that the sandbox binds read-only at /repro/lib, sets
/// PYTHONPATH=/repro/lib and runs `python3 -m pytest -p repro_pytest ...`.
///
/// Inside the sandbox, with `REPRO_TEST_DIR` set, the plugin writes the record stream of
/// `TestRecord` to `$REPRO_TEST_DIR/records.jsonl` (one line per event, each written
/// whole with one `write`, so a test that ends the interpreter never leaves half a line):
/// `collected` after collection, `missing` for requested ids that were not collected,
/// `start` and `result` per test, `done` at the end. It runs exactly the node ids read
/// from `$REPRO_TEST_DIR/order` (a FIFO or a file, one id per line, read to EOF), in that
/// order, deselecting the rest; without an order file it runs the collected order.
/// Verdicts: passed -> pass, failed in call -> fail, failed in setup or teardown -> error,
/// skipped and xfail -> skip, strict xpass -> fail (pytest fails its call), plain xpass ->
/// pass. Times: setup/call/teardown from pytest's reports, wall time around the whole
/// protocol, CPU from getrusage deltas (the interpreter and its children), peak RSS from
/// VmHWM after resetting it through /proc/self/clear_refs (ru_maxrss when refused).
/// A test's `file` is relative to /build/src when it lies there (as the changed files
/// and ctest's files are; `$REPRO_SOURCE_ROOT` overrides that root), else pytest's path.
/// Works with Debian bookworm's pytest 7.2 and pytest 9, with `-p no:cacheprovider`,
/// without xdist. docs/testing.md describes it for users.
public enum PytestPlugin {
    /// The module name given to `-p`.
    public static let moduleName = "repro_pytest"
    /// The file the plugin is written to inside its directory.
    public static var fileName: String { moduleName + ".py" }

    /// Writes `repro_pytest.py` into `dir` (created if missing), readable by everyone.
    /// - Throws: `ReproError(.internal)` naming the path when it cannot be written.
    public static func write(to dir: String) throws {
        let path = (dir as NSString).appendingPathComponent(fileName)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Data(source.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        } catch {
            throw ReproError(.system, "cannot write the pytest plugin to \(path): \(error.localizedDescription)")
        }
    }

    /// The plugin's Python source.
    public static let source: String = #"""
"""repro's pytest plugin (loaded with -p repro_pytest; see docs/testing.md).

With REPRO_TEST_DIR set, it writes the record stream to $REPRO_TEST_DIR/records.jsonl,
one JSON object per line, each line written whole and at once:
  collected  after collection (and after -k/-m deselection): every test's node id and file
  missing    an id of the requested order that was not collected
  start      a test begins; pos is its position in the executed order, t the Unix time
  result     a test ended: verdict, setup/call/teardown/wall ms, CPU ms, peak RSS, message
  done       the session ended
It runs exactly the tests named in $REPRO_TEST_DIR/order (one node id per line, read to
EOF; repro may make it a FIFO), in that order, and deselects the rest. Without an order
file every collected test runs in collected order. Without REPRO_TEST_DIR it does nothing.
Works with pytest 7.2 (Debian bookworm) and newer; needs neither xdist nor the cache.
"""
import json
import os
import resource
import time

import pytest

MESSAGE_LIMIT = 4096


def pytest_configure(config):
    directory = os.environ.get("REPRO_TEST_DIR")
    if directory and not config.pluginmanager.has_plugin("repro_reporter"):
        root = str(getattr(config, "rootpath", None) or config.rootdir)
        config.pluginmanager.register(_Reporter(directory, root), "repro_reporter")


def _truncate(text):
    data = text.encode("utf-8", "replace")
    if len(data) <= MESSAGE_LIMIT:
        return text
    return data[:MESSAGE_LIMIT].decode("utf-8", "ignore")


# Inputs are unpacked under /build/src, and the files changed between runs are named
# relative to it; a test's file is named the same way when it lies there.
SOURCE_ROOT = os.environ.get("REPRO_SOURCE_ROOT", "/build/src")


def _file_of(nodeid, rootdir):
    rel = nodeid.split("::", 1)[0]
    path = os.path.normpath(os.path.join(rootdir, rel))
    base = SOURCE_ROOT.rstrip("/") + "/"
    return path[len(base):] if path.startswith(base) else rel


def _cpu_ms():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (s.ru_utime + c.ru_utime) * 1000.0, (s.ru_stime + c.ru_stime) * 1000.0, c.ru_maxrss


def _reset_peak_rss():
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so VmHWM
    # read at the end is the peak of this test alone. Refused (old kernel, a seccomp or
    # LSM policy, no /proc): fall back to ru_maxrss, the peak of the whole process so far.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_kb(reset_ok):
    if reset_ok:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _message(report):
    longrepr = report.longrepr
    if longrepr is None:
        return None
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return _truncate(str(longrepr[2]))
    return _truncate(report.longreprtext)


class _Reporter:
    def __init__(self, directory, rootdir):
        self.directory = directory
        self.rootdir = rootdir
        self.fd = os.open(os.path.join(directory, "records.jsonl"),
                          os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        self.pos = 0
        self.current = None

    def _emit(self, record):
        data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8", "replace")
        while data:
            data = data[os.write(self.fd, data):]

    def _read_order(self):
        path = os.path.join(self.directory, "order")
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return None
        return [line.rstrip(b"\r").decode("utf-8", "replace") for line in raw.split(b"\n") if line.strip()]

    # Collection: after every other plugin's selection (-k, -m, --lf), so the list is
    # what would run; then the requested order replaces it.
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        self._emit({"event": "collected",
                    "tests": [{"id": item.nodeid, "file": _file_of(item.nodeid, self.rootdir)} for item in items]})
        order = self._read_order()
        if order is None:
            return
        by_id = {}
        for item in items:
            by_id.setdefault(item.nodeid, item)
        selected, seen = [], set()
        for nodeid in order:
            if nodeid in seen:
                continue
            seen.add(nodeid)
            item = by_id.get(nodeid)
            if item is None:
                self._emit({"event": "missing", "id": nodeid})
            else:
                selected.append(item)
        chosen = set(id(item) for item in selected)
        deselected = [item for item in items if id(item) not in chosen]
        items[:] = selected
        if deselected:
            config.hook.pytest_deselected(items=deselected)

    # A file that fails to import is reported as an error under its own id (it has no
    # start record: it was never in the order).
    def pytest_collectreport(self, report):
        if report.failed:
            self._emit({"event": "result", "id": report.nodeid, "file": _file_of(report.nodeid, self.rootdir),
                        "verdict": "error", "wall_ms": 0.0, "message": _message(report)})

    def pytest_runtest_logstart(self, nodeid, location):
        self._emit({"event": "start", "id": nodeid, "pos": self.pos, "t": time.time()})
        self.pos += 1
        reset_ok = _reset_peak_rss()
        user, sys, child_rss = _cpu_ms()
        self.current = {"id": nodeid, "t0": time.perf_counter(), "user": user, "sys": sys,
                        "child_rss": child_rss, "reset_ok": reset_ok, "reports": {}}

    def pytest_runtest_logreport(self, report):
        if self.current is not None and report.nodeid == self.current["id"]:
            self.current["reports"][report.when] = report

    def pytest_runtest_logfinish(self, nodeid, location):
        cur = self.current
        if cur is None or cur["id"] != nodeid:
            return
        self.current = None
        wall = (time.perf_counter() - cur["t0"]) * 1000.0
        user, sys, child_rss = _cpu_ms()
        rss = _peak_rss_kb(cur["reset_ok"])
        if child_rss > cur["child_rss"]:
            rss = max(rss, child_rss)
        reports = cur["reports"]
        verdict, message = "pass", None
        for when in ("setup", "call", "teardown"):
            r = reports.get(when)
            if r is None:
                continue
            if r.failed:
                verdict, message = ("fail" if when == "call" else "error"), _message(r)
                break
            if r.skipped:
                verdict = "skip"
                reason = getattr(r, "wasxfail", None)
                message = _truncate("xfail: " + reason if reason else "xfail") if hasattr(r, "wasxfail") else _message(r)
                break
        record = {"event": "result", "id": nodeid, "file": _file_of(nodeid, self.rootdir), "verdict": verdict,
                  "wall_ms": round(wall, 3), "user_ms": round(user - cur["user"], 3),
                  "sys_ms": round(sys - cur["sys"], 3), "max_rss_kb": rss}
        for when in ("setup", "call", "teardown"):
            r = reports.get(when)
            if r is not None:
                record[when + "_ms"] = round(r.duration * 1000.0, 3)
        if message:
            record["message"] = message
        self._emit(record)

    def pytest_sessionfinish(self, session, exitstatus):
        self._emit({"event": "done"})
"""#
}
