import Attest
import Core
import Foundation
import TestKit
import Testing

/// Signed test results: the in-toto test-result statement, its verdict mapping and
/// determinism, DSSE round trip, the verifier's checks, `repro attest verify` on it, and
/// the in-toto-attestation package's reading of it.
@Suite(.tags(.unit)) struct TestResultTests {
    static let tree = String(repeating: "c", count: 64)
    static let archive = (name: "hello-2.10.tar.gz", sha256: Digest.of("archive").hex)

    static func configuration(faults: String? = nil) -> TestConfiguration {
        TestConfiguration(recipePath: "recipes/hello.toml", recipeSHA256: String(repeating: "a", count: 64),
                          recipeFileSHA256: String(repeating: "f", count: 64), lockPath: "recipes/hello.lock", lockSHA256: String(repeating: "b", count: 64),
                          toolchain: "sha256:" + String(repeating: "e", count: 64), framework: "pytest",
                          order: "random:42", faults: faults, buildAction: "sha256:" + String(repeating: "d", count: 64),
                          options: ["filter": "test_", "rerun-failures": "2"])
    }

    /// A run as the runner reports it: final verdicts with the flaky flag.
    static let verdicts: [(String, String, Bool)] = [
        ("tests/test_b.py::test_two", "pass", false), ("tests/test_a.py::test_one", "pass", false),
        ("tests/test_c.py::test_flaky", "pass", true), ("tests/test_c.py::test_flaky_fail", "fail", true),
        ("tests/test_d.py::test_skip", "skip", false),
    ]

    static func outcomes(_ verdicts: [(String, String, Bool)] = verdicts) throws -> TestOutcomes {
        var o = TestOutcomes()
        for (id, verdict, flaky) in verdicts { try o.add(id: id, verdict: verdict, flaky: flaky) }
        return o
    }

    static func statement(_ verdicts: [(String, String, Bool)] = verdicts, faults: String? = nil,
                          interrupted: Bool = false) throws -> TestResultStatement {
        TestResultStatement(tree: tree, archive: archive, outcomes: try outcomes(verdicts),
                            configuration: configuration(faults: faults), url: "repro-test-run:7", interrupted: interrupted)
    }

    @Test func statementHasTheSpecShape() throws {
        let s = try Self.statement(faults: "seed=1; write:eio@0.1")
        let json = try JSONSerialization.jsonObject(with: try s.json()) as! [String: Any]
        #expect(json["_type"] as? String == "https://in-toto.io/Statement/v1")
        #expect(json["predicateType"] as? String == "https://in-toto.io/attestation/test-result/v0.1")
        #expect(Set(json.keys) == ["_type", "subject", "predicateType", "predicate"])
        let p = json["predicate"] as! [String: Any]
        #expect(Set(p.keys) == ["result", "configuration", "url", "passedTests", "warnedTests", "failedTests"])
        #expect(p["result"] as? String == "WARNED")
        #expect(p["url"] as? String == "repro-test-run:7")
        #expect(p["passedTests"] as? [String] == ["tests/test_a.py::test_one", "tests/test_b.py::test_two"])
        #expect(p["warnedTests"] as? [String] == ["tests/test_c.py::test_flaky", "tests/test_c.py::test_flaky_fail"])
        #expect(p["failedTests"] as? [String] == [])

        // Subjects: the output tree (as build provenance names it) and the archive.
        #expect(s.subject.map(\.name) == [".", "hello-2.10.tar.gz"])
        #expect(s.subject[0].digest == ["sha256": Self.tree])
        #expect(s.subject[0].annotations?["repro.tree"] == .bool(true))
        #expect(s.subject[1].digest == ["sha256": Self.archive.sha256])
        #expect(s.subject[1].annotations?["repro.archive"] == .bool(true))

        // Configuration: recipe, lock, test toolchain, the run, the fault spec.
        #expect(s.predicate.configuration.map { $0.annotations?["repro.role"]?.string }
            == ["recipe", "lock", "test-toolchain", "test-run", "faults"])
        #expect(s.configuration(.recipe)?.name == "recipes/hello.toml")
        #expect(s.configuration(.recipe)?.digest == ["sha256": String(repeating: "a", count: 64)])
        #expect(s.configuration(.recipe)?.annotations?["fileSHA256"] == .string(String(repeating: "f", count: 64)))
        #expect(s.configuration(.lock)?.digest == ["sha256": String(repeating: "b", count: 64)])
        #expect(s.configuration(.toolchain)?.digest == ["sha256": String(repeating: "e", count: 64)])
        let run = try #require(s.configuration(.run)?.annotations)
        #expect(run["framework"] == .string("pytest"))
        #expect(run["order"] == .string("random:42"))
        #expect(run["buildAction"] == .string("sha256:" + String(repeating: "d", count: 64)))
        #expect(run["options"]?["rerun-failures"] == .string("2"))
        #expect(s.skippedTests == ["tests/test_d.py::test_skip"])
        #expect(s.configuration(.faults)?.digest == ["sha256": Digest.of(Data("seed=1; write:eio@0.1".utf8)).hex])
        #expect(s.configuration(.faults)?.annotations?["spec"] == .string("seed=1; write:eio@0.1"))
        #expect(try TestResultStatement.parse(try s.json()) == s)

        // Without archive, url and faults: only what is known.
        let bare = TestResultStatement(tree: Self.tree, outcomes: TestOutcomes(passed: ["t"]),
                                       configuration: TestConfiguration(recipePath: "r.toml", recipeSHA256: Self.tree, lockPath: "r.lock",
                                                                        lockSHA256: Self.tree, toolchain: "host", framework: "ctest", order: "original"))
        let bareJSON = String(decoding: try bare.json(), as: UTF8.self)
        #expect(bare.subject.count == 1)
        #expect(!bareJSON.contains("\"url\"") && !bareJSON.contains("\"faults\"") && !bareJSON.contains("\"options\""))
        #expect(bare.configuration(.toolchain)?.digest == nil)
        #expect(bare.configuration(.toolchain)?.annotations?["id"] == .string("host"))
        #expect(bare.predicate.result == "PASSED")
    }

    @Test func theSameRunGivesTheSameBytes() throws {
        let a = try Self.statement().json()
        let b = try Self.statement(Self.verdicts.reversed()).json()
        #expect(a == b)
        // Canonical: sorted keys, one line, no escaped slashes.
        let text = String(decoding: a, as: UTF8.self)
        #expect(!text.contains("\n") && !text.contains("\\/"))
        #expect(text.hasPrefix(#"{"_type":"https://in-toto.io/Statement/v1","predicate":{"configuration":["#))
        // Sorting is by UTF-8 bytes: "Z" (0x5a) before "a" (0x61), "é" after both.
        let o = TestOutcomes(passed: ["é", "a", "Z", "a"])
        #expect(o.ids(.passed) == ["Z", "a", "é"])
        // Any change of facts changes the bytes.
        #expect(try Self.statement(Self.verdicts + [("x", "fail", false)]).json() != a)
    }

    @Test(arguments: [("pass", false, TestOutcomes.Outcome.passed), ("pass", true, .warned), ("fail", true, .warned),
                      ("fail", false, .failed), ("error", false, .failed), ("timeout", false, .failed),
                      ("crashed", false, .failed), ("skip", false, .skipped)])
    func verdictsMapToThePredicateLists(_ verdict: String, _ flaky: Bool, _ want: TestOutcomes.Outcome) throws {
        #expect(try TestOutcomes.outcome(verdict: verdict, flaky: flaky) == want)
        let s = TestResultStatement(tree: Self.tree, outcomes: try Self.outcomes([("t", verdict, flaky)]),
                                    configuration: Self.configuration())
        let p = s.predicate
        #expect(p.passedTests == (want == .passed ? ["t"] : []))
        #expect(p.warnedTests == (want == .warned ? ["t"] : []))
        #expect(p.failedTests == (want == .failed ? ["t"] : []))
        #expect(s.skippedTests == (want == .skipped ? ["t"] : []))
        #expect(p.result == (want == .failed ? "FAILED" : want == .warned ? "WARNED" : "PASSED"))
    }

    @Test func resultAndMerging() throws {
        #expect(try Self.statement([("a", "pass", false), ("b", "skip", false)]).predicate.result == "PASSED")
        #expect(try Self.statement([("a", "pass", false), ("b", "pass", true)]).predicate.result == "WARNED")
        #expect(try Self.statement([("a", "pass", true), ("b", "timeout", false)]).predicate.result == "FAILED")
        // An interrupted run did not run every test: never PASSED.
        let cut = try Self.statement([("a", "pass", false)], interrupted: true)
        #expect(cut.predicate.result == "FAILED")
        #expect(cut.configuration(.run)?.annotations?["interrupted"] == .bool(true))
        // One id reported twice keeps its worst outcome, in one list.
        let twice = try Self.statement([("a", "fail", false), ("a", "pass", false), ("b", "skip", false), ("b", "pass", false)])
        #expect(twice.predicate.failedTests == ["a"] && twice.predicate.passedTests == ["b"] && twice.skippedTests == [])
        #expect(throws: ReproError.self) { try TestOutcomes.outcome(verdict: "passed", flaky: false) }
        #expect(throws: ReproError.self) { try TestOutcomes.outcome(verdict: "passed", flaky: true) }
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func signedStatementRoundTrips(_ algorithm: KeyAlgorithm) throws {
        let key = try KeyPair.generate(algorithm)
        let s = try Self.statement()
        let bytes = try s.sign(key: key.privateKey)
        #expect(bytes.last == 0x0a && !bytes.dropLast().contains(0x0a))
        let env = try DSSEEnvelope.parse(bytes)
        #expect(env.payloadType == "application/vnd.in-toto+json")
        #expect(env.signatures.map(\.keyid) == [key.publicKey.keyID])
        #expect(try DSSE.verify(env, key: key.publicKey) == (try s.json()))
        guard case let .testResult(got) = try AttestationVerifier.verify(env, key: key.publicKey, expect: .init()) else {
            Issue.record("not detected as a test result")
            return
        }
        #expect(got == s)
        #expect(try TestResultVerifier.verify(env, key: key.publicKey, expect: .init()) == s)

        // Tampered: a failing run rewritten as passing, re-encoded under the old signature.
        var forged = try Self.statement([("a", "fail", false)])
        let signed = try DSSEEnvelope.parse(try forged.sign(key: key.privateKey))
        forged.predicate.result = "PASSED"
        forged.predicate.passedTests = forged.predicate.failedTests
        forged.predicate.failedTests = []
        var tampered = signed
        tampered.payload = try forged.json().base64EncodedString()
        expectFailure(containing: "signature mismatch") { _ = try AttestationVerifier.verify(tampered, key: key.publicKey, expect: .init()) }
        // Another key of the same type.
        let other = try KeyPair.generate(algorithm).publicKey
        expectFailure(containing: "no signature by key") { _ = try AttestationVerifier.verify(env, key: other, expect: .init()) }
    }

    @Test func verifierChecksShapeArtifactsAndExpectations() throws {
        let key = try KeyPair.generate(.ed25519)
        func verify(_ s: TestResultStatement, _ e: AttestationExpectations = .init()) throws {
            _ = try AttestationVerifier.verify(try DSSEEnvelope.parse(try s.sign(key: key.privateKey)), key: key.publicKey, expect: e)
        }
        let good = try Self.statement([("a", "pass", false), ("b", "fail", false)])
        try verify(good)

        var e = AttestationExpectations()
        e.directory = ("dist/hello", [:], Self.tree)
        e.file = ("dist/hello-2.10.tar.gz", Self.archive.sha256)
        e.recipeDigest = "sha256:" + String(repeating: "A", count: 64)
        e.testResult = "failed"
        try verify(good, e)

        e = .init(); e.directory = ("dist/hello", ["bin/hello": Self.tree], String(repeating: "0", count: 64))
        expectFailure(containing: "the tree digest of dist/hello is sha256:\(String(repeating: "0", count: 64)), the statement says sha256:\(Self.tree)") { try verify(good, e) }
        e = .init(); e.file = ("x.tar.gz", Digest.of("other").hex)
        expectFailure(containing: "artifact x.tar.gz (sha256:\(Digest.of("other").hex)) is not a subject") { try verify(good, e) }
        e = .init(); e.recipeDigest = String(repeating: "9", count: 64)
        expectFailure(containing: "the recipe digest is sha256:\(String(repeating: "a", count: 64)), expected sha256:") { try verify(good, e) }
        e = .init(); e.testResult = "PASSED"
        expectFailure(containing: "the test result is FAILED, expected PASSED (1 failed: b, 0 flaky)") { try verify(good, e) }
        e = .init(); e.builderID = "urn:repro:builder:ci"
        expectFailure(containing: "the statement is a test result, which names no builder") { try verify(good, e) }

        // Shape: each signed by the right key, each still rejected.
        var s = good; s.predicate.result = "OK"
        expectFailure(containing: #"predicate.result is "OK", expected one of PASSED, WARNED, FAILED"#) { try verify(s) }
        s = good; s.predicate.result = "PASSED"
        expectFailure(containing: "predicate.result is PASSED but 1 tests failed (b)") { try verify(s) }
        s = good; s.predicate.passedTests.append("b")
        expectFailure(containing: #"test "b" is in predicate.passedTests and predicate.failedTests"#) { try verify(s) }
        s = good; s.predicate.configuration = []
        expectFailure(containing: "predicate.configuration is empty") { try verify(s) }
        s = good; s.subject.removeFirst()
        expectFailure(containing: "the statement has no tree subject") { try verify(s) }
        s = good; s.subject[0].digest = ["sha1": "x"]
        expectFailure(containing: "subject 0 (.) has no sha256 digest") { try verify(s) }
        s = good; s.predicateType = "https://example.com/other/v1"
        expectFailure(containing: #"predicateType is "https://example.com/other/v1"; repro verifies"#) { try verify(s) }

        // A provenance envelope expected to be a test result.
        let prov = try DSSE.sign(payload: try ProvenanceStatement(ProvenanceTests.facts()).json(), key: key.privateKey)
        e = .init(); e.testResult = "PASSED"
        expectFailure(containing: "the statement is SLSA provenance, not a test result") {
            _ = try AttestationVerifier.verify(prov, key: key.publicKey, expect: e)
        }
        guard case .provenance = try AttestationVerifier.verify(prov, key: key.publicKey, expect: .init()) else {
            Issue.record("provenance not detected")
            return
        }
    }

    // MARK: the CLI and the reference implementation

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CLI.repro), "repro not built"))
    func reproAttestVerifyChecksTestResults() throws {
        let dir = try Conformance.tempDir()
        let env = ["XDG_CONFIG_HOME": dir + "/cfg", "HOME": dir, "PATH": "/usr/bin:/bin"]
        let key = try KeyPair.generate(.ecdsaP256)
        let (_, pub) = try key.write(to: dir + "/keys")
        try FileManager.default.createDirectory(atPath: dir + "/out/bin", withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: dir + "/out/bin/hello"))
        let hash = try CLI.run(["hash", dir + "/out", "--json"], env)
        try #require(hash.status == 0, "\(hash.err)")
        let treeDigest = try #require((try JSONSerialization.jsonObject(with: Data(hash.out.utf8)) as? [String: Any])?["tree_digest"] as? String)
        let statement = TestResultStatement(tree: String(treeDigest.dropFirst(7)), outcomes: try Self.outcomes(),
                                            configuration: Self.configuration())
        let path = dir + "/out.test.intoto.jsonl"
        try statement.sign(key: key.privateKey).write(to: URL(fileURLWithPath: path))

        let ok = try CLI.run(["attest", "verify", path, "--key", pub, "--artifact", dir + "/out", "--test-result", "warned"], env)
        #expect(ok.status == 0, "\(ok.err)")
        #expect(ok.out.contains("test result WARNED (2 passed, 2 flaky, 0 failed, 1 skipped); tree \(treeDigest)"), "\(ok.out)")
        let json = try CLI.run(["attest", "verify", path, "--key", pub, "--json"], env)
        #expect(json.status == 0)
        #expect(json.out.contains(#""predicate_type":"https://in-toto.io/attestation/test-result/v0.1""#), "\(json.out)")
        #expect(json.out.contains(#""tests":{"failed":0,"passed":2,"skipped":1,"warned":2}"#), "\(json.out)")
        let show = try CLI.run(["attest", "show", path, "--key", pub], env)
        #expect(show.status == 0 && show.out.contains("WARNED: 2 passed, 2 flaky, 0 failed, 1 skipped"), "\(show.out)\(show.err)")

        // The output changed after the tests ran: exit 4, saying which digest.
        try Data("changed".utf8).write(to: URL(fileURLWithPath: dir + "/out/bin/hello"))
        let changed = try CLI.run(["attest", "verify", path, "--key", pub, "--artifact", dir + "/out"], env)
        #expect(changed.status == 4)
        #expect(changed.err.contains("the tree digest of \(dir)/out is sha256:"), "\(changed.err)")
        // A tampered payload and a wrong key: exit 4.
        var tampered = try DSSEEnvelope.parse(try Data(contentsOf: URL(fileURLWithPath: path)))
        var forged = statement; forged.predicate.result = "PASSED"
        tampered.payload = try forged.json().base64EncodedString()
        try tampered.json().write(to: URL(fileURLWithPath: dir + "/tampered.jsonl"))
        let t = try CLI.run(["attest", "verify", dir + "/tampered.jsonl", "--key", pub], env)
        #expect(t.status == 4 && t.err.contains("signature mismatch"), "\(t.err)")
        let other = try KeyPair.generate(.ecdsaP256).write(to: dir + "/other")
        let w = try CLI.run(["attest", "verify", path, "--key", other.publicPath], env)
        #expect(w.status == 4 && w.err.contains("no signature by key"), "\(w.err)")
        // Expected result not met: exit 4; a result that does not exist: exit 2.
        let r = try CLI.run(["attest", "verify", path, "--key", pub, "--test-result", "PASSED"], env)
        #expect(r.status == 4 && r.err.contains("the test result is WARNED, expected PASSED"), "\(r.err)")
        #expect(try CLI.run(["attest", "verify", path, "--key", pub, "--test-result", "GREEN"], env).status == 2)
    }

    /// The in-toto-attestation package (its Statement and TestResult protobuf bindings)
    /// reads what repro signs. Fails, never skips, without that package: scripts/test
    /// installs it and sets REPRO_ATTEST_PYTHON.
    @Test func inTotoAttestationPackageAcceptsTheStatement() throws {
        let python = try #require(Conformance.python, "no Python with in-toto-attestation and securesystemslib: run scripts/test, or set REPRO_ATTEST_PYTHON to a venv that has them")
        let dir = try Conformance.tempDir()
        let key = try KeyPair.generate(.ed25519)
        let (_, pub) = try key.write(to: dir + "/keys")
        let s = try Self.statement(Self.verdicts + [("tests/test_e.py::test_boom", "crashed", false)], faults: "seed=3; read:eio@0.5")
        try s.sign(key: key.privateKey).write(to: URL(fileURLWithPath: dir + "/t.intoto.jsonl"))
        let r = try Conformance.exec(python, [Conformance.script, "test-result", dir + "/t.intoto.jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(String(decoding: r.stdout, as: UTF8.self)
            == "FAILED: 2 passed, 2 warned, 1 failed; 5 configuration descriptors; 2 subjects\n", "\(r.stderr)")
        #expect(try Conformance.run(["verify", pub, dir + "/t.intoto.jsonl"]).status == 0)

        // It rejects what is not a test result of the spec's shape.
        var bad = s; bad.predicate.result = "OK"
        try bad.sign(key: key.privateKey).write(to: URL(fileURLWithPath: dir + "/bad-result.jsonl"))
        #expect(try Conformance.run(["test-result", dir + "/bad-result.jsonl"]).status == 1)
        bad = s; bad.subject[0].digest = nil
        try bad.sign(key: key.privateKey).write(to: URL(fileURLWithPath: dir + "/no-digest.jsonl"))
        #expect(try Conformance.run(["test-result", dir + "/no-digest.jsonl"]).status == 1)
        let prov = try DSSE.sign(payload: try ProvenanceStatement(ProvenanceTests.facts()).json(), key: key.privateKey)
        try prov.json().write(to: URL(fileURLWithPath: dir + "/prov.jsonl"))
        #expect(try Conformance.run(["test-result", dir + "/prov.jsonl"]).status == 1)
        // An unknown predicate field: the protobuf parse is strict.
        var doc = try JSONSerialization.jsonObject(with: try s.json()) as! [String: Any]
        var predicate = doc["predicate"] as! [String: Any]
        predicate["skippedTests"] = ["x"]
        doc["predicate"] = predicate
        let extra = try DSSE.sign(payload: try JSONSerialization.data(withJSONObject: doc), key: key.privateKey)
        try extra.json().write(to: URL(fileURLWithPath: dir + "/extra.jsonl"))
        #expect(try Conformance.run(["test-result", dir + "/extra.jsonl"]).status == 1)
    }
}
