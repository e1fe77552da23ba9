import Foundation
import TestKit
import Testing

/// Remote execution through BuildGrid's Execution service and `repro worker` (the Bots
/// API): the outputs are the bits a local build makes.
@Suite(.serialized, .tags(.realBuild, .network), .enabled(if: TestLayer.full, TestLayer.skipped))
struct RemoteExecTests {
    static let work = NSTemporaryDirectory() + "repro-remote-exec-\(getpid())"

    @Test func helloExecutedRemotelyThroughReproWorkerHasTheLocalDigest() throws {
        let remote = try Services.exec(), instance = try Services.instance()
        let dir = Self.work + "/hello-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let local = try Host(dir + "/local"), client = try Host(dir + "/client")
        let cwd = Fixtures.sourceRoot
        let built = try local.repro(["build", "recipes/hello.toml", "--json"], cwd: cwd)
        #expect(built.status == 0, "\(built.err)")
        let tree = try #require(built.json["tree_digest"] as? String)

        let executed = try client.repro(["build", "recipes/hello.toml", "--remote", remote, "--instance", instance,
                                         "--remote-exec", "--remote-required", "--no-cache", "--json", "--out", dir + "/out"], cwd: cwd)
        #expect(executed.status == 0, "\(executed.err)")
        // --no-cache: skip_cache_lookup, so a worker runs it even if the server has it.
        #expect(executed.remote["outcome"] as? String == "executed", "\(executed.out)")
        #expect(executed.json["tree_digest"] as? String == tree)
        #expect(try TestKit.run([dir + "/out/usr/bin/hello"]).out == "Hello, world!\n")
        // The worker signed the provenance; it verifies here against the restored tree.
        #expect(FileManager.default.fileExists(atPath: dir + "/out.intoto.jsonl"))
    }

    @Test func aWorkerKilledMidLeaseIsReplacedAndTheResultIsTheSame() throws {
        let dir = Self.work + "/killed-\(Fixtures.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A server of this test's own, so that no other worker takes the lease.
        let server = try OwnServer(dir + "/server", execution: true)
        defer { server.stop() }
        let client = try Host(dir + "/client"), local = try Host(dir + "/local")
        let recipe = dir + "/slow.toml"
        try """
        name = "slow"
        [toolchain]
        host = true
        [build]
        script = "sleep 6; echo '\(Fixtures.unique())' > $REPRO_OUT/done"
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
        #expect(try local.repro(["lock", recipe]).status == 0)
        let expected = try local.repro(["build", recipe, "--json"])
        let tree = try #require(expected.json["tree_digest"] as? String, "\(expected.err)")

        let first = try Host(dir + "/worker-1")
        let w1 = try first.background(["worker", "--remote", server.url, "--instance", "main"])
        let build = try client.background(["build", recipe, "--remote", server.url, "--instance", "main",
                                           "--remote-exec", "--remote-required", "--json"])
        // Worker 1 takes the lease and starts the sandbox; then it dies.
        waitUntil(seconds: 120) { ((try? FileManager.default.contentsOfDirectory(atPath: first.store + "/tmp")) ?? []).contains { $0.hasPrefix("build-") } }
        kill(w1.process.processIdentifier, SIGKILL)
        let w1out = w1.finish()
        #expect(w1out.err.contains("accepted"), "\(w1out.err)")
        // Worker 2 gets the requeued lease.
        let second = try Host(dir + "/worker-2")
        let w2 = try second.background(["worker", "--remote", server.url, "--instance", "main"])
        let done = build.finish()
        kill(w2.process.processIdentifier, SIGKILL)
        let w2out = w2.finish()
        #expect(done.status == 0, "\(done.err)\n--- worker 2:\n\(w2out.err)")
        #expect(done.json["tree_digest"] as? String == tree)
        #expect(w2out.err.contains("accepted"), "\(w2out.err)")
    }
}
