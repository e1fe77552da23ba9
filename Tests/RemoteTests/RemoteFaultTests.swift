import Core
import Foundation
import TestKit
import Testing

/// The faults of docs/remote.md, each for real: a closed port, a wrong instance, a
/// server that serves bad bytes, a server killed mid-transfer, a forged provenance.
@Suite(.serialized, .tags(.realBuild, .network), .enabled(if: TestLayer.full, TestLayer.skipped))
struct RemoteFaultTests {
    static let work = NSTemporaryDirectory() + "repro-remote-faults-\(getpid())"

    @Test func aServerThatIsDownMeansALocalBuildWithAWarningOrExit70WhenRequired() throws {
        let dir = Self.work + "/down-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Host(dir + "/a")
        let recipe = try Fixtures.smallRecipe(in: dir + "/recipe", salt: Fixtures.unique())
        let closed = "grpc://127.0.0.1:\(try OwnServer.freePort())"
        let local = try a.repro(["build", recipe, "--remote", closed, "--json"])
        #expect(local.status == 0, "\(local.err)")
        #expect(local.remote["outcome"] as? String == "unavailable")
        #expect(local.err.contains("warning") && local.err.contains("unavailable") && local.err.contains("building locally"), "\(local.err)")
        #expect((local.json["tree_digest"] as? String)?.hasPrefix("sha256:") == true)

        let required = try a.repro(["build", recipe, "--remote", closed, "--remote-required", "--no-cache"])
        #expect(required.status == 70, "\(required.err)")
        #expect(required.err.contains(closed.replacingOccurrences(of: "grpc://", with: "")), "\(required.err)")
        #expect(required.err.contains("after 5 attempts"), "\(required.err)")
    }

    @Test func aWrongInstanceNameIsBadInput() throws {
        let remote = try Services.cache()
        let dir = Self.work + "/instance-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Host(dir + "/a")
        let recipe = try Fixtures.smallRecipe(in: dir + "/recipe", salt: Fixtures.unique())
        let r = try a.repro(["build", recipe, "--remote", remote, "--instance", "no-such-instance", "--remote-required"])
        #expect(r.status == 2, "\(r.err)")
        #expect(r.err.contains("no-such-instance"), "\(r.err)")
    }

    @Test func aBlobWhoseBytesDoNotMatchItsDigestIsRejectedAndNamed() throws {
        let dir = Self.work + "/corrupt-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try OwnServer(dir + "/server")
        defer { server.stop() }
        let a = try Host(dir + "/a"), b = try Host(dir + "/b")
        let recipe = try Fixtures.smallRecipe(in: dir + "/recipe", salt: Fixtures.unique())
        let built = try a.repro(["build", recipe, "--json"])
        let tree = try #require(built.json["tree_digest"] as? String)
        let pushed = try a.repro(["store", "push", "--remote", server.url, "--instance", "main", tree])
        #expect(pushed.status == 0, "\(pushed.err)")

        // The server's copy of "file 2\n" now holds other bytes of the same length.
        let hex = String(try #require(sha256Hex("file 2\n")))
        let object = server.objectPath(hex)
        #expect(FileManager.default.fileExists(atPath: object), "\(object)")
        try Data("file X\n".utf8).write(to: URL(fileURLWithPath: object))

        let pulled = try b.repro(["store", "pull", "--remote", server.url, "--instance", "main", tree])
        #expect(pulled.status == 4, "\(pulled.err)")
        #expect(pulled.err.contains("sha256:" + hex), "\(pulled.err)")
        #expect(!FileManager.default.fileExists(atPath: "\(b.store)/cas/sha256/\(hex.prefix(2))/\(hex)"))
        #expect(try b.repro(["store", "verify"]).status == 0)
    }

    @Test func aServerThatStreamsMoreThanABlobsSizeIsCutOffAndNamed() throws {
        let dir = Self.work + "/oversized-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let b = try Host(dir + "/b")
        // A server of our own that streams without end for any blob (BuildGrid never
        // sends more than a blob's size, so it cannot play this part).
        let port = try OwnServer.freePort()
        let python = (try Services.value("REPRO_TEST_BGD") as NSString).deletingLastPathComponent + "/python"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        server.arguments = [Fixtures.sourceRoot + "/Tests/RemoteTests/Fixtures/endless_bytestream.py", String(port), dir + "/ready"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        waitUntil { FileManager.default.fileExists(atPath: dir + "/ready") }

        // A 6 MiB blob: over the batch limit, so it is read by ByteStream.
        let blob = "sha256:" + String(repeating: "ab", count: 32) + "/6291456"
        let pulled = try b.repro(["store", "pull", "--remote", "grpc://127.0.0.1:\(port)", "--instance", "main", blob])
        #expect(pulled.status == 4, "\(pulled.err)")
        #expect(pulled.err.contains("sent more than the 6291456 bytes") && pulled.err.contains(String(repeating: "ab", count: 32)),
                "\(pulled.err)")
        #expect(try b.repro(["store", "verify"]).status == 0)
    }

    @Test func aServerKilledMidTransferIsRetriedThenAnErrorAndLeavesNoPartialBlob() throws {
        let dir = Self.work + "/killed-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Host(dir + "/a"), b = try Host(dir + "/b")
        // 40 files of 6 MiB of random bytes: every one goes through ByteStream.
        let recipe = dir + "/big.toml"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
        name = "big"
        [toolchain]
        host = true
        [build]
        script = "for i in $(seq 1 40); do head -c 6291456 /dev/urandom > $REPRO_OUT/blob$i; done"
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
        #expect(try a.repro(["lock", recipe]).status == 0)
        let built = try a.repro(["build", recipe, "--json"])
        let tree = try #require(built.json["tree_digest"] as? String, "\(built.err)")

        // Upload: the server dies once blobs arrive.
        let upServer = try OwnServer(dir + "/server-up")
        let push = try a.background(["store", "push", "--remote", upServer.url, "--instance", "main", tree])
        waitUntil { (try? FileManager.default.subpathsOfDirectory(atPath: upServer.dir + "/cas/cas/objects").count) ?? 0 > 2 }
        upServer.kill()
        let pushed = push.finish()
        #expect(pushed.status == 70, "\(pushed.err)")
        #expect(pushed.err.contains("unavailable") && pushed.err.contains("attempts"), "\(pushed.err)")

        // Download: a whole copy on a second server, which dies mid-pull.
        let downServer = try OwnServer(dir + "/server-down")
        #expect(try a.repro(["store", "push", "--remote", downServer.url, "--instance", "main", tree]).status == 0)
        let pull = try b.background(["store", "pull", "--remote", downServer.url, "--instance", "main", tree])
        // Blobs are staged in tmp/ as they arrive and enter cas/ together at the end.
        waitUntil { ((try? FileManager.default.contentsOfDirectory(atPath: b.store + "/tmp")) ?? []).filter { $0.hasPrefix("blob.") }.count > 3 }
        downServer.kill()
        let pulled = pull.finish()
        #expect(pulled.status == 70, "\(pulled.err)")
        #expect(pulled.err.contains("unavailable"), "\(pulled.err)")
        // Nothing half-written: every stored blob verifies, no temporary blob is left,
        // and the tree was not recorded.
        #expect(try b.repro(["store", "verify"]).status == 0)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: b.store + "/tmp")) ?? []
        #expect(leftovers.filter { $0.hasPrefix("blob.") }.isEmpty, "\(leftovers)")
        // And none of the file blobs received before the server died entered the store
        // (only the tree's manifest, fetched first to learn what to pull).
        let stored = (FileManager.default.enumerator(atPath: b.store + "/cas/sha256")?.allObjects as? [String] ?? [])
            .filter { $0.contains("/") }  // SHARD/HEX: a blob, not a shard directory
        #expect(stored.filter { !tree.hasSuffix($0.split(separator: "/").last ?? "") }.isEmpty, "\(stored)")
    }

    @Test func aRemoteResultWhoseProvenanceDoesNotVerifyIsRefusedWithExit4() throws {
        let dir = Self.work + "/forged-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try OwnServer(dir + "/server")
        defer { server.stop() }
        let a = try Host(dir + "/a"), b = try Host(dir + "/b")
        let recipe = try Fixtures.smallRecipe(in: dir + "/recipe", salt: Fixtures.unique())
        let up = try a.repro(["build", recipe, "--remote", server.url, "--instance", "main", "--json"])
        #expect(up.status == 0, "\(up.err)")
        let action = try #require(up.remote["reapi_action"] as? String)
        let size = try #require(up.remote["reapi_action_size"] as? Int)

        // Rewrite the statement inside the envelope (the signature stays A's) and point
        // the action result at the forged envelope: every blob is intact, the
        // provenance is not.
        let python = (try Services.value("REPRO_TEST_BGD") as NSString).deletingLastPathComponent + "/python"
        let forge = try TestKit.run([python, Fixtures.sourceRoot + "/Tests/RemoteTests/Fixtures/forge_provenance.py",
                                     "127.0.0.1:\(server.port)", "main", action, String(size)])
        #expect(forge.status == 0, "\(forge.stderr)")

        let hit = try b.repro(["build", recipe, "--remote", server.url, "--instance", "main", "--json"])
        #expect(hit.status == 4, "\(hit.err)")
        #expect(hit.err.contains("does not verify"), "\(hit.err)")
        // Nothing recorded: the store has no action for the recipe, so an offline
        // build must run the sandbox.
        let after = try b.repro(["build", recipe, "--json", "--offline"])
        #expect(after.json["cached"] as? Bool == false, "\(after.out)")
    }
}

func sha256Hex(_ text: String) -> String? { Digest.of(text).hex }

func waitUntil(seconds: Double = 60, _ condition: () -> Bool) {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end, !condition() { usleep(20_000) }
}

/// A `repro` run in the background, to break something while it runs.
struct Background {
    let process: Process
    let out: Pipe, err: Pipe
    func finish() -> Host.Run {
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Host.Run(status: process.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }
}

extension Host {
    func background(_ args: [String]) throws -> Background {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestKit.repro)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in ["REPRO_HOME": store, "XDG_CONFIG_HOME": config, "REPRO_SIGNING_KEY": key, "REPRO_REMOTE": ""] { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return Background(process: p, out: out, err: err)
    }
}
