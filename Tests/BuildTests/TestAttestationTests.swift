import Attest
import Build
import Core
import Foundation
import Recipe
import TestKit
import Testing

/// A real build's outputs, attested as tested: the statement's subjects are the tree and
/// archive `repro build` made, and `repro attest verify --artifact` accepts them on disk.
@Suite(.serialized, .tags(.sandbox)) struct TestAttestationTests {
    @Test func testResultOfARealBuildVerifiesAgainstItsOutputs() throws {
        let dir = try TestKit.tempDir("repro-test-attest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["HOME": dir + "/home", "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin"]
        func repro(_ args: [String]) throws -> TestKit.Output { try TestKit.run([TestKit.repro] + args, environment: env) }
        let recipePath = dir + "/tested.toml"
        try """
        name = "tested"
        version = "1.0"
        [toolchain]
        host = true
        [build]
        script = '''
        mkdir -p $REPRO_OUT/bin
        printf 'hello\\n' > $REPRO_OUT/bin/hello
        '''
        [outputs]
        archive = "tar"
        [test]
        framework = "junit"
        script = "true"
        reports = ["/build/results.xml"]
        faults = "seed=1"
        """.write(toFile: recipePath, atomically: true, encoding: .utf8)
        let store = dir + "/store"
        let lock = try repro(["lock", recipePath, "--store", store])
        try #require(lock.status == 0, "\(lock.stderr)")
        let built = try repro(["build", recipePath, "--store", store, "--out", dir + "/dist/tested", "--json"])
        try #require(built.status == 0, "\(built.stderr)")
        let outcome = try JSONDecoder().decode(BuildOutcome.self, from: Data(built.out.utf8))
        #expect(outcome.archive == "tested-1.0.tar")

        let recipe = try Recipe.load(path: recipePath)
        let config = try TestAttestation.configuration(recipe: recipe, lock: try LockFile.read(path: recipe.lockPath),
                                                       build: outcome, order: "original", options: ["fail-fast": "true"])
        #expect(config.toolchain == "host" && config.framework == "junit" && config.faults == "seed=1")
        #expect(config.recipeSHA256 == recipe.digest.hex)
        #expect(config.recipeFileSHA256 == Digest.of(try Data(contentsOf: URL(fileURLWithPath: recipePath))).hex)
        #expect(config.buildAction == outcome.actionDigest)
        var outcomes = TestOutcomes()
        try outcomes.add(id: "suite.test_ok", verdict: "pass")
        try outcomes.add(id: "suite.test_bad", verdict: "timeout")
        let statement = TestAttestation.statement(build: outcome, outcomes: outcomes, configuration: config,
                                                  runID: "12", interrupted: false)
        #expect(statement.predicate.url == "repro-test-run:12")
        #expect(statement.subject.map(\.name) == [".", "tested-1.0.tar"])

        let keys = try KeyPair.generate(.ed25519).write(to: dir + "/keys")
        var notes: [String] = []
        let envelope = try TestAttestation.sign(statement, key: keys.privatePath) { notes.append($0) }
        #expect(notes.isEmpty)
        let path = dir + "/dist/tested.test.intoto.jsonl"
        try envelope.write(to: URL(fileURLWithPath: path))

        for artifact in [dir + "/dist/tested", dir + "/dist/tested-1.0.tar"] {
            let ok = try repro(["attest", "verify", path, "--key", keys.publicPath, "--artifact", artifact,
                                "--recipe-digest", outcome.recipeDigest, "--test-result", "FAILED"])
            #expect(ok.status == 0, "\(artifact): \(ok.stderr)")
        }
        #expect(try repro(["attest", "verify", path, "--key", keys.publicPath, "--test-result", "PASSED"]).status == 4)
        // The same tree's provenance verifies against the same directory.
        let prov = try repro(["attest", "verify", dir + "/dist/tested.intoto.jsonl", "--key", dir + "/config/repro/keys/signing.pub.pem",
                              "--artifact", dir + "/dist/tested"])
        #expect(prov.status == 0, "\(prov.stderr)")
        #expect(prov.out.contains("tree \(outcome.treeDigest)"))
    }
}
