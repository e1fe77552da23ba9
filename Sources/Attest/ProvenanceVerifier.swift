import Core
import Foundation
import Store

/// What the user expects of a statement beyond its signature: for provenance, the
/// checks slsa-verifier makes, with a pinned key instead of Sigstore; for test results,
/// the artifact, the recipe digest and the result.
public typealias AttestationExpectations = ProvenanceExpectations

public struct ProvenanceExpectations: Sendable {
    /// A file artifact: its sha256 must be a subject's digest.
    public var file: (path: String, sha256: String)?
    /// A directory artifact: every regular file (relative path → sha256) must be a
    /// subject of that name and digest and every file subject must be present; its tree
    /// digest must be the tree subject's.
    public var directory: (path: String, files: [String: String], treeSHA256: String)?
    public var builderID: String?
    /// `sha256:HEX` or `HEX`.
    public var recipeDigest: String?
    /// A resolved dependency's URI: a purl (qualifiers optional) or `git+PATH` (any commit).
    public var source: String?
    /// Test results only: the predicate's `result` must be this (`PASSED`, `WARNED`, `FAILED`).
    public var testResult: String?
    public init() {}

    /// What `repro attest verify` checks: `artifact`'s digests (a file's sha256, or a
    /// directory's files and tree digest), hashed before any verdict, and the
    /// expected builder id, recipe digest and source.
    /// - Throws: `ReproError(.invalidInput)` when `artifact` does not exist (a usage
    ///   error, exit 2, not a failed verification).
    public init(artifact: String?, builderID: String? = nil, recipeDigest: String? = nil, source: String? = nil) throws {
        self.builderID = builderID; self.recipeDigest = recipeDigest; self.source = source
        guard let a = artifact else { return }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: a, isDirectory: &isDir) else {
            throw ReproError(.invalidInput, "\(a): no such artifact (give the output file or directory the provenance describes)")
        }
        if isDir.boolValue {
            let m = try TreeHasher.manifest(of: a)
            var files: [String: String] = [:]
            for entry in m.entries where entry.kind == .file { files[entry.path] = entry.digest?.hex }
            directory = (a, files, m.treeDigest.hex)
        } else {
            file = (a, try Digest.ofFile(a).hex)
        }
    }
}

/// Verifies a provenance envelope: signature, statement and predicate shape, subjects
/// against artifacts on disk, builder id and parameters. Every failure is a
/// `ReproError(.verificationFailed)` whose message says exactly what did not match.
public enum ProvenanceVerifier {
    public static func verify(_ envelope: DSSEEnvelope, key: PublicKey,
                              expect: ProvenanceExpectations) throws -> ProvenanceStatement {
        try check(payload: try DSSE.verify(envelope, key: key, payloadType: DSSE.inTotoPayloadType), expect: expect)
    }

    /// The checks after the signature: `payload` is the verified statement.
    static func check(payload: Data, expect: ProvenanceExpectations) throws -> ProvenanceStatement {
        let s = try ProvenanceStatement.parse(payload)
        try checkShape(s)
        if let want = expect.testResult {
            throw ReproError(.verificationFailed, "the statement is SLSA provenance, not a test result (expected result \(want))")
        }
        try checkArtifacts(s, expect)
        if let want = expect.builderID, s.predicate.runDetails.builder.id != want {
            throw ReproError(.verificationFailed, "builder id is \"\(s.predicate.runDetails.builder.id)\", expected \"\(want)\"")
        }
        if let want = expect.recipeDigest {
            let hex = want.hasPrefix("sha256:") ? String(want.dropFirst(7)) : want
            let got = s.predicate.buildDefinition.externalParameters["recipe"]?["digest"]?["sha256"]?.string
            guard got == hex.lowercased() else {
                throw ReproError(.verificationFailed, "the recipe digest is \(got.map { "sha256:" + $0 } ?? "absent"), expected sha256:\(hex)")
            }
        }
        if let want = expect.source {
            let deps = s.predicate.buildDefinition.resolvedDependencies ?? []
            let hit = deps.contains { d in
                guard let uri = d.uri else { return false }
                return uri == want || uri.split(separator: "?").first.map(String.init) == want || uri.hasPrefix(want + "@")
            }
            if !hit {
                let sources = deps.compactMap(\.uri).filter { !$0.contains("arch=") || $0.contains("arch=source") || $0.hasPrefix("git+") }
                throw ReproError(.verificationFailed, "no resolved dependency has source \(want); the statement's sources are: \(sources.isEmpty ? "none" : sources.joined(separator: ", "))")
            }
        }
        return s
    }

    /// The statement and predicate types, repro's build type, the required fields.
    static func checkShape(_ s: ProvenanceStatement) throws {
        guard s.type == ProvenanceStatement.statementType else {
            throw ReproError(.verificationFailed, "statement _type is \"\(s.type)\", expected \"\(ProvenanceStatement.statementType)\"")
        }
        guard s.predicateType == ProvenanceStatement.predicateType else {
            throw ReproError(.verificationFailed, "predicateType is \"\(s.predicateType)\", expected \"\(ProvenanceStatement.predicateType)\" (SLSA Provenance v1)")
        }
        guard s.predicate.buildDefinition.buildType == ProvenanceStatement.buildType else {
            throw ReproError(.verificationFailed, "buildType is \"\(s.predicate.buildDefinition.buildType)\", not repro's \(ProvenanceStatement.buildType)")
        }
        try Subjects.checkDigests(s.subject)
        guard !s.predicate.runDetails.builder.id.isEmpty else {
            throw ReproError(.verificationFailed, "runDetails.builder.id is empty")
        }
        guard s.predicate.buildDefinition.externalParameters["recipe"]?["digest"]?["sha256"]?.string != nil else {
            throw ReproError(.verificationFailed, "externalParameters.recipe.digest.sha256 is missing")
        }
    }

    static func checkArtifacts(_ s: ProvenanceStatement, _ e: ProvenanceExpectations) throws {
        let named = Subjects.named(s.subject)
        if let (path, hex) = e.file { try Subjects.checkFile(s.subject, path: path, sha256: hex) }
        if let (path, files, tree) = e.directory {
            for name in files.keys.sorted() {
                guard let want = named[name] else {
                    throw ReproError(.verificationFailed, "artifact \(path)/\(name) is not a subject of the statement (a file the build did not make)")
                }
                if want != files[name]! {
                    throw ReproError(.verificationFailed, "artifact \(path)/\(name) is sha256:\(files[name]!) on disk, the statement says sha256:\(want)")
                }
            }
            for sub in s.subject {
                guard let name = sub.name, name != ProvenanceStatement.treeSubjectName, sub.annotations?["repro.tree"] == nil,
                      sub.annotations?["repro.archive"] == nil else { continue } // the archive lives next to the tree
                if files[name] == nil {
                    throw ReproError(.verificationFailed, "subject \(name) is missing from \(path)")
                }
            }
            try Subjects.checkTree(s.subject, path: path, treeSHA256: tree)
        }
    }
}

/// The subject checks that provenance and test-result statements share.
enum Subjects {
    /// Subject name → its sha256 (the first of a name).
    static func named(_ subjects: [ResourceDescriptor]) -> [String: String] {
        Dictionary(subjects.compactMap { sub in sub.name.map { ($0, sub.digest?["sha256"] ?? "") } },
                   uniquingKeysWith: { a, _ in a })
    }

    /// Every subject has a 64-hex sha256 digest.
    static func checkDigests(_ subjects: [ResourceDescriptor]) throws {
        guard !subjects.isEmpty else { throw ReproError(.verificationFailed, "the statement has no subjects") }
        for (i, sub) in subjects.enumerated() {
            guard let hex = sub.digest?["sha256"], hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                throw ReproError(.verificationFailed, "subject \(i) (\(sub.name ?? "unnamed")) has no sha256 digest")
            }
        }
        guard subjects.contains(where: { $0.name == ProvenanceStatement.treeSubjectName }) else {
            throw ReproError(.verificationFailed, "the statement has no tree subject (name \"\(ProvenanceStatement.treeSubjectName)\")")
        }
    }

    /// A file artifact: its sha256 is some subject's digest.
    static func checkFile(_ subjects: [ResourceDescriptor], path: String, sha256 hex: String) throws {
        guard subjects.contains(where: { $0.digest?["sha256"] == hex }) else {
            let name = (path as NSString).lastPathComponent
            let hint = named(subjects)[name].map { ", the statement's \(name) is sha256:\($0)" } ?? ""
            throw ReproError(.verificationFailed, "artifact \(path) (sha256:\(hex)) is not a subject of the statement\(hint)")
        }
    }

    /// A directory artifact: its tree digest is the tree subject's.
    static func checkTree(_ subjects: [ResourceDescriptor], path: String, treeSHA256 tree: String) throws {
        let want = named(subjects)[ProvenanceStatement.treeSubjectName] ?? ""
        if want != tree {
            throw ReproError(.verificationFailed, "the tree digest of \(path) is sha256:\(tree), the statement says sha256:\(want)")
        }
    }
}
