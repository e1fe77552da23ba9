import Foundation
import TestKit
import Testing

/// `repro test` with faults and named results, end to end over the host toolchain
/// (Debian's pytest on the host): the fault supervisor under a real suite, and the
/// results check against the last passed run (exit 3 on a regression).
@Suite(.serialized, .tags(.sandbox)) struct TestFaultsResultsTests {
    let dir: String
    let env: [String: String]
    var store: String { dir + "/store" }

    init() throws {
        dir = NSTemporaryDirectory() + "repro-test-faults-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir + "/r/proj/tests", withIntermediateDirectories: true)
        env = ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin"]
    }

    func repro(_ args: [String]) throws -> TestKit.Output {
        try TestKit.run([TestKit.repro] + args, environment: env)
    }

    func project(_ tests: [String: String], test extra: String = "") throws -> String {
        try Support.pytestProject(in: dir, tests: tests, extra: extra, repro: { try repro($0) }, store: store)
    }

    struct Summary: Decodable {
        var run: Int
        struct Failure: Decodable { var test: String }
        struct Faults: Decodable { var spec: String; var seed: UInt64; var injected: [String: UInt64] }
        var status: String
        var passed: Int
        var failed: Int
        var failures: [Failure]
        var faults: Faults?
    }

    /// A test that gives up on the first failed write, and one that retries.
    static let suite = [
        "test_io.py": """
        import os

        def write_many(path, retry):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            for _ in range(300):
                while True:
                    try:
                        os.write(fd, b"x" * 16)
                        break
                    except OSError:
                        if not retry:
                            raise
            os.close(fd)

        def test_fragile():
            write_many("/tmp/fragile.dat", retry=False)

        def test_robust():
            write_many("/tmp/robust.dat", retry=True)
        """,
    ]

    @Test func faultsReachTheSuiteAndAreReported() throws {
        let recipe = try project(Self.suite)
        let clean = try repro(["test", recipe, "--store", store, "--order", "original", "--json"])
        #expect(clean.status == 0, "\(clean.stderr)")
        let spec = "write:EIO@5%,path=/tmp;seed=4"
        let r = try repro(["test", recipe, "--store", store, "--order", "original", "--fault", spec, "--json",
                           "--attestation", dir + "/result.dsse.json"])
        #expect(r.status == 1, "\(r.stderr)")
        // The signed test result names the spec, the seed and the faults injected.
        struct Envelope: Decodable { var payload: String }
        let envelope = try JSONDecoder().decode(Envelope.self, from: try Data(contentsOf: URL(fileURLWithPath: dir + "/result.dsse.json")))
        let statement = String(decoding: try #require(Data(base64Encoded: envelope.payload)), as: UTF8.self)
        #expect(statement.contains("write:EIO@0.05,path=/tmp;seed=4") && statement.contains("\"faults-seed\":\"4\"")
                && statement.contains("write:EIO="), "\(statement.prefix(600))")
        let s = try JSONDecoder().decode(Summary.self, from: r.stdout)
        #expect(s.failures.map(\.test) == ["tests/test_io.py::test_fragile"], "\(s.failures)")
        #expect(s.passed == 1)
        let f = try #require(s.faults)
        #expect(f.seed == 4 && f.spec == "write:EIO@0.05,path=/tmp;seed=4")
        #expect((f.injected["write:EIO"] ?? 0) > 0)
        // The run's telemetry keeps the spec (seed included) and the faults injected.
        struct Show: Decodable { struct Run: Decodable { var faults: String?; var faults_injected: String? }; var run: Run }
        let show = try JSONDecoder().decode(Show.self, from: try repro(["test", "show", String(s.run), "--store", store, "--json"]).stdout)
        #expect(show.run.faults == "write:EIO@0.05,path=/tmp;seed=4")
        let counted = try JSONDecoder().decode([String: UInt64].self, from: Data((show.run.faults_injected ?? "{}").utf8))
        #expect(counted == f.injected)
    }

    @Test func recipeFaultsAndBadSpecs() throws {
        let recipe = try project(Self.suite, test: "faults = \"write:eio:1,path=/tmp/fragile.dat\"")
        let r = try repro(["test", recipe, "--store", store, "--order", "original", "--json"])
        #expect(r.status == 1, "\(r.stderr)")
        let s = try JSONDecoder().decode(Summary.self, from: r.stdout)
        #expect(s.failures.map(\.test) == ["tests/test_io.py::test_fragile"])
        #expect(s.faults?.injected["write:EIO"] == 1)
        let bad = try repro(["test", recipe, "--store", store, "--fault", "write:EIO@2"])
        #expect(bad.status == 2 && bad.stderr.contains("column 11"), "\(bad.stderr)")
        let badRecipe = try project(Self.suite, test: "faults = \"write:EBADF\"")
        let r2 = try repro(["test", badRecipe, "--store", store])
        #expect(r2.status == 2 && r2.stderr.contains("proj.toml:") && r2.stderr.contains("column 7"), "\(r2.stderr)")
    }

    @Test func namedResultsRegressionIsExit3() throws {
        func suite(_ value: String) -> [String: String] {
            ["test_value.py": """
            import json, os

            def test_value():
                with open(os.environ["REPRO_RESULTS"], "a") as f:
                    f.write(json.dumps({"name": "model.energy", "value": \(value), "unit": "J"}) + "\\n")
            """]
        }
        let recipe = try project(suite("2.5"))
        #expect(try repro(["test", recipe, "--store", store]).status == 0)
        _ = try project(suite("2.5 * (1 + 1e-11)"))
        let fine = try repro(["test", recipe, "--store", store])
        #expect(fine.status == 0, "\(fine.out) \(fine.stderr)")
        // The baseline is the last passed run: 2.5 * (1 + 1e-11).
        _ = try project(suite("2.5 * (1 + 1e-9)"))
        let caught = try repro(["test", recipe, "--store", store])
        #expect(caught.status == 3, "\(caught.out) \(caught.stderr)")
        #expect(caught.stderr.contains("model.energy: baseline 2.500000000025 J, now 2.50000000250000") && caught.stderr.contains("relative change +9.9e-10"), "\(caught.stderr)")
        let history = try repro(["results", "history", "proj", "model.energy", "--store", store])
        #expect(history.out.split(separator: "\n").count == 4, "\(history.out)")
    }
}

extension TestFaultsResultsTests {
    struct Chaos: Decodable {
        struct Event: Decodable { var family: String; var errno: String; var call: UInt64 }
        struct Entry: Decodable { var test: String; var verdict: String; var seed: UInt64?; var spec: String?; var injected: [String: UInt64]?; var first_fault: Event? }
        var profile: String
        var runs: [Int]
        var tests: [Entry]
        var resilience: Double
    }

    /// A fragile test (gives up on the first failed write under /build) is classified
    /// fault-sensitive, a retrying one robust, a failing one broken.
    @Test func chaosClassifiesTests() throws {
        var suite = Self.suite
        suite["test_io.py"] = suite["test_io.py"]!.replacingOccurrences(of: "/tmp/", with: "/build/")
        suite["test_broken.py"] = "def test_broken():\n    assert 1 == 2\n"
        let recipe = try project(suite)
        let r = try repro(["test", recipe, "--store", store, "--order", "original", "--chaos", "2", "--fault-profile", "io", "--json"])
        #expect(r.status == 1, "a broken test: exit 1; \(r.stderr)")
        let c = try JSONDecoder().decode(Chaos.self, from: r.stdout)
        #expect(c.runs.count == 3 && c.profile == "io")
        let v = Dictionary(uniqueKeysWithValues: c.tests.map { ($0.test, $0) })
        #expect(v["tests/test_broken.py::test_broken"]?.verdict == "broken")
        #expect(v["tests/test_io.py::test_robust"]?.verdict == "robust")
        let fragile = try #require(v["tests/test_io.py::test_fragile"])
        #expect(fragile.verdict == "fault-sensitive")
        #expect(fragile.seed == 1 && fragile.spec?.hasSuffix("seed=1") == true && (fragile.injected?["write:EIO"] ?? 0) > 0, "\(fragile)")
        // The fault that preceded the failure: the fragile test gives up at the first EIO
        // of the run's /build writes, so it is the first write call the seed hits.
        let first = try #require(fragile.first_fault, "\(fragile)")
        #expect(first.family == "write" && first.errno == "EIO")
        #expect(c.resilience == 0.5)
        let bad = try repro(["test", recipe, "--store", store, "--chaos", "2", "--fault-profile", "nope"])
        #expect(bad.status == 2)
    }
}
