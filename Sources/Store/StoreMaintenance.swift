import Core
import Foundation
import GRDB

/// What `verify` found. `ok` when nothing is corrupt or missing.
public struct VerifyReport: Sendable, Codable, Hashable {
    /// Blobs rehashed.
    public var checked: Int
    public var bytes: Int64
    /// Blobs whose content does not match their name or indexed size.
    public var corrupt: [String]
    /// Blobs the index or a recorded tree/action needs that are absent.
    public var missing: [String]
    public var ok: Bool { corrupt.isEmpty && missing.isEmpty }
}

/// What `gc` removed.
public struct GCReport: Sendable, Codable, Hashable {
    public var kept: Int
    public var removed: Int
    public var bytesFreed: Int64
    /// Index rows dropped by `forget(before:)` ahead of the collection (`--older-than`).
    public var forgotten: ForgetReport?
    /// `repro test`'s pristine working trees (`worktrees/`) removed: unused for a day.
    public var cachedTreesRemoved = 0

    enum CodingKeys: String, CodingKey {
        case kept, removed, forgotten
        case bytesFreed = "bytes_freed"
        case cachedTreesRemoved = "cached_trees_removed"
    }
}

/// Rows `forget(before:)` dropped from the index.
public struct ForgetReport: Sendable, Codable, Hashable {
    public var actions = 0, builds = 0, trees = 0, pins = 0, attestations = 0
}

extension Store {
    /// Every blob file under `cas/`, as hex names (sorted).
    func blobFiles() throws -> [String] {
        var out: [String] = []
        for shard in try FileManager.default.contentsOfDirectory(atPath: casDir).sorted() {
            let names = try FileManager.default.contentsOfDirectory(atPath: casDir + "/" + shard)
            out += names.filter { $0.count == 64 && $0.hasPrefix(shard) }
        }
        return out.sorted()
    }

    /// Rehashes every blob on disk (in parallel) and checks that everything the index,
    /// recorded trees, actions and pins need is present. Read-only.
    public func verify() throws -> VerifyReport {
        let (indexed, roots) = try db.read { db in
            (Dictionary(try Row.fetchAll(db, sql: "SELECT digest, size FROM blobs").map { ($0[0] as String, $0[1] as Int64) },
                        uniquingKeysWith: { a, _ in a }),
             try rootDigests(db))
        }
        let files = try blobFiles()
        let actual = try TreeHasher.parallel(files, workers: nil) { hex, scratch in
            try TreeHasher.hashFile(TreeHasher.FileRef(path: self.blobPath(hex)), scratch)
        }
        var corrupt: [String] = [], bytes: Int64 = 0
        var good = Set<String>()
        for (hex, d) in zip(files, actual) {
            bytes += d.size
            if d.hex != hex || (indexed[hex].map { $0 != d.size } ?? false) {
                corrupt.append("sha256:" + hex)
            } else {
                good.insert(hex)
            }
        }
        var needed = Set(indexed.keys)
        for tree in roots.trees {
            needed.insert(tree)
            if good.contains(tree), let m = try? Manifest.parse(Data(contentsOf: URL(fileURLWithPath: blobPath(tree)))) {
                needed.formUnion(m.blobDigests.map(\.hex))
            }
        }
        needed.formUnion(roots.blobs)
        let present = Set(files)
        let missing = needed.subtracting(present).sorted().map { "sha256:" + $0 }
        return VerifyReport(checked: files.count, bytes: bytes, corrupt: corrupt, missing: missing)
    }

    /// Roots of reachability: recorded trees (with the trees of actions and builds) and
    /// lone blobs (action logs, pins).
    func rootDigests(_ db: GRDB.Database) throws -> (trees: Set<String>, blobs: Set<String>) {
        let trees = Set(try String.fetchAll(db, sql: "SELECT tree FROM trees UNION SELECT tree FROM actions UNION SELECT manifest FROM actions UNION SELECT tree FROM builds WHERE tree IS NOT NULL"))
        let blobs = Set(try String.fetchAll(db, sql: "SELECT log FROM actions WHERE log IS NOT NULL UNION SELECT digest FROM pins UNION SELECT envelope FROM attestations UNION SELECT sbom FROM attestations"))
        return (trees, blobs)
    }

    /// Removes every blob not reachable from a recorded tree, action, build, pin or one
    /// of `keep` (tree digests keep their files too), and stale temporary files. Holds
    /// the gc lock exclusively, so no writer runs meanwhile.
    /// - Throws: `ReproError(.verificationFailed)` when a root tree's manifest is missing
    ///   or corrupt (gc would not know what it needs): run `repro store verify`.
    public func gc(keep: [Digest] = []) throws -> GCReport {
        try FileLock.with(gcLockPath, exclusive: true) {
            var (trees, blobs) = try db.read { db in try rootDigests(db) }
            for d in keep {
                if let m = try? manifest(tree: d) {
                    trees.insert(d.hex)
                    blobs.formUnion(m.blobDigests.map(\.hex))
                } else {
                    blobs.insert(d.hex)
                }
            }
            var reachable = blobs
            for tree in trees {
                let m: Manifest
                do {
                    m = try manifest(tree: Digest(hex: tree, size: -1))
                } catch let e as ReproError {
                    throw ReproError(.verificationFailed, "gc: cannot read the manifest of recorded tree sha256:\(tree) (\(e.message)); "
                                     + "nothing was removed; run `repro store verify`")
                }
                reachable.insert(tree)
                reachable.formUnion(m.blobDigests.map(\.hex))
            }
            var removed: [String] = [], freed: Int64 = 0, kept = 0
            for hex in try blobFiles() {
                if reachable.contains(hex) { kept += 1; continue }
                let path = blobPath(hex)
                freed += FileSupport.size(path) ?? 0
                try Syscall.check("unlink \(path)") { unlink(path) }
                removed.append(hex)
            }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: tmpDir)) ?? [] {
                unlink(tmpDir + "/" + name)
            }
            removeStaleTemporaries()
            let cached = removeUnusedCachedTrees(unusedFor: 24 * 3600)
            try db.write { db in
                let delete = try db.cachedStatement(sql: "DELETE FROM blobs WHERE digest = ?")
                for hex in removed { try delete.execute(arguments: [hex]) }
                for hex in try String.fetchAll(db, sql: "SELECT digest FROM blobs") where FileSupport.size(blobPath(hex)) == nil {
                    try delete.execute(arguments: [hex])
                }
            }
            var report = GCReport(kept: kept, removed: removed.count, bytesFreed: freed)
            report.cachedTreesRemoved = cached
            return report
        }
    }
}

extension Store {
    /// `repro test`'s pristine copies of working trees (`worktrees/HEX`; each use sets
    /// the directory's time): those unused for `unusedFor` seconds are removed, and
    /// copies that a killed run left half-made (`.tmp-PID-…` of a process that is gone).
    /// A cache: a later run restores what it needs from the CAS again.
    func removeUnusedCachedTrees(unusedFor seconds: Int64) -> Int {
        let dir = root + "/worktrees"
        let now = Int64(Date().timeIntervalSince1970)
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            var st = stat()
            guard lstat(dir + "/" + name, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { continue }
            if name.hasPrefix(".tmp-") {
                let parts = name.split(separator: "-")
                if parts.count >= 2, let pid = Int32(parts[1]), kill(pid, 0) != 0 && errno == ESRCH {
                    try? RemoveTree.remove(dir + "/" + name)
                }
                continue
            }
            if name.hasPrefix(".") || Int64(st.st_mtim.tv_sec) > now - seconds { continue }
            if (try? RemoveTree.remove(dir + "/" + name)) != nil { removed += 1 }
        }
        return removed
    }

    /// Removes the work directories (`build-PID-…`, `git-PID-…`) and blob temporaries
    /// (`blob.PID.…`) that processes killed mid-way left in the store's tmp directory:
    /// those whose process no longer exists. Directories of running builds stay.
    public func removeStaleTemporaries() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmpDir)) ?? [] {
            let parts = name.split(whereSeparator: { $0 == "-" || $0 == "." })
            guard parts.count >= 2, let pid = Int32(parts[1]), pid > 0 else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue } // still running
            try? RemoveTree.remove(tmpDir + "/" + name)
        }
    }
}

extension Store {
    /// Forgets what was last used before `cutoff` (Unix seconds), so that the next gc
    /// frees it: action results created before it, finished builds started before it,
    /// their attestations, pins not renewed since (each build renews its inputs' pins),
    /// and recorded trees added before it that no remaining action or build names.
    /// Trees in `keep` stay. Holds the gc lock, like gc.
    public func forget(before cutoff: Int64, keep: [Digest] = []) throws -> ForgetReport {
        try FileLock.with(gcLockPath, exclusive: true) {
            try db.write { db in
                var r = ForgetReport()
                let kept = keep.map(\.hex)
                let keepClause = kept.isEmpty ? "" : " AND tree NOT IN (\(kept.map { _ in "?" }.joined(separator: ",")))"
                func run(_ sql: String, _ args: [any DatabaseValueConvertible]) throws -> Int {
                    try db.execute(sql: sql, arguments: StatementArguments(args))
                    return db.changesCount
                }
                r.actions = try run("DELETE FROM actions WHERE created < ?" + keepClause, [cutoff] + kept)
                r.builds = try run("DELETE FROM builds WHERE started < ? AND finished IS NOT NULL" + keepClause, [cutoff] + kept)
                r.attestations = try run("DELETE FROM attestations WHERE action NOT IN (SELECT action FROM actions)", [])
                r.pins = try run("DELETE FROM pins WHERE added < ?", [cutoff])
                r.trees = try run("""
                    DELETE FROM trees WHERE added < ?\(keepClause)
                    AND tree NOT IN (SELECT tree FROM actions) AND tree NOT IN (SELECT tree FROM builds WHERE tree IS NOT NULL)
                    """, [cutoff] + kept)
                return r
            }
        }
    }
}
