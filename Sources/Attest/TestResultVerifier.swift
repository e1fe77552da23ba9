import Core
import Foundation

/// Verifies a signed test result: statement and predicate shape, the tested artifact,
/// the recipe and the result. Every failure is a `ReproError(.verificationFailed)`
/// whose message says exactly what did not match.
public enum TestResultVerifier {
    public static let results = [TestResultPredicate.passed, TestResultPredicate.warned, TestResultPredicate.failed]

    public static func verify(_ envelope: DSSEEnvelope, key: PublicKey,
                              expect: AttestationExpectations) throws -> TestResultStatement {
        try check(payload: try DSSE.verify(envelope, key: key, payloadType: DSSE.inTotoPayloadType), expect: expect)
    }

    /// The checks after the signature: `payload` is the verified statement.
    static func check(payload: Data, expect e: AttestationExpectations) throws -> TestResultStatement {
        let s = try TestResultStatement.parse(payload)
        try checkShape(s)
        if let want = e.builderID {
            throw ReproError(.verificationFailed, "the statement is a test result, which names no builder (expected builder id \"\(want)\"; builder ids are checked on provenance)")
        }
        if let want = e.source {
            throw ReproError(.verificationFailed, "the statement is a test result, which lists no sources (expected source \(want); sources are checked on provenance)")
        }
        if let (path, hex) = e.file { try Subjects.checkFile(s.subject, path: path, sha256: hex) }
        // A test result names the tree, not each file: the tree digest covers them all.
        if let (path, _, tree) = e.directory { try Subjects.checkTree(s.subject, path: path, treeSHA256: tree) }
        if let want = e.recipeDigest {
            let hex = (want.hasPrefix("sha256:") ? String(want.dropFirst(7)) : want).lowercased()
            let got = s.configuration(.recipe)?.digest?["sha256"]
            guard got == hex else {
                throw ReproError(.verificationFailed, "the recipe digest is \(got.map { "sha256:" + $0 } ?? "absent"), expected sha256:\(hex)")
            }
        }
        if let want = e.testResult, s.predicate.result != want.uppercased() {
            let p = s.predicate
            throw ReproError(.verificationFailed, "the test result is \(p.result), expected \(want.uppercased()) (\(p.failedTests.count) failed\(p.failedTests.isEmpty ? "" : ": " + list(p.failedTests)), \(p.warnedTests.count) flaky\(p.warnedTests.isEmpty ? "" : ": " + list(p.warnedTests)))")
        }
        return s
    }

    /// The statement and predicate types, the required fields, subjects with sha256
    /// digests and a tree subject, and a result that agrees with the test lists.
    static func checkShape(_ s: TestResultStatement) throws {
        guard s.type == ProvenanceStatement.statementType else {
            throw ReproError(.verificationFailed, "statement _type is \"\(s.type)\", expected \"\(ProvenanceStatement.statementType)\"")
        }
        guard s.predicateType == TestResultStatement.predicateType else {
            throw ReproError(.verificationFailed, "predicateType is \"\(s.predicateType)\", expected \"\(TestResultStatement.predicateType)\" (in-toto test result v0.1)")
        }
        try Subjects.checkDigests(s.subject)
        let p = s.predicate
        guard results.contains(p.result) else {
            throw ReproError(.verificationFailed, "predicate.result is \"\(p.result)\", expected one of \(results.joined(separator: ", "))")
        }
        guard !p.configuration.isEmpty else {
            throw ReproError(.verificationFailed, "predicate.configuration is empty (the spec requires the configuration the tests ran with)")
        }
        for (i, d) in p.configuration.enumerated() where (d.name ?? "").isEmpty && (d.uri ?? "").isEmpty && (d.digest ?? [:]).isEmpty {
            throw ReproError(.verificationFailed, "predicate.configuration[\(i)] has no name, uri or digest")
        }
        var seen: [String: String] = [:]
        for (field, ids) in [("passedTests", p.passedTests), ("warnedTests", p.warnedTests), ("failedTests", p.failedTests)] {
            for id in ids {
                if let other = seen[id] {
                    throw ReproError(.verificationFailed, "test \"\(id)\" is in predicate.\(other)\(other == field ? " twice" : " and predicate.\(field)")")
                }
                seen[id] = field
            }
        }
        if !p.failedTests.isEmpty && p.result != TestResultPredicate.failed {
            throw ReproError(.verificationFailed, "predicate.result is \(p.result) but \(p.failedTests.count) tests failed (\(list(p.failedTests)))")
        }
        if !p.warnedTests.isEmpty && p.result == TestResultPredicate.passed {
            throw ReproError(.verificationFailed, "predicate.result is PASSED but \(p.warnedTests.count) tests are in warnedTests (\(list(p.warnedTests)))")
        }
    }

    /// The first few ids, for a message.
    static func list(_ ids: [String]) -> String {
        ids.prefix(3).joined(separator: ", ") + (ids.count > 3 ? ", … \(ids.count - 3) more" : "")
    }
}

/// A verified statement of either kind repro signs.
public enum VerifiedAttestation: Sendable {
    case provenance(ProvenanceStatement)
    case testResult(TestResultStatement)

    public var predicateType: String {
        switch self {
        case let .provenance(s): s.predicateType
        case let .testResult(s): s.predicateType
        }
    }

    public var subjects: [ResourceDescriptor] {
        switch self {
        case let .provenance(s): s.subject
        case let .testResult(s): s.subject
        }
    }

    /// `sha256:<hex>` of the tree subject.
    public var treeDigest: String? {
        subjects.first { $0.name == ProvenanceStatement.treeSubjectName }?.digest?["sha256"].map { "sha256:" + $0 }
    }

    /// What was verified, for the line after "verified: signed by …".
    public var summary: String {
        switch self {
        case let .provenance(s):
            return "builder \(s.predicate.runDetails.builder.id); \(s.subject.count) subjects, tree \(treeDigest ?? "-")"
        case let .testResult(s):
            let p = s.predicate
            return "test result \(p.result) (\(p.passedTests.count) passed, \(p.warnedTests.count) flaky, \(p.failedTests.count) failed, \(s.skippedTests.count) skipped); tree \(treeDigest ?? "-")"
        }
    }
}

/// `repro attest verify`: checks the signature, then verifies the statement by its
/// predicate type (SLSA provenance or test result).
public enum AttestationVerifier {
    public static func verify(_ envelope: DSSEEnvelope, key: PublicKey,
                              expect: AttestationExpectations) throws -> VerifiedAttestation {
        let payload = try DSSE.verify(envelope, key: key, payloadType: DSSE.inTotoPayloadType)
        switch predicateType(of: payload) {
        case TestResultStatement.predicateType?:
            return .testResult(try TestResultVerifier.check(payload: payload, expect: expect))
        case let other? where other != ProvenanceStatement.predicateType:
            throw ReproError(.verificationFailed, "predicateType is \"\(other)\"; repro verifies \(ProvenanceStatement.predicateType) (SLSA Provenance v1) and \(TestResultStatement.predicateType) (in-toto test result v0.1)")
        default:
            // Provenance, or no readable predicateType: the provenance parser names what is missing.
            return .provenance(try ProvenanceVerifier.check(payload: payload, expect: expect))
        }
    }

    /// The statement's predicateType, if the payload is a JSON object with one.
    public static func predicateType(of payload: Data) -> String? {
        struct Head: Decodable { var predicateType: String }
        return try? JSONDecoder().decode(Head.self, from: payload).predicateType
    }
}

extension TestResultStatement {
    /// The readable summary `repro attest show` prints.
    public func summary(envelope: DSSEEnvelope, signature: String) -> String {
        var lines: [String] = []
        func add(_ k: String, _ v: String) { lines.append(k.padding(toLength: 14, withPad: " ", startingAt: 0) + v) }
        add("signature", signature + "; keyids " + envelope.signatures.map(\.keyid).joined(separator: ", "))
        add("statement", "\(type), predicate \(predicateType)")
        let p = predicate
        add("result", "\(p.result): \(p.passedTests.count) passed, \(p.warnedTests.count) flaky, \(p.failedTests.count) failed, \(skippedTests.count) skipped")
        for id in p.failedTests.prefix(10) { add("", "failed  \(id)") }
        if p.failedTests.count > 10 { add("", "… and \(p.failedTests.count - 10) more failed") }
        for id in p.warnedTests.prefix(10) { add("", "flaky   \(id)") }
        if p.warnedTests.count > 10 { add("", "… and \(p.warnedTests.count - 10) more flaky") }
        if let tree = subject.first(where: { $0.name == ProvenanceStatement.treeSubjectName })?.digest?["sha256"] {
            add("tree", "sha256:" + tree)
        }
        for a in subject where a.annotations?["repro.archive"] != nil {
            add("archive", "\(a.name ?? "?") sha256:\(a.digest?["sha256"] ?? "?")")
        }
        if let r = configuration(.recipe) { add("recipe", "\(r.name ?? "?") sha256:\(r.digest?["sha256"] ?? "?")") }
        if let l = configuration(.lock) { add("lock", "\(l.name ?? "?") sha256:\(l.digest?["sha256"] ?? "?")") }
        if let t = configuration(.toolchain) { add("toolchain", t.annotations?["id"]?.string ?? "?") }
        if let r = configuration(.run)?.annotations {
            var v = "\(r["framework"]?.string ?? "?"), order \(r["order"]?.string ?? "?")"
            if case let .object(o)? = r["options"] {
                v += o.keys.sorted().map { ", \($0) \(o[$0]?.string ?? "")" }.joined()
            }
            if r["interrupted"] != nil { v += ", interrupted" }
            add("run", v)
        }
        if let f = configuration(.faults) { add("faults", f.annotations?["spec"]?.string ?? "sha256:\(f.digest?["sha256"] ?? "?")") }
        if let u = p.url { add("url", u) }
        return lines.joined(separator: "\n")
    }
}
