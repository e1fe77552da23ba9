import Core
import Foundation

// Signed test results: an in-toto Statement v1 whose predicate is the in-toto test-result
// predicate v0.1 (https://in-toto.io/attestation/test-result/v0.1), DSSE-signed like build
// provenance (docs/provenance.md, "Test results").
//
// How a test run makes one (the runner's side):
//
//     var outcomes = TestOutcomes()
//     for r in finalResults {                        // one per test: its final verdict
//         outcomes.add(id: r.id, verdict: r.verdict.rawValue, flaky: r.flaky)
//     }
//     let statement = TestResultStatement(
//         tree: treeDigest.hex,                      // the build's output tree (sha256 hex)
//         archive: archive.map { ($0.name, $0.digest.hex) },
//         outcomes: outcomes,
//         configuration: TestConfiguration(
//             recipePath: recipe.file, recipeSHA256: recipe.digest.hex,
//             lockPath: recipe.lockPath, lockSHA256: lockDigest.hex,
//             toolchain: testRootID,                 // "sha256:<hex>" or "host"
//             framework: "pytest", order: "random:42",
//             faults: faultSpecText, buildAction: action.description,
//             options: ["filter": "test_x", "rerun-failures": "2"]),
//         url: "repro-test-run:\(runID)",
//         interrupted: false)
//     let key = try BuildAttestation.signingKey(explicit: keyOption, note: say)  // module Build
//     let envelope = try statement.sign(key: key)    // one line of JSON + "\n"
//
// Verdicts map to the predicate's lists: pass → passedTests; a flaky test (passed and
// failed on identical inputs) → warnedTests; fail, error, timeout, crashed →
// failedTests; skip → none of them, listed in the `skippedTests` annotation of the
// `test-run` configuration descriptor instead (the predicate has no field for it).
// `result` is FAILED when any test failed or the run was interrupted, else WARNED when
// any was flaky, else PASSED.

/// The tests of one run, by what the test-result predicate says of them. A test id
/// added twice keeps its worst outcome (failed > warned > passed > skipped).
public struct TestOutcomes: Sendable, Equatable {
    public enum Outcome: Int, Sendable, Comparable {
        case skipped, passed, warned, failed
        public static func < (a: Outcome, b: Outcome) -> Bool { a.rawValue < b.rawValue }
    }

    public private(set) var outcomes: [String: Outcome] = [:]

    public init() {}

    /// The lists as the predicate takes them: each id at most once, in one list.
    public init(passed: [String], warned: [String] = [], failed: [String] = [], skipped: [String] = []) {
        for id in skipped { add(id, .skipped) }
        for id in passed { add(id, .passed) }
        for id in warned { add(id, .warned) }
        for id in failed { add(id, .failed) }
    }

    /// Adds a test by repro's verdict (`pass`, `fail`, `error`, `skip`, `timeout`,
    /// `crashed`) and flaky flag.
    /// - Throws: `ReproError(.internal)` for a verdict repro does not have.
    public mutating func add(id: String, verdict: String, flaky: Bool = false) throws {
        add(id, try Self.outcome(verdict: verdict, flaky: flaky))
    }

    public mutating func add(_ id: String, _ outcome: Outcome) {
        outcomes[id] = max(outcomes[id] ?? outcome, outcome)
    }

    /// pass → passed; flaky (whatever its last verdict) → warned; fail, error, timeout,
    /// crashed → failed; skip → skipped.
    public static func outcome(verdict: String, flaky: Bool) throws -> Outcome {
        let base: Outcome
        switch verdict {
        case "skip": return .skipped
        case "pass": base = .passed
        case "fail", "error", "timeout", "crashed": base = .failed
        default: throw ReproError(.internal, "unknown test verdict \"\(verdict)\" (expected pass, fail, error, skip, timeout or crashed)")
        }
        return flaky ? .warned : base
    }

    /// The ids with `outcome`, sorted by their UTF-8 bytes (stable on every host).
    public func ids(_ outcome: Outcome) -> [String] {
        outcomes.filter { $0.value == outcome }.map(\.key).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}

/// What a test run was run with: the plain facts that become the predicate's
/// `configuration` descriptors.
public struct TestConfiguration: Sendable, Equatable {
    public var recipePath: String
    /// The recipe's canonical digest (as in build provenance), hex.
    public var recipeSHA256: String
    /// SHA-256 of the recipe file's bytes, hex: it covers the `[test]` step, which the
    /// canonical digest leaves out (changing how tests run never rebuilds).
    public var recipeFileSHA256: String?
    public var lockPath: String
    /// SHA-256 of the lock file's bytes, hex.
    public var lockSHA256: String
    /// The test toolchain root's id: `sha256:<hex>` (the build's pinned root plus the test
    /// packages), or `host`.
    public var toolchain: String
    /// `pytest`, `ctest`, `junit`, `go`.
    public var framework: String
    /// The order strategy as the user gave it: `original`, `random:SEED`, `failed-first`, `model`.
    public var order: String
    /// The fault spec's text, when faults were injected.
    public var faults: String?
    /// The tested build's action digest (`sha256:<hex>`), when known.
    public var buildAction: String?
    /// Other options of the run by long name (`filter`, `rerun-failures`, `fail-fast`).
    public var options: [String: String]

    public init(recipePath: String, recipeSHA256: String, recipeFileSHA256: String? = nil, lockPath: String,
                lockSHA256: String, toolchain: String, framework: String, order: String, faults: String? = nil,
                buildAction: String? = nil, options: [String: String] = [:]) {
        self.recipePath = recipePath; self.recipeSHA256 = recipeSHA256; self.recipeFileSHA256 = recipeFileSHA256
        self.lockPath = lockPath
        self.lockSHA256 = lockSHA256; self.toolchain = toolchain; self.framework = framework; self.order = order
        self.faults = faults; self.buildAction = buildAction; self.options = options
    }
}

/// The in-toto test-result predicate v0.1, field names as the spec. The three test
/// lists are always written (empty when no test is in them) and read as empty when absent.
public struct TestResultPredicate: Codable, Sendable, Equatable {
    public static let passed = "PASSED", warned = "WARNED", failed = "FAILED"

    /// `PASSED`, `WARNED` or `FAILED` (a string, so that a verifier can say what else it found).
    public var result: String
    public var configuration: [ResourceDescriptor]
    public var url: String?
    public var passedTests: [String]
    public var warnedTests: [String]
    public var failedTests: [String]

    public init(result: String, configuration: [ResourceDescriptor], url: String?,
                passedTests: [String], warnedTests: [String], failedTests: [String]) {
        self.result = result; self.configuration = configuration; self.url = url
        self.passedTests = passedTests; self.warnedTests = warnedTests; self.failedTests = failedTests
    }

    enum CodingKeys: String, CodingKey { case result, configuration, url, passedTests, warnedTests, failedTests }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        result = try c.decode(String.self, forKey: .result)
        configuration = try c.decode([ResourceDescriptor].self, forKey: .configuration)
        url = try c.decodeIfPresent(String.self, forKey: .url)
        passedTests = try c.decodeIfPresent([String].self, forKey: .passedTests) ?? []
        warnedTests = try c.decodeIfPresent([String].self, forKey: .warnedTests) ?? []
        failedTests = try c.decodeIfPresent([String].self, forKey: .failedTests) ?? []
    }
}

/// An in-toto Statement v1 carrying a test-result v0.1 predicate: what one test run of
/// a build's outputs found.
public struct TestResultStatement: Codable, Sendable, Equatable {
    public static let predicateType = "https://in-toto.io/attestation/test-result/v0.1"
    /// `repro.role` annotations of the configuration descriptors.
    public enum Role: String, Sendable, CaseIterable {
        case recipe, lock, toolchain = "test-toolchain", run = "test-run", faults
    }

    public var type: String
    public var subject: [ResourceDescriptor]
    public var predicateType: String
    public var predicate: TestResultPredicate

    enum CodingKeys: String, CodingKey { case type = "_type", subject, predicateType, predicate }

    /// The statement of one test run.
    /// - Parameters:
    ///   - tree: the tested build's output tree digest (sha256 hex): the subject named `.`.
    ///   - archive: the build's output archive (file name, sha256 hex), when it made one.
    ///   - url: a link to the run, e.g. `repro-test-run:<id>`; omitted when nil.
    ///   - interrupted: the run stopped before every test ran (the result is FAILED).
    public init(tree: String, archive: (name: String, sha256: String)? = nil, outcomes: TestOutcomes,
                configuration c: TestConfiguration, url: String? = nil, interrupted: Bool = false) {
        type = ProvenanceStatement.statementType
        predicateType = Self.predicateType
        subject = [ResourceDescriptor(name: ProvenanceStatement.treeSubjectName, digest: ["sha256": tree],
                                      annotations: ["repro.tree": .bool(true)])]
        if let archive {
            subject.append(ResourceDescriptor(name: archive.name, digest: ["sha256": archive.sha256],
                                              annotations: ["repro.archive": .bool(true)]))
        }
        let passed = outcomes.ids(.passed), warned = outcomes.ids(.warned), failed = outcomes.ids(.failed)
        let result = failed.isEmpty && !interrupted
            ? (warned.isEmpty ? TestResultPredicate.passed : TestResultPredicate.warned) : TestResultPredicate.failed
        predicate = TestResultPredicate(result: result, configuration: Self.descriptors(c, outcomes: outcomes, interrupted: interrupted),
                                        url: url, passedTests: passed, warnedTests: warned, failedTests: failed)
    }

    /// recipe, lock, test toolchain, the run's settings (with the skipped tests), the
    /// fault spec: always in this order.
    static func descriptors(_ c: TestConfiguration, outcomes: TestOutcomes, interrupted: Bool) -> [ResourceDescriptor] {
        func role(_ r: Role) -> [String: JSONValue] { ["repro.role": .string(r.rawValue)] }
        var toolchain = ResourceDescriptor(name: "test-toolchain", annotations: role(.toolchain).merging(["id": .string(c.toolchain)]) { a, _ in a })
        if c.toolchain.hasPrefix("sha256:") { toolchain.digest = ["sha256": String(c.toolchain.dropFirst(7))] }
        var run: [String: JSONValue] = role(.run)
        run["framework"] = .string(c.framework)
        run["order"] = .string(c.order)
        run["skippedTests"] = .array(outcomes.ids(.skipped).map { .string($0) })
        if !c.options.isEmpty { run["options"] = .object(c.options.mapValues { .string($0) }) }
        if let a = c.buildAction { run["buildAction"] = .string(a) }
        if interrupted { run["interrupted"] = .bool(true) }
        var recipe = role(.recipe)
        if let f = c.recipeFileSHA256 { recipe["fileSHA256"] = .string(f) }
        var out = [
            ResourceDescriptor(name: c.recipePath, digest: ["sha256": c.recipeSHA256], annotations: recipe),
            ResourceDescriptor(name: c.lockPath, digest: ["sha256": c.lockSHA256], annotations: role(.lock)),
            toolchain,
            ResourceDescriptor(name: "test-run", annotations: run),
        ]
        if let f = c.faults {
            out.append(ResourceDescriptor(name: "faults", digest: ["sha256": Digest.of(Data(f.utf8)).hex],
                                          annotations: role(.faults).merging(["spec": .string(f)]) { a, _ in a }))
        }
        return out
    }

    /// The configuration descriptor of `role`, if the statement has one.
    public func configuration(_ role: Role) -> ResourceDescriptor? {
        predicate.configuration.first { $0.annotations?["repro.role"]?.string == role.rawValue }
    }

    /// The ids of skipped tests (the `test-run` descriptor's `skippedTests` annotation).
    public var skippedTests: [String] {
        guard case let .array(items)? = configuration(.run)?.annotations?["skippedTests"] else { return [] }
        return items.compactMap(\.string)
    }

    /// The statement as canonical JSON (sorted keys, one line): the same facts give the
    /// same bytes.
    public func json() throws -> Data { try CanonicalJSON.encode(self) }

    /// Signs the statement into a DSSE envelope (payloadType `application/vnd.in-toto+json`)
    /// and returns it as one line of canonical JSON ending in a newline, the
    /// `.intoto.jsonl` form build provenance is written in.
    /// - Throws: `ReproError(.internal)` if signing fails.
    public func sign(key: PrivateKey) throws -> Data {
        var envelope = try DSSE.sign(payload: try json(), key: key).json()
        envelope.append(0x0a)
        return envelope
    }

    /// Parses a statement, naming the first field that is missing or of the wrong type.
    /// - Throws: `ReproError(.verificationFailed)`.
    public static func parse(_ data: Data) throws -> TestResultStatement {
        do {
            return try JSONDecoder().decode(TestResultStatement.self, from: data)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ReproError(.verificationFailed, "the statement has no \(ProvenanceStatement.path(ctx.codingPath + [key])); not an in-toto Statement v1 with a test-result v0.1 predicate")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ReproError(.verificationFailed, "the statement's \(ProvenanceStatement.path(ctx.codingPath)) has the wrong type")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw ReproError(.verificationFailed, "the statement's \(ProvenanceStatement.path(ctx.codingPath)) is null")
        } catch {
            throw ReproError(.verificationFailed, "the payload is not a JSON statement: \(error)")
        }
    }
}
