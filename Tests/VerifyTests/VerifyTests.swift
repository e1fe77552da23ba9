import Foundation
import TestKit
import Testing

/// `repro verify` for real: builds in the sandbox, varied through the launcher,
/// libfaketime, the time namespace and the host-side layout.
@Suite(.serialized, .tags(.sandbox)) struct VerifyTests {
    typealias S = VerifySupport

    /// What leaks into each file of Fixtures/Unrepro, and the variation to blame.
    static let leaks: [String: String] = [
        "year": "time", "hostname": "hostname", "umask-mode": "umask", "readdir-order": "file-order",
        "uid": "user", "cpus": "cpus", "machine": "kernel", "build-path": "build-path",
    ]

    @Test func everyLeakingFileIsListedAndTheExitIs3() throws {
        let dir = try TestKit.tempDir("verify-unrepro")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try S.unrepro(in: dir, store: dir + "/store")
        let r = try S.repro(["verify", recipe, "--store", dir + "/store", "--json"])
        #expect(r.status == 3, "\(r.err)")
        #expect(r.json["reproducible"] as? Bool == false)
        let paths = Set((r.json["differences"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String })
        #expect(paths == Set(Self.leaks.keys).union(["random", "together"]))
        let runs = r.json["runs"] as? [[String: Any]] ?? []
        #expect(runs.count == 2)
        #expect((runs.first?["variations"] as? [String])?.isEmpty == true)
        #expect((runs.last?["variations"] as? [String])?.count == 15)

        // The text report says the same, names each file, and with --keep points at
        // the kept trees, which `repro diff` compares to the same list.
        let text = try S.repro(["verify", recipe, "--store", dir + "/store", "--keep"])
        #expect(text.status == 3)
        #expect(text.out.contains("NOT reproducible: 10 paths differ"))
        for p in paths { #expect(text.out.contains(" \(p)  (run 2)"), "\(p)") }
        let hint = text.out.split(separator: "\n").first { $0.hasPrefix("look closer: repro diff ") }
        let dirs = hint.map { $0.dropFirst("look closer: repro diff ".count).split(separator: " ").map(String.init) } ?? []
        #expect(dirs.count == 2)
        let diff = try S.repro(["diff"] + dirs + ["--json"])
        #expect(diff.status == 3)
        let diffPaths = Set((diff.json["differences"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String })
        #expect(diffPaths == paths)
    }

    @Test func findCulpritBlamesTheRightVariationForEachFile() throws {
        let dir = try TestKit.tempDir("verify-culprit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try S.unrepro(in: dir, store: dir + "/store")
        let r = try S.repro(["verify", recipe, "--store", dir + "/store", "--find-culprit", "--json"])
        #expect(r.status == 3, "\(r.err)")
        let c = r.json["culprits"] as? [String: Any] ?? [:]
        let files = c["files"] as? [String: [String]] ?? [:]
        for (file, variation) in Self.leaks where file != "build-path" {
            #expect(files[file] == [variation], "\(file): \(files[file] ?? [])")
        }
        // /build on another filesystem (file-order) moves it too: both are named.
        #expect(files["build-path"]?.contains("build-path") == true)
        #expect(Set(files["build-path"] ?? []).isSubset(of: ["build-path", "file-order"]))
        #expect(c["nondeterministic"] as? [String] == ["random"])
        #expect(files["random"] == nil && files["stable"] == nil)
        // A file that changes only when hostname and uid both change: the pair is named.
        #expect(files["together"] == ["hostname", "user"])
        let groups = c["culprits"] as? [[String: Any]] ?? []
        #expect(groups.contains { $0["variations"] as? [String] == ["hostname", "user"] && $0["together"] as? Bool == true })
        // Group testing, not one build per variation and file.
        #expect((c["builds"] as? Int ?? 0) > 1)
        #expect((c["builds"] as? Int ?? 99) < 40)
    }

    @Test func oneVariationChangesOnlyItsFile() throws {
        let dir = try TestKit.tempDir("verify-one")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try S.unrepro(in: dir, store: dir + "/store")
        for (variation, file) in [("umask", "umask-mode"), ("timezone", nil), ("time", "year")] as [(String, String?)] {
            let r = try S.repro(["verify", recipe, "--store", dir + "/store", "--variations", variation, "--json"])
            #expect(r.status == 3, "\(r.err)")
            let paths = Set((r.json["differences"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String })
            #expect(paths == Set(["random"] + (file.map { [$0] } ?? [])), "\(variation): \(paths)")
        }
        // No variation at all: two plain builds differ only in the random file; three
        // runs list it for runs 2 and 3.
        let none = try S.repro(["verify", recipe, "--store", dir + "/store", "--variations", "none", "--runs", "3", "--json"])
        #expect(none.status == 3)
        let diffs = none.json["differences"] as? [[String: Any]] ?? []
        #expect(diffs.count == 1)
        #expect(diffs.first?["path"] as? String == "random")
        #expect(diffs.first?["runs"] as? [Int] == [2, 3])
    }

    @Test func variedBuildsLeaveTheActionCacheAlone() throws {
        let dir = try TestKit.tempDir("verify-cache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        let recipe = try S.unrepro(in: dir, store: store)
        let built = try S.repro(["build", recipe, "--store", store, "--json"])
        #expect(built.status == 0, "\(built.err)")
        let digest = built.json["tree_digest"] as? String
        #expect(try S.repro(["verify", recipe, "--store", store, "--find-culprit"]).status == 3)
        let again = try S.repro(["build", recipe, "--store", store, "--json"])
        #expect(again.json["cached"] as? Bool == true)
        #expect(again.json["tree_digest"] as? String == digest)
        // Nothing of the varied builds is left on disk.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: store + "/tmp")) ?? [] == [])
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).contains { $0.hasPrefix("repro-verify-") })
    }

    @Test func reproducibleRecipeUnderAllVariationsExits0() throws {
        let dir = try TestKit.tempDir("verify-tiny")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try S.tiny(in: dir, store: dir + "/store")
        let r = try S.repro(["verify", recipe, "--store", dir + "/store", "--runs", "3", "--keep", "--json"])
        #expect(r.status == 0, "\(r.err)\(r.out)")
        #expect(r.json["reproducible"] as? Bool == true)
        let runs = r.json["runs"] as? [[String: Any]] ?? []
        #expect(Set(runs.compactMap { $0["tree_digest"] as? String }).count == 1)
        // --keep leaves every run's tree, and they hash to the digest.
        for run in runs {
            let out = run["out"] as? String ?? "/nonexistent"
            let hash = try S.repro(["hash", out])
            #expect(hash.out == (run["tree_digest"] as? String ?? "") + "\n")
        }
    }

    @Test func badInputIsExit2() throws {
        let dir = try TestKit.tempDir("verify-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try S.unrepro(in: dir, store: dir + "/store")
        let unknown = try S.repro(["verify", recipe, "--store", dir + "/store", "--variations", "hostname,moon-phase"])
        #expect(unknown.status == 2)
        #expect(unknown.err.contains("unknown variation 'moon-phase'"))
        #expect(unknown.err.contains("file-order"))
        #expect(try S.repro(["verify", recipe, "--runs", "1"]).status == 2)
        #expect(try S.repro(["verify"]).status == 2)
        try FileManager.default.removeItem(atPath: dir + "/Unrepro/unrepro.lock")
        let nolock = try S.repro(["verify", recipe, "--store", dir + "/store"])
        #expect(nolock.status == 2)
        #expect(nolock.err.contains("run 'repro lock"))
    }

    /// Issue 13: a file that depends on the clock and also differs between unvaried
    /// builds is named under both `time` and nondeterminism (it was only called
    /// nondeterministic). Needs libfaketime, which scripts/setup installs.
    @Test func clockAndRandomnessInOneFileNamesBoth() throws {
        let dir = try TestKit.tempDir("verify-clock-random")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        name = "stamp"
        [toolchain]
        host = true
        [build]
        script = '''
        date +%Y-%m-%d > $REPRO_OUT/stamp
        od -An -N8 -tx8 /dev/urandom >> $REPRO_OUT/stamp
        echo fixed > $REPRO_OUT/fixed
        '''
        """.write(toFile: dir + "/stamp.toml", atomically: true, encoding: .utf8)
        #expect(try S.repro(["lock", dir + "/stamp.toml", "--store", dir + "/store"]).status == 0)
        let c = try S.repro(["verify", dir + "/stamp.toml", "--store", dir + "/store", "--variations", "time,umask", "--find-culprit", "--json"])
        #expect(c.status == 3, "\(c.err)")
        let culprits = c.json["culprits"] as? [String: Any] ?? [:]
        #expect((culprits["nondeterministic"] as? [String]) == ["stamp"], "\(culprits)")
        #expect((culprits["files"] as? [String: [String]])?["stamp"] == ["time"], "\(culprits)")
        let text = try S.repro(["verify", dir + "/stamp.toml", "--store", dir + "/store", "--variations", "time", "--find-culprit"])
        #expect(text.out.contains("time: stamp") && text.out.contains("nondeterministic (differ between two builds without variations): stamp"), "\(text.out)")
    }

    @Test func aBuildThatFailsOnlyWhenVariedIsNotReproducibleAndBlamed() throws {
        let dir = try TestKit.tempDir("verify-fails")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Fails on a 32-bit personality; leaks the uid.
        try "name = \"fails\"\n[toolchain]\nhost = true\n[build]\nscript = \"test $(uname -m) = x86_64; id -u > $REPRO_OUT/uid\"\n"
            .write(toFile: dir + "/fails.toml", atomically: true, encoding: .utf8)
        #expect(try S.repro(["lock", dir + "/fails.toml", "--store", dir + "/store"]).status == 0)
        #expect(try S.repro(["verify", dir + "/fails.toml", "--store", dir + "/store", "--variations", "umask"]).status == 0)
        let r = try S.repro(["verify", dir + "/fails.toml", "--store", dir + "/store", "--variations", "user,kernel"])
        #expect(r.status == 3, "\(r.err)")
        #expect(r.out.contains("run 2 (user,kernel): FAILED: build 2 failed with the variations user,kernel"))
        #expect(r.out.contains("buildFailed   (the build fails)  (run 2)"))
        let c = try S.repro(["verify", dir + "/fails.toml", "--store", dir + "/store", "--variations", "user,kernel", "--find-culprit", "--json"])
        #expect(c.status == 3)
        let files = (c.json["culprits"] as? [String: Any])?["files"] as? [String: [String]] ?? [:]
        #expect(files["(the build fails)"] == ["kernel"])
        #expect(files["uid"] == ["user"])
        let runs = c.json["runs"] as? [[String: Any]] ?? []
        #expect(runs.last?["tree_digest"] == nil && (runs.last?["failed"] as? String)?.contains("exited with 1") == true)
        // A build that fails without variations is a failed build: exit 1.
        try "name = \"fails\"\n[toolchain]\nhost = true\n[build]\nscript = \"exit 7\"\n".write(toFile: dir + "/fails.toml", atomically: true, encoding: .utf8)
        #expect(try S.repro(["lock", dir + "/fails.toml", "--store", dir + "/store"]).status == 0)
        #expect(try S.repro(["verify", dir + "/fails.toml", "--store", dir + "/store"]).status == 1)
    }

    /// The real Debian-built recipes of the builds issue: identical under every variation
    /// at once. One store for the three (they share most of the toolchain); needs apt
    /// once for the toolchains and sources (like BuildTests).
    /// A fixed path: reruns reuse what earlier runs fetched (the store is safe to share).
    static let realStore = NSTemporaryDirectory() + "repro-verify-real-store"

    @Test(.tags(.realBuild, .network), .enabled(if: TestLayer.full, TestLayer.skipped), arguments: ["hello", "lua", "zlib"])
    func realRecipeIsReproducibleUnderAllVariations(_ name: String) throws {
        let r = try S.repro(["verify", "recipes/\(name).toml", "--store", Self.realStore, "--runs", "2",
                             "--variations", "all", "--json"])
        #expect(r.status == 0, "\(r.err.suffix(3000))\(r.out)")
        #expect(r.json["reproducible"] as? Bool == true)
        let runs = r.json["runs"] as? [[String: Any]] ?? []
        #expect(runs.count == 2)
        #expect(runs.first?["tree_digest"] as? String == runs.last?["tree_digest"] as? String)
        #expect((runs.first?["files"] as? Int ?? 0) > 3)
        // The digest is the one docs/build.md records for the recipe.
        let doc = try String(contentsOfFile: S.sourceRoot + "/docs/build.md", encoding: .utf8)
        let line = doc.split(separator: "\n").first { $0.contains("`recipes/\(name).toml`") }
        #expect(line?.contains(runs.first?["tree_digest"] as? String ?? "none") == true, "\(String(describing: line))")
    }
}
