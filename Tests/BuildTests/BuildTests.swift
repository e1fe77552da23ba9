import Foundation
import TestKit
import Testing

/// `repro build` for real: Debian's hello from its source package, in a toolchain root
/// assembled from the locked .debs, in the sandbox. Needs the network once (apt, through
/// the store's private state); everything after the first build is offline.
@Suite(.serialized, .tags(.realBuild, .network), .enabled(if: TestLayer.full, TestLayer.skipped)) struct BuildTests {
    static let repro = TestKit.repro
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let work = NSTemporaryDirectory() + "repro-build-tests-\(getpid())"

    struct Run { var status: Int32; var out: String; var err: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:] }
    }

    func repro(_ args: [String], cwd: String = BuildTests.sourceRoot) throws -> Run {
        let r = try TestKit.run([Self.repro] + args, cwd: cwd)
        return Run(status: r.status, out: r.out, err: r.stderr)
    }

    @Test func helloIsReproducibleAcrossStoresAndOffline() throws {
        let a = Self.work + "/host-a/store", b = Self.work + "/elsewhere/deeper/host-b-store"
        defer { try? FileManager.default.removeItem(atPath: Self.work) }

        // Store A: fetch, assemble, build.
        let first = try repro(["build", "recipes/hello.toml", "--store", a, "--json", "--out", Self.work + "/dist-a/hello"])
        #expect(first.status == 0, "\(first.err)")
        let digest = first.json["tree_digest"] as? String
        #expect(digest?.hasPrefix("sha256:") == true)
        #expect(first.json["cached"] as? Bool == false)
        let hello = try TestSupportBuild.run([Self.work + "/dist-a/hello/usr/bin/hello"])
        #expect(hello == "Hello, world!\n")

        // The same build again: the action cache answers, no sandbox starts.
        let again = try repro(["build", "recipes/hello.toml", "--store", a, "--json"])
        #expect(again.status == 0)
        #expect(again.json["cached"] as? Bool == true)
        #expect(again.json["tree_digest"] as? String == digest)
        #expect(again.json["wall_seconds"] == nil)

        // Another "host": the store exported and imported at another path, rebuilt
        // offline from scratch (no cache) as the same recipe gives the same bits.
        // gc keeps what recorded builds were made from (their inputs are pinned).
        #expect(try repro(["store", "gc", "--store", a]).status == 0)
        let bundle = Self.work + "/a.tar"
        #expect(try repro(["store", "export", bundle, "--store", a]).status == 0)
        #expect(try repro(["store", "import", bundle, "--store", b]).status == 0)
        let other = try repro(["build", "recipes/hello.toml", "--store", b, "--offline", "--no-cache", "--json",
                               "--out", Self.work + "/dist-b/hello"])
        #expect(other.status == 0, "\(other.err)")
        #expect(other.json["cached"] as? Bool == false)
        #expect(other.json["tree_digest"] as? String == digest)
        #expect(other.json["archive_digest"] as? String == first.json["archive_digest"] as? String)
        let archiveA = try Data(contentsOf: URL(fileURLWithPath: Self.work + "/dist-a/hello-2.10.tar.gz"))
        let archiveB = try Data(contentsOf: URL(fileURLWithPath: Self.work + "/dist-b/hello-2.10.tar.gz"))
        #expect(archiveA == archiveB)

        // `repro hash` of the output directory is the tree digest.
        #expect(try repro(["hash", Self.work + "/dist-b/hello"]).out == digest.map { $0 + "\n" })
    }

    /// Every real recipe builds from a clean store, and again from another clean store
    /// at another path, with the same tree digest.
    @Test(arguments: ["hello", "lua", "zlib"])
    func recipeIsReproducibleFromCleanStores(name: String) throws {
        let one = Self.work + "/\(name)-1/store", two = Self.work + "/x/y/\(name)-second-store"
        defer {
            try? FileManager.default.removeItem(atPath: Self.work + "/\(name)-1")
            try? FileManager.default.removeItem(atPath: Self.work + "/x")
        }
        let a = try repro(["build", "recipes/\(name).toml", "--store", one, "--json"])
        #expect(a.status == 0, "\(a.err)")
        let b = try repro(["build", "recipes/\(name).toml", "--store", two, "--json"])
        #expect(b.status == 0, "\(b.err)")
        #expect(a.json["cached"] as? Bool == false && b.json["cached"] as? Bool == false)
        #expect((a.json["tree_digest"] as? String)?.hasPrefix("sha256:") == true)
        #expect(a.json["tree_digest"] as? String == b.json["tree_digest"] as? String)
        #expect(a.json["action_digest"] as? String == b.json["action_digest"] as? String)
        #expect((a.json["files"] as? Int ?? 0) > 0)
    }

    /// host toolchain, a git input (one commit's tree, not the work tree) and a path
    /// input archive with strip-components: lock, build, rebuild after a script change.
    @Test func gitAndPathInputsOnTheHostToolchain() throws {
        let dir = Self.work + "/local"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let repo = dir + "/repo"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        func git(_ a: String...) throws { _ = try TestSupportBuild.run(["/usr/bin/git", "-C", repo] + a) }
        try git("init", "-q")
        try "int main(void){return 0;}\n".write(toFile: repo + "/main.c", atomically: true, encoding: .utf8)
        try git("add", "main.c")
        try git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "one")
        let commit = try TestSupportBuild.run(["/usr/bin/git", "-C", repo, "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        // A later, uncommitted change must not reach the build.
        try "garbage".write(toFile: repo + "/main.c", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/data/top", withIntermediateDirectories: true)
        try "payload\n".write(toFile: dir + "/data/top/file.txt", atomically: true, encoding: .utf8)
        _ = try TestSupportBuild.run(["/usr/bin/tar", "-C", dir + "/data", "-czf", dir + "/data.tar.gz", "top"])
        let recipe = """
        name = "local"
        [toolchain]
        host = true
        [inputs.code]
        git = "repo"
        commit = "\(commit)"
        [inputs.data]
        path = "data.tar.gz"
        unpack = true
        strip-components = 1
        [build]
        script = "cc -O2 -o $REPRO_OUT/prog src/code/main.c && cp src/data/file.txt $REPRO_OUT/"
        """
        try recipe.write(toFile: dir + "/local.toml", atomically: true, encoding: .utf8)
        let store = dir + "/store"
        let lock = try repro(["lock", dir + "/local.toml", "--store", store])
        #expect(lock.status == 0, "\(lock.err)")
        let built = try repro(["build", dir + "/local.toml", "--store", store, "--json", "--out", dir + "/out"])
        #expect(built.status == 0, "\(built.err)")
        #expect(built.json["files"] as? Int == 2)
        #expect(try String(contentsOfFile: dir + "/out/file.txt", encoding: .utf8) == "payload\n")
        #expect(FileManager.default.isExecutableFile(atPath: dir + "/out/prog"))
        // The data archive changes: the lock is stale until re-locked.
        _ = try TestSupportBuild.run(["/usr/bin/tar", "-C", dir + "/data", "-cf", dir + "/data.tar.gz", "top"])
        let stale = try repro(["build", dir + "/local.toml", "--store", store])
        #expect(stale.status == 2)
        #expect(stale.err.contains("stale"))
    }

    @Test func offlineWithAnEmptyStoreSaysWhatIsMissing() throws {
        let c = Self.work + "/empty-store"
        defer { try? FileManager.default.removeItem(atPath: c) }
        let r = try repro(["build", "recipes/hello.toml", "--store", c, "--offline"])
        #expect(r.status == 2)
        #expect(r.err.contains("--offline"))
        #expect(r.err.contains("not in the store"))
    }

    @Test func missingAndStaleLocksAreBadInput() throws {
        let dir = Self.work + "/recipes-copy"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let recipe = try String(contentsOfFile: Self.sourceRoot + "/recipes/hello.toml", encoding: .utf8)
        try recipe.write(toFile: dir + "/hello.toml", atomically: true, encoding: .utf8)
        let missing = try repro(["build", dir + "/hello.toml", "--store", dir + "/store"])
        #expect(missing.status == 2)
        #expect(missing.err.contains("does not exist; run 'repro lock"))

        try FileManager.default.copyItem(atPath: Self.sourceRoot + "/recipes/hello.lock", toPath: dir + "/hello.lock")
        try recipe.replacingOccurrences(of: "\"gcc\", ", with: "").write(toFile: dir + "/hello.toml", atomically: true, encoding: .utf8)
        let stale = try repro(["build", dir + "/hello.toml", "--store", dir + "/store"])
        #expect(stale.status == 2)
        #expect(stale.err.contains("is stale"))
        let check = try repro(["lock", "--check", dir + "/hello.toml"])
        #expect(check.status == 2)
        #expect(try repro(["lock", "--check", "recipes/hello.toml"]).status == 0)
    }
}

enum TestSupportBuild {
    static func run(_ args: [String]) throws -> String { try TestKit.run(args).out }
}
