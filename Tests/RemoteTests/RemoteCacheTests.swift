import Foundation
import TestKit
import Testing

/// Two stores as two hosts sharing one BuildGrid (cache-only configuration): what host
/// A builds, host B gets as a remote cache hit, bit for bit, with A's signed provenance,
/// which verifies on B.
@Suite(.serialized, .tags(.realBuild, .network), .enabled(if: TestLayer.full, TestLayer.skipped))
struct RemoteCacheTests {
    static let work = NSTemporaryDirectory() + "repro-remote-tests-\(getpid())"

    @Test func hostBGetsHostAsHelloAsARemoteCacheHitWithVerifyingProvenance() throws {
        let remote = try Services.cache(), instance = try Services.instance()
        let dir = Self.work + "/hello-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Host(dir + "/a"), b = try Host(dir + "/b")
        let cwd = Fixtures.sourceRoot

        // A: a miss (or a hit from an earlier run on this server), built and uploaded.
        let built = try a.repro(["build", "recipes/hello.toml", "--remote", remote, "--instance", instance,
                                 "--json", "--out", dir + "/dist-a/hello"], cwd: cwd)
        #expect(built.status == 0, "\(built.err)")
        let tree = try #require(built.json["tree_digest"] as? String)
        #expect(["uploaded", "remote-hit"].contains(built.remote["outcome"] as? String), "\(built.out)")

        // B: an empty store; a remote hit with A's tree digest, no sandbox run.
        let hit = try b.repro(["build", "recipes/hello.toml", "--remote", remote, "--instance", instance,
                               "--json", "--out", dir + "/dist-b/hello"], cwd: cwd)
        #expect(hit.status == 0, "\(hit.err)")
        #expect(hit.json["tree_digest"] as? String == tree)
        #expect(hit.remote["outcome"] as? String == "remote-hit", "\(hit.out)")
        #expect(hit.json["cached"] as? Bool == true)
        let hello = try TestKit.run([dir + "/dist-b/hello/usr/bin/hello"])
        #expect(hello.out == "Hello, world!\n")
        // The archive the recipe makes came along, byte for byte.
        let archiveA = FileManager.default.contents(atPath: dir + "/dist-a/hello-2.10.tar.gz")
        let archiveB = FileManager.default.contents(atPath: dir + "/dist-b/hello-2.10.tar.gz")
        #expect(archiveA != nil && archiveA == archiveB)

        // B's provenance is the one the building host signed, and it verifies on B
        // against the outputs B restored.
        let provA = FileManager.default.contents(atPath: dir + "/dist-a/hello.intoto.jsonl")
        let provB = FileManager.default.contents(atPath: dir + "/dist-b/hello.intoto.jsonl")
        #expect(provA != nil && provA == provB)
        let signer = built.remote["outcome"] as? String == "uploaded" ? a.publicKey : nil
        if let signer {
            let verify = try b.repro(["attest", "verify", dir + "/dist-b/hello.intoto.jsonl", "--key", signer,
                                      "--artifact", dir + "/dist-b/hello"])
            #expect(verify.status == 0, "\(verify.err)")
        }
        #expect(try b.repro(["store", "verify"]).status == 0)

        // Trusting only B's own key: A's result is refused (exit 4), nothing recorded.
        let c = try Host(dir + "/c")
        let refused = try c.repro(["build", "recipes/hello.toml", "--remote", remote, "--instance", instance,
                                   "--trusted-key", c.publicKey, "--json"], cwd: cwd)
        #expect(refused.status == 4, "\(refused.err)")
        #expect(refused.err.contains("not among the trusted keys"), "\(refused.err)")
    }

    @Test func pushAndPullMoveATreeAndARecipeResult() throws {
        let remote = try Services.cache(), instance = try Services.instance()
        let dir = Self.work + "/push-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Host(dir + "/a"), b = try Host(dir + "/b")
        let recipe = try Fixtures.smallRecipe(in: dir + "/recipe", salt: Fixtures.unique())

        let built = try a.repro(["build", recipe, "--json"])
        #expect(built.status == 0, "\(built.err)")
        let tree = try #require(built.json["tree_digest"] as? String)
        let pushed = try a.repro(["store", "push", "--remote", remote, "--instance", instance, "--recipe", recipe, "--json", tree])
        #expect(pushed.status == 0, "\(pushed.err)")
        #expect((pushed.json["blobs"] as? Int ?? 0) > 0)

        // A tree by digest: its manifest and files, recorded, restorable.
        let pulled = try b.repro(["store", "pull", "--remote", remote, "--instance", instance, "--json", tree])
        #expect(pulled.status == 0, "\(pulled.err)")
        #expect((pulled.json["blobs"] as? Int ?? 0) >= 4)
        // The recipe's result: a build on B is now a local cache hit with A's tree.
        let byRecipe = try b.repro(["store", "pull", "--remote", remote, "--instance", instance, "--recipe", recipe, "--json"])
        #expect(byRecipe.status == 0, "\(byRecipe.err)")
        #expect(byRecipe.json["tree"] as? String == tree)
        let local = try b.repro(["build", recipe, "--json", "--out", dir + "/out-b"])
        #expect(local.status == 0, "\(local.err)")
        #expect(local.json["cached"] as? Bool == true)
        #expect(local.json["tree_digest"] as? String == tree)
        #expect(FileManager.default.isExecutableFile(atPath: dir + "/out-b/bin/hi"))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/out-b/bin/link")) == "../share/f1.txt")

        // A digest the remote does not have: named, exit 2.
        let absent = try b.repro(["store", "pull", "--remote", remote, "--instance", instance,
                                  "sha256:" + String(repeating: "ab", count: 32)])
        #expect(absent.status == 2, "\(absent.err)")
    }

    @Test func theConfigFileAndREPRO_REMOTENameTheRemote() throws {
        let remote = try Services.cache(), instance = try Services.instance()
        let dir = Self.work + "/config-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Host(dir + "/a"), b = try Host(dir + "/b")
        let recipe = try Fixtures.smallRecipe(in: dir + "/recipe", salt: Fixtures.unique())
        try FileManager.default.createDirectory(atPath: a.config + "/repro", withIntermediateDirectories: true)
        try """
        [remote]
        url = "\(remote)"
        instance = "\(instance)"
        """.write(toFile: a.config + "/repro/config.toml", atomically: true, encoding: .utf8)
        let up = try a.repro(["build", recipe, "--json"])
        #expect(up.status == 0, "\(up.err)")
        #expect(up.remote["outcome"] as? String == "uploaded", "\(up.out)")
        let hit = try b.repro(["build", recipe, "--json"], env: ["REPRO_REMOTE": remote, "REPRO_REMOTE_INSTANCE": instance])
        #expect(hit.status == 0, "\(hit.err)")
        #expect(hit.remote["outcome"] as? String == "remote-hit", "\(hit.out)")
        #expect(hit.json["tree_digest"] as? String == up.json["tree_digest"] as? String)

        // A bad config is bad input with file:line.
        try "[remote]\nurl = 5\n".write(toFile: a.config + "/repro/config.toml", atomically: true, encoding: .utf8)
        let bad = try a.repro(["build", recipe])
        #expect(bad.status == 2)
        #expect(bad.err.contains("config.toml:2"), "\(bad.err)")
    }
}
