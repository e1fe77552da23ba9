import Core
import Foundation
import Sandbox
import Store

/// The working tree a test run starts from, writable at /build.
///
/// Where the kernel allows overlayfs in the sandbox's user namespace (Linux 5.11+), the
/// build's working tree is restored once per tree digest into
/// `$REPRO_HOME/worktrees/HEX` (checked against its digest as it is written, file times
/// set to one value) and every run mounts it as the read-only lower layer of an overlay
/// whose writes land in the run's own directory: a run starts from a pristine tree with
/// no copy at all (cJSON's 620-file tree took 45-210 ms to copy per run, most of
/// `repro test`'s fixed cost). Elsewhere, or with `REPRO_TEST_OVERLAY=0`, each run gets
/// a fresh copy as before. The pristine copies are a cache: `repro store gc` removes
/// those unused for a day, and removing `$REPRO_HOME/worktrees` while no test runs
/// loses nothing.
struct TestWorktree {
    /// The pristine tree (overlay) or the run's copy.
    let base: String
    /// The overlay's state directory (writes in `upper`), nil for a copy.
    let state: String?

    var mount: SandboxSpec.Mount {
        if let state { return .overlay(lower: base, state: state, inside: "/build") }
        return .readWrite(host: base, inside: "/build")
    }

    /// The host path to read `rel` (relative to /build) as the suite left it: the
    /// overlay's upper layer when the suite wrote it, else the pristine tree; nil when
    /// the suite deleted it, or it is not a regular file reached through real
    /// directories (`HostRead.regularFile`).
    func readPath(_ rel: String) -> String? {
        guard let state else { return HostRead.regularFile(under: base, rel) }
        let upper = state + "/upper"
        // Whatever the upper layer holds on the way shadows the pristine tree: a
        // whiteout (deleted), a file where a directory was, the file itself.
        switch HostRead.find(under: upper, rel) {
        case .found(let path): return path
        case .shadowed: return nil
        case .absent: return HostRead.regularFile(under: base, rel)
        }
    }

    /// Sets up the working tree of `tree` for a run whose scratch directory is `tmp`.
    static func prepare(store: Store, tree: Digest, tmp: String, runner: SandboxRunner) throws -> TestWorktree {
        if OverlaySupport.available(store: store, runner: runner) {
            let pristine = try pristineCopy(store: store, tree: tree)
            let state = tmp + "/overlay"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            return TestWorktree(base: pristine, state: state)
        }
        let copy = tmp + "/build"
        try store.restoreTree(tree, to: copy)
        WorkTree.setTimes(copy, to: 1)
        return TestWorktree(base: copy, state: nil)
    }

    /// `$REPRO_HOME/worktrees/HEX`, restored (and its file times set) when missing. The
    /// copy is made under a temporary name and renamed into place, so a run never sees
    /// a half-made tree; when two runs make it at once, the second one's copy is dropped.
    static func pristineCopy(store: Store, tree: Digest) throws -> String {
        let dir = store.root + "/worktrees"
        let final = dir + "/" + tree.hex
        var st = stat()
        // Each use sets the directory's time: `repro store gc` removes copies unused for a day.
        if stat(final, &st) == 0 { _ = utimensat(AT_FDCWD, final, nil, 0); return final }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let staging = dir + "/.tmp-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try store.restoreTree(tree, to: staging)
            // The store keeps no mtimes: give every file one time, so that a make-driven
            // suite (`make check`) sees its targets up to date.
            WorkTree.setTimes(staging, to: 1)
            if rename(staging, final) != 0 {
                let e = errno
                try? RemoveTree.remove(staging)
                guard (e == EEXIST || e == ENOTEMPTY) && stat(final, &st) == 0 else {
                    throw ReproError(.system, "cannot move the working tree into \(final): \(Syscall.errorString(e))")
                }
            }
        } catch {
            try? RemoveTree.remove(staging)
            throw error
        }
        _ = utimensat(AT_FDCWD, final, nil, 0)
        return final
    }
}

/// Whether the sandbox can mount overlayfs on this kernel and the store's file system:
/// probed once (one `true` in a sandbox with an overlay) and remembered in the store,
/// per kernel release. `REPRO_TEST_OVERLAY=0` turns overlays off.
enum OverlaySupport {
    static func available(store: Store, runner: SandboxRunner) -> Bool {
        if ProcessInfo.processInfo.environment["REPRO_TEST_OVERLAY"] == "0" { return false }
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let marker = store.root + "/worktrees/.overlay-" + release.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }
        if let known = try? String(contentsOfFile: marker, encoding: .utf8) { return known.hasPrefix("yes") }
        let ok = probe(store: store, runner: runner)
        try? FileManager.default.createDirectory(atPath: store.root + "/worktrees", withIntermediateDirectories: true)
        try? Data((ok ? "yes\n" : "no\n").utf8).write(to: URL(fileURLWithPath: marker), options: .atomic)
        return ok
    }

    private static func probe(store: Store, runner: SandboxRunner) -> Bool {
        let dir = store.root + "/tmp/overlay-probe-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? RemoveTree.remove(dir) }
        do {
            for d in ["lower", "state"] {
                try FileManager.default.createDirectory(atPath: dir + "/" + d, withIntermediateDirectories: true)
            }
            try Data("ok".utf8).write(to: URL(fileURLWithPath: dir + "/lower/f"))
            var spec = SandboxSpec(command: ["/bin/sh", "-c", "test \"$(cat /w/f)\" = ok && echo x > /w/f"],
                                   mounts: HostToolchain.mounts() + [.overlay(lower: dir + "/lower", state: dir + "/state", inside: "/w")],
                                   environment: [("PATH", "/usr/bin:/bin")])
            spec.uid = 1000; spec.gid = 1000
            let done = try runner.run(spec, output: .capture)
            return done.result.setupError == nil && done.result.exitCode == 0
                && (try? String(contentsOfFile: dir + "/lower/f", encoding: .utf8)) == "ok"
        } catch {
            return false
        }
    }
}

/// Reading on the host what a test suite left in its sandbox (JUnit reports, the named
/// results file). The suite chose those files: repro, outside the sandbox, must not
/// follow its symlinks (they would resolve against the host's root), open its FIFOs or
/// devices (a FIFO would block forever), or climb out with `..`.
enum HostRead {
    enum Lookup: Equatable { case found(String), shadowed, absent }

    /// `root/rel` when every component below `root` is a real directory and the last a
    /// regular file; nil otherwise.
    static func regularFile(under root: String, _ rel: String) -> String? {
        if case .found(let p) = find(under: root, rel) { return p }
        return nil
    }

    /// `found` for a regular file reached through real directories, `absent` when some
    /// component does not exist (the rest through real directories), `shadowed` when a
    /// component is something else (a symlink, a whiteout, a file, a FIFO).
    static func find(under root: String, _ rel: String) -> Lookup {
        let parts = rel.split(separator: "/").filter { $0 != "." }
        guard !parts.isEmpty, !parts.contains("..") else { return .shadowed }
        var path = root
        var st = stat()
        for (i, part) in parts.enumerated() {
            path += "/" + part
            guard lstat(path, &st) == 0 else { return .absent }
            let type = st.st_mode & S_IFMT
            if i < parts.count - 1 ? type != S_IFDIR : type != S_IFREG { return .shadowed }
        }
        return .found(path)
    }
}
