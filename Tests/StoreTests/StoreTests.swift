import Core
import Foundation
import GRDB
import TestKit
import Testing
@testable import Store

@Suite(.tags(.unit)) struct StoreTests {
    @Test func putGetContainsAndLayout() throws {
        let tmp = try StoreTestSupport.tempDir("put")
        defer { StoreTestSupport.remove(tmp) }
        let store = try Store(root: tmp + "/store")
        let d = try store.put(data: Data("abc".utf8))
        #expect(d == Digest.of("abc"))
        #expect(store.blobPath(d.hex) == "\(tmp)/store/cas/sha256/\(d.hex.prefix(2))/\(d.hex)")
        #expect(store.contains(d))
        #expect(try store.get(d) == Data("abc".utf8))
        #expect(try store.path(for: d) == store.blobPath(d.hex))
        try StoreTestSupport.write(tmp + "/file", "from a file")
        #expect(try store.put(file: tmp + "/file") == Digest.of("from a file"))
        // Idempotent.
        #expect(try store.put(data: Data("abc".utf8)) == d)
        let missing = Digest.of("nope")
        #expect(!store.contains(missing))
        #expect((#expect(throws: ReproError.self) { try store.get(missing) })?.code == .invalidInput)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp + "/store/tmp").isEmpty)
    }

    @Test(.timeLimit(.minutes(1))) func blobReceiverStagesChecksAndCommitsTogether() throws {
        let tmp = try StoreTestSupport.tempDir("receiver")
        defer { StoreTestSupport.remove(tmp) }
        let store = try Store(root: tmp + "/store")
        let a = Data("blob a".utf8), b = Data(repeating: 7, count: 3 << 20)
        let receiver = try store.blobReceiver()
        try receiver.add(Digest.of(a), a)
        try receiver.add(Digest.of(b), b)
        // Bytes that are not the digest's: refused and named, nothing of them kept.
        let wrong = Digest.of("other bytes")
        let e = #expect(throws: ReproError.self) { try receiver.add(wrong, Data("other bytez".utf8)) }
        #expect(e?.code == .verificationFailed && e?.message.contains(wrong.hex) == true)
        // Staged, not in the store yet.
        #expect(!store.contains(Digest.of(a)) && !store.contains(Digest.of(b)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp + "/store/tmp").count == 2)
        try receiver.commit()
        #expect(try store.get(Digest.of(a)) == a && store.contains(Digest.of(b)) && !store.contains(wrong))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp + "/store/tmp").isEmpty)
        #expect(try store.verify().corrupt.isEmpty)

        // Abandoned (or dropped): nothing staged stays, nothing enters the store.
        let c = Data("blob c".utf8)
        do {
            let r = try store.blobReceiver()
            try r.add(Digest.of(c), c)
        }
        #expect(!store.contains(Digest.of(c)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp + "/store/tmp").isEmpty)
        // The gc lock was released: gc runs.
        _ = try store.gc()
    }

    @Test func gcRemovesCachedTestTreesUnusedForADay() throws {
        let tmp = try StoreTestSupport.tempDir("worktrees")
        defer { StoreTestSupport.remove(tmp) }
        let store = try Store(root: tmp + "/store")
        let dir = tmp + "/store/worktrees"
        for name in ["old", "recent", ".tmp-999999999-dead", ".tmp-\(getpid())-live"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(name)/sub", withIntermediateDirectories: true)
            try StoreTestSupport.write("\(dir)/\(name)/sub/f", "x")
        }
        var times = [timespec(tv_sec: time(nil) - 2 * 86400, tv_nsec: 0), timespec(tv_sec: time(nil) - 2 * 86400, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, dir + "/old", &times, 0) == 0)
        let report = try store.gc()
        #expect(report.cachedTreesRemoved == 1)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(left == ["recent", ".tmp-\(getpid())-live"], "\(left)")
    }

    @Test func failedWriteLeavesNoPartialBlob() throws {
        let tmp = try StoreTestSupport.tempDir("atomic")
        defer { StoreTestSupport.remove(tmp) }
        let store = try Store(root: tmp + "/store")
        struct Boom: Error {}
        var calls = 0
        #expect(throws: Boom.self) {
            try store.put { buffer in
                calls += 1
                if calls == 3 { throw Boom() }
                buffer.initializeMemory(as: UInt8.self, repeating: 7)
                return buffer.count
            }
        }
        #expect(try store.blobFiles().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp + "/store/tmp").isEmpty)
        #expect(try store.verify().ok)
        // An unreadable source (a directory) fails the same way.
        #expect(throws: ReproError.self) { try store.put(file: tmp) }
        #expect(try store.blobFiles().isEmpty)
    }

    @Test func verifyFindsAFlippedByteAndReadsRefuseIt() throws {
        let tmp = try StoreTestSupport.tempDir("corrupt")
        defer { StoreTestSupport.remove(tmp) }
        let store = try Store(root: tmp + "/store")
        let tree = try StoreTestSupport.sampleTree(in: tmp)
        let (treeDigest, manifest) = try store.putTree(tree)
        #expect(try store.verify().ok)
        let victim = try #require(manifest.entries.first { $0.path == "a.txt" }?.digest)
        let path = store.blobPath(victim.hex)
        chmod(path, 0o644)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[0] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let report = try store.verify()
        #expect(!report.ok)
        #expect(report.corrupt == [victim.description])
        let e = #expect(throws: ReproError.self) { try store.get(victim) }
        #expect(e?.code == .verificationFailed)
        #expect(e?.message.contains(victim.description) == true)
        #expect(e?.message.contains("repro store verify") == true)
        #expect((#expect(throws: ReproError.self) { try store.restoreTree(treeDigest, to: tmp + "/out") })?.code == .verificationFailed)
        // A missing blob is reported too.
        unlink(path)
        #expect(try store.verify().missing == [victim.description])
    }

    @Test func putTreeAndRestoreTreeRoundTrip() throws {
        let tmp = try StoreTestSupport.tempDir("restore")
        defer { StoreTestSupport.remove(tmp) }
        let store = try Store(root: tmp + "/store")
        let tree = try StoreTestSupport.sampleTree(in: tmp)
        let (digest, manifest) = try store.putTree(tree)
        #expect(digest == (try TreeHasher.manifest(of: tree).treeDigest))
        #expect(try store.manifest(tree: digest) == manifest)
        #expect(try store.trees().map(\.tree) == [digest])
        try store.restoreTree(digest, to: tmp + "/restored")
        #expect(try TreeHasher.manifest(of: tmp + "/restored") == manifest)
        var st = stat()
        lstat(tmp + "/restored/bin/tool", &st)
        #expect(st.st_mode & 0o7777 == 0o755)
        lstat(tmp + "/restored/setuid", &st)
        #expect(st.st_mode & 0o7777 == 0o644)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: tmp + "/restored/bin/link") == "../a.txt")
        // Not into a non-empty directory.
        #expect(throws: ReproError.self) { try store.restoreTree(digest, to: tree) }
    }

    @Test func actionCacheRecordsAndLooksUp() throws {
        let tmp = try StoreTestSupport.tempDir("actions")
        defer { StoreTestSupport.remove(tmp) }
        let store = try Store(root: tmp + "/store")
        let (tree, _) = try store.putTree(try StoreTestSupport.sampleTree(in: tmp))
        let log = try store.put(data: Data("build log\n".utf8))
        let action = Digest.of("action")
        #expect(try store.lookupAction(action) == nil)
        let r = ActionResult(action: action, tree: tree, manifest: tree, exitCode: 0, log: log, created: 1_700_000_000)
        try store.recordAction(r)
        let found = try #require(try store.lookupAction(action))
        #expect(found.tree == tree && found.manifest == tree && found.log == log && found.exitCode == 0 && found.created == 1_700_000_000)
        // A result pointing at a missing blob is refused.
        #expect(throws: ReproError.self) {
            try store.recordAction(ActionResult(action: Digest.of("b"), tree: Digest.of("not there"), manifest: Digest.of("not there"), exitCode: 0, log: nil))
        }
        // A build's row is written when it starts and updated when it ends, either way.
        let id = try store.beginBuild(recipe: Digest.of("recipe"), action: action)
        #expect(try store.builds().map(\.status) == [.running])
        #expect(try store.builds().first?.finished == nil)
        try store.finishBuild(id, tree: tree)
        let failed = try store.beginBuild(recipe: Digest.of("recipe"), action: action)
        try store.finishBuild(failed, tree: nil)
        let builds = try store.builds()
        #expect(builds.map(\.tree) == [tree, nil])
        #expect(builds.map(\.status) == [.succeeded, .failed])
        #expect(builds.allSatisfy { $0.finished != nil })
    }

    @Test func gcKeepsReachableAndRemovesUnreachable() throws {
        let tmp = try StoreTestSupport.tempDir("gc")
        defer { StoreTestSupport.remove(tmp) }
        let store = try Store(root: tmp + "/store")
        let (tree, manifest) = try store.putTree(try StoreTestSupport.sampleTree(in: tmp))
        let log = try store.put(data: Data("log".utf8))
        try store.recordAction(ActionResult(action: Digest.of("act"), tree: tree, manifest: tree, exitCode: 0, log: log))
        let pinned = try store.put(data: Data("pinned input".utf8))
        try store.pin(pinned, note: "input hello")
        let kept = try store.put(data: Data("kept by --keep".utf8))
        let loose = try store.put(data: Data(repeating: 9, count: 5000))
        _ = FileManager.default.createFile(atPath: tmp + "/store/tmp/blob.stale", contents: Data("x".utf8))
        let report = try store.gc(keep: [kept])
        #expect(report.removed == 1)
        #expect(report.bytesFreed == 5000)
        #expect(!store.contains(loose))
        for d in manifest.blobDigests + [tree, log, pinned, kept] { #expect(store.contains(d)) }
        #expect(try store.verify().ok)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp + "/store/tmp").isEmpty)
        // Once unpinned, the input goes too.
        try store.unpin(pinned)
        #expect(try store.gc().removed == 2)
        #expect(!store.contains(pinned) && !store.contains(kept))
    }

    @Test func forgetOldBuildsThenGCFreesThem() throws {
        let tmp = try StoreTestSupport.tempDir("forget")
        defer { StoreTestSupport.remove(tmp) }
        let store = try Store(root: tmp + "/store")
        let (old, oldManifest) = try store.putTree(try StoreTestSupport.sampleTree(in: tmp + "/old"))
        let newDir = tmp + "/new"
        try FileManager.default.createDirectory(atPath: newDir, withIntermediateDirectories: true)
        try Data("only in the new tree".utf8).write(to: URL(fileURLWithPath: newDir + "/n"))
        let (new, _) = try store.putTree(newDir)
        let now = Int64(Date().timeIntervalSince1970)
        try store.recordAction(ActionResult(action: Digest.of("old"), tree: old, manifest: old, exitCode: 0, log: nil, created: now - 90 * 86400))
        try store.recordAction(ActionResult(action: Digest.of("new"), tree: new, manifest: new, exitCode: 0, log: nil))
        let input = try store.put(data: Data("an input".utf8))
        try store.pin(input, note: "input")

        // A cutoff before everything: nothing is forgotten but the 90-day-old action;
        // its tree row is recent, so gc still keeps it.
        let some = try store.forget(before: now - 86400)
        #expect(some == ForgetReport(actions: 1, builds: 0, trees: 0, pins: 0, attestations: 0))
        #expect(try store.gc().removed == 0)
        #expect(try store.lookupAction(Digest.of("old")) == nil)
        #expect(try store.lookupAction(Digest.of("new")) != nil)

        // A cutoff after everything, keeping the new tree: the old tree's files and the
        // unrenewed pin go, the kept tree stays whole.
        let all = try store.forget(before: now + 10, keep: [new])
        #expect(all.trees == 1 && all.pins == 1)
        let report = try store.gc(keep: [new])
        #expect(report.removed == oldManifest.blobDigests.count + 2) // files, the old manifest, the input
        #expect(!store.contains(old) && !store.contains(input))
        #expect(store.contains(new))
        #expect(try store.verify().ok)
    }

    @Test func exportImportRoundTripIntoAnotherStore() throws {
        let tmp = try StoreTestSupport.tempDir("export")
        defer { StoreTestSupport.remove(tmp) }
        let a = try Store(root: tmp + "/a/store")
        let (tree, manifest) = try a.putTree(try StoreTestSupport.sampleTree(in: tmp))
        let log = try a.put(data: Data("log".utf8))
        let result = ActionResult(action: Digest.of("act"), tree: tree, manifest: tree, exitCode: 0, log: log, created: 42)
        try a.recordAction(result)
        let other = try a.put(data: Data("not exported".utf8))
        try a.export(to: tmp + "/one.tar", digests: [Digest.of("act")])
        try a.export(to: tmp + "/two.tar", digests: [Digest.of("act")])
        // Deterministic: same bytes every time.
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp + "/one.tar")) == Data(contentsOf: URL(fileURLWithPath: tmp + "/two.tar")))
        let listing = try StoreTestSupport.sh(["tar", "-tvf", tmp + "/one.tar"]).out
        #expect(listing.contains("index.json"))
        #expect(!listing.contains(other.hex))
        #expect(listing.split(separator: "\n").allSatisfy { $0.contains("0/0") && $0.contains("1970-01-01") })

        let b = try Store(root: tmp + "/b/elsewhere")
        let report = try b.import(from: tmp + "/one.tar")
        #expect(report.trees == 1 && report.actions == 1)
        #expect(try b.lookupAction(Digest.of("act")) == a.lookupAction(Digest.of("act")))
        #expect(try b.manifest(tree: tree) == manifest)
        try b.restoreTree(tree, to: tmp + "/restored")
        #expect(try TreeHasher.manifest(of: tmp + "/restored").treeDigest == tree)
        #expect(!b.contains(other))
        #expect(try b.verify().ok)
        // Everything, when no digest is named.
        let c = try Store(root: tmp + "/c")
        try a.export(to: tmp + "/all.tar")
        try c.import(from: tmp + "/all.tar")
        #expect(c.contains(other))
    }

    @Test func importRefusesATamperedBlob() throws {
        let tmp = try StoreTestSupport.tempDir("tamper")
        defer { StoreTestSupport.remove(tmp) }
        let a = try Store(root: tmp + "/a")
        let d = try a.put(data: Data("genuine content".utf8))
        try a.export(to: tmp + "/x.tar")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: tmp + "/x.tar"))
        let at = try #require(bytes.range(of: Data("genuine".utf8)))
        bytes[at.lowerBound] = UInt8(ascii: "G")
        try bytes.write(to: URL(fileURLWithPath: tmp + "/x.tar"))
        let b = try Store(root: tmp + "/b")
        let e = #expect(throws: ReproError.self) { try b.import(from: tmp + "/x.tar") }
        #expect(e?.code == .verificationFailed)
        #expect(e?.message.contains(d.hex) == true)
        #expect(try b.blobFiles().isEmpty)
        // Not an export at all.
        try StoreTestSupport.write(tmp + "/junk", "junk")
        #expect((#expect(throws: ReproError.self) { try b.import(from: tmp + "/junk") })?.code == .invalidInput)
    }

    @Test func concurrentThreadsLeaveAConsistentStore() throws {
        let tmp = try StoreTestSupport.tempDir("threads")
        defer { StoreTestSupport.remove(tmp) }
        let root = tmp + "/store"
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            // Each thread opens its own Store, like separate processes would.
            guard let store = try? Store(root: root) else { Issue.record("open failed"); return }
            for i in 0..<40 {
                let shared = Data("shared \(i)".utf8)
                let own = Data("worker \(worker) blob \(i)".utf8)
                do {
                    #expect(try store.put(data: shared) == Digest.of(shared))
                    #expect(try store.put(data: own) == Digest.of(own))
                } catch {
                    Issue.record("put failed: \(error)")
                }
            }
        }
        let store = try Store(root: root)
        let report = try store.verify()
        #expect(report.ok)
        #expect(report.checked == 40 + 8 * 40)
        let rows = try store.db.read { db in try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM blobs") }
        #expect(rows == 360)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").isEmpty)
    }

    @Test func migrationsAreNamedAndAppliedOnce() throws {
        let tmp = try StoreTestSupport.tempDir("migrate")
        defer { StoreTestSupport.remove(tmp) }
        _ = try Store(root: tmp)
        let store = try Store(root: tmp)
        let names = try store.db.read { db in try StoreSchema.migrator.appliedIdentifiers(db) }
        #expect(names == ["v1-blobs-trees-actions-builds-pins", "v2-attestations", "v3-grdb-build-status"])
        let mode = try store.db.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    /// A store written by the SQLite layer before GRDB (its own `migrations` table, v1
    /// and v2, builds without a status) opens, keeps its rows and is migrated.
    @Test func aStoreFromBeforeGRDBIsUpgraded() throws {
        let tmp = try StoreTestSupport.tempDir("legacy")
        defer { StoreTestSupport.remove(tmp) }
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let legacy = try DatabaseQueue(path: tmp + "/index.sqlite")
        try legacy.write { db in
            try db.execute(sql: Self.legacySchema)
            try db.execute(sql: """
                INSERT INTO migrations VALUES ('v1-blobs-trees-actions-builds-pins', 1700000000), ('v2-attestations', 1700000000);
                INSERT INTO actions VALUES ('\(Digest.of("a").hex)', 'aa', 'aa', 7, 0, NULL, NULL, 1700000000);
                INSERT INTO builds (recipe, action, tree, started, finished) VALUES ('r', 'a', 'aa', 1, 2), ('r', 'a', NULL, 3, NULL);
                INSERT INTO pins VALUES ('bb', 3, 'input x', 1700000000);
                """)
        }
        try legacy.close()
        let store = try Store(root: tmp)
        #expect(try store.lookupAction(Digest.of("a"))?.tree.hex == "aa")
        #expect(try store.builds().map(\.status) == [.succeeded, .running])
        let tables = try store.db.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        #expect(!tables.contains("migrations") && tables.contains("grdb_migrations") && tables.contains("pins"))
        #expect(try store.db.read { db in try StoreSchema.migrator.appliedIdentifiers(db) }.count == 3)
        // Opening it again changes nothing.
        #expect(try Store(root: tmp).builds().count == 2)
    }

    /// The schema of stores made before GRDB (Database.swift's Migrator), verbatim.
    static let legacySchema = """
        CREATE TABLE migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL);
        CREATE TABLE blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, added INTEGER NOT NULL);
        CREATE TABLE trees (tree TEXT PRIMARY KEY, manifest TEXT NOT NULL, manifest_size INTEGER NOT NULL,
            files INTEGER NOT NULL, bytes INTEGER NOT NULL, added INTEGER NOT NULL);
        CREATE TABLE actions (action TEXT PRIMARY KEY, tree TEXT NOT NULL, manifest TEXT NOT NULL,
            manifest_size INTEGER NOT NULL, exit_code INTEGER NOT NULL, log TEXT, log_size INTEGER, created INTEGER NOT NULL);
        CREATE TABLE builds (id INTEGER PRIMARY KEY AUTOINCREMENT, recipe TEXT NOT NULL, action TEXT NOT NULL,
            tree TEXT, started INTEGER NOT NULL, finished INTEGER);
        CREATE INDEX builds_action ON builds (action);
        CREATE TABLE pins (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, note TEXT NOT NULL, added INTEGER NOT NULL);
        CREATE TABLE attestations (action TEXT NOT NULL, tree TEXT NOT NULL, envelope TEXT NOT NULL,
            envelope_size INTEGER NOT NULL, sbom TEXT NOT NULL, sbom_size INTEGER NOT NULL, sbom_format TEXT NOT NULL,
            keyid TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (action, sbom_format));
        CREATE INDEX attestations_tree ON attestations (tree);
        """
}
