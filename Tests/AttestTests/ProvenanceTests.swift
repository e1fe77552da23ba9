import Attest
import Core
import Foundation
import TestKit
import Testing

/// Provenance statements and SBOMs from a build's facts; the verifier's checks and its
/// reasons; the same documents accepted by the reference implementations.
@Suite(.tags(.unit)) struct ProvenanceTests {
    static func facts(started: Date = Date(timeIntervalSince1970: 1_800_000_000), invocation: String = "inv-1") -> BuildFacts {
        BuildFacts(
            recipeName: "hello", recipePath: "recipes/hello.toml", recipeSHA256: String(repeating: "a", count: 64),
            lockPath: "recipes/hello.lock", lockSHA256: String(repeating: "b", count: 64),
            treeSHA256: String(repeating: "c", count: 64), actionDigest: "sha256:" + String(repeating: "d", count: 64),
            toolchain: "sha256:" + String(repeating: "e", count: 64),
            outputs: [.init(path: "bin/hello", sha256: Digest.of("hello-binary").hex, size: 12, sha1: SHA1.hex(Data("hello-binary".utf8))),
                      .init(path: "share/doc/README", sha256: Digest.of("readme").hex, size: 6, sha1: SHA1.hex(Data("readme".utf8))),
                      .init(path: "hello-2.10.tar.gz", sha256: Digest.of("archive").hex, size: 7, sha1: SHA1.hex(Data("archive".utf8)), isArchive: true)],
            dependencies: [
                .init(kind: .toolchainPackage, name: "gcc-12", version: "12.2.0-14", architecture: "amd64",
                      uri: BuildFacts.debianPURL(name: "gcc-12", version: "12.2.0-14", architecture: "amd64"),
                      sha256: String(repeating: "1", count: 64), size: 100, annotation: "gcc-12"),
                .init(kind: .toolchainPackage, name: "libstdc++6", version: "1:12.2.0+14", architecture: "amd64",
                      uri: BuildFacts.debianPURL(name: "libstdc++6", version: "1:12.2.0+14", architecture: "amd64"),
                      sha256: String(repeating: "2", count: 64), size: 100, annotation: "gcc-12"),
                .init(kind: .debianSource, name: "hello", version: "2.10-3", architecture: "source",
                      uri: BuildFacts.debianPURL(name: "hello", version: "2.10-3", architecture: "source"),
                      sha256: String(repeating: "3", count: 64), size: 1721, annotation: "hello"),
                .init(kind: .git, name: "repo", uri: "git+file:repo@" + String(repeating: "4", count: 40),
                      sha256: String(repeating: "5", count: 64), gitCommit: String(repeating: "4", count: 40), size: 1, annotation: "code"),
            ],
            parameters: ["recipe": "recipes/hello.toml", "sbom-format": "spdx"], policyVersion: "repro-sandbox-policy-2",
            limits: ["memory": "1073741824"], variations: [], sourceDateEpoch: 1_700_000_000, uid: 1000,
            builderID: "urn:repro:builder:test", reproVersion: ReproInfo.version, launcherSHA256: String(repeating: "f", count: 64),
            invocationID: invocation, startedOn: started, finishedOn: started.addingTimeInterval(5), logSHA256: String(repeating: "9", count: 64))
    }

    static func files(_ f: BuildFacts) -> [String: String] {
        Dictionary(uniqueKeysWithValues: f.outputs.filter { !$0.isArchive }.map { ($0.path, $0.sha256) })
    }

    @Test func statementCarriesEverySubjectAndDependency() throws {
        let s = ProvenanceStatement(Self.facts())
        let json = try JSONSerialization.jsonObject(with: try s.json()) as! [String: Any]
        #expect(json["_type"] as? String == "https://in-toto.io/Statement/v1")
        #expect(json["predicateType"] as? String == "https://slsa.dev/provenance/v1")
        #expect(s.subject.map(\.name) == [".", "bin/hello", "share/doc/README", "hello-2.10.tar.gz"])
        #expect(s.subject[0].digest == ["sha256": String(repeating: "c", count: 64)])
        let deps = s.predicate.buildDefinition.resolvedDependencies ?? []
        #expect(deps.map(\.uri) == ["pkg:deb/debian/gcc-12@12.2.0-14?arch=amd64",
                                    "pkg:deb/debian/libstdc%2B%2B6@1%3A12.2.0%2B14?arch=amd64",
                                    "pkg:deb/debian/hello@2.10-3?arch=source",
                                    "git+file:repo@" + String(repeating: "4", count: 40)])
        #expect(deps[3].digest?["gitCommit"] == String(repeating: "4", count: 40))
        #expect(s.predicate.runDetails.builder.version?["repro-sandbox"] == "sha256:" + String(repeating: "f", count: 64))
        #expect(s.predicate.runDetails.metadata?.startedOn == "2027-01-15T08:00:00Z")
        #expect(s.predicate.buildDefinition.internalParameters?["sandboxPolicy"]?.string == "repro-sandbox-policy-2")
        #expect(s.predicate.runDetails.byproducts?.first?.name == "build.log")
        #expect(try ProvenanceStatement.parse(try s.json()) == s)
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func verifierAcceptsTheBuildAndNamesEveryMismatch(_ algorithm: KeyAlgorithm) throws {
        let f = Self.facts()
        let key = try KeyPair.generate(algorithm)
        let env = try DSSE.sign(payload: try ProvenanceStatement(f).json(), key: key.privateKey)
        var e = ProvenanceExpectations()
        e.directory = ("dist/hello", Self.files(f), f.treeSHA256)
        e.builderID = "urn:repro:builder:test"
        e.recipeDigest = "sha256:" + f.recipeSHA256
        e.source = "pkg:deb/debian/hello@2.10-3"
        let s = try ProvenanceVerifier.verify(env, key: key.publicKey, expect: e)
        #expect(s.subject.count == 4)
        e.source = "git+file:repo"
        _ = try ProvenanceVerifier.verify(env, key: key.publicKey, expect: e)

        func fails(_ reason: String, _ change: (inout ProvenanceExpectations) -> Void) {
            var x = e
            change(&x)
            expectFailure(containing: reason) { _ = try ProvenanceVerifier.verify(env, key: key.publicKey, expect: x) }
        }
        fails("artifact dist/hello/bin/hello is sha256:\(Digest.of("changed").hex) on disk, the statement says sha256:\(Digest.of("hello-binary").hex)") {
            $0.directory!.files["bin/hello"] = Digest.of("changed").hex
        }
        fails("artifact dist/hello/extra is not a subject") { $0.directory!.files["extra"] = Digest.of("x").hex }
        fails("subject share/doc/README is missing from dist/hello") { $0.directory!.files["share/doc/README"] = nil }
        fails("the tree digest of dist/hello is sha256:\(String(repeating: "0", count: 64)), the statement says") {
            $0.directory!.treeSHA256 = String(repeating: "0", count: 64)
        }
        fails("builder id is \"urn:repro:builder:test\", expected \"urn:repro:builder:ci\"") { $0.builderID = "urn:repro:builder:ci" }
        fails("the recipe digest is sha256:\(f.recipeSHA256), expected sha256:\(String(repeating: "0", count: 64))") {
            $0.recipeDigest = String(repeating: "0", count: 64)
        }
        fails("no resolved dependency has source pkg:deb/debian/bash") { $0.source = "pkg:deb/debian/bash" }
        fails("artifact x.bin (sha256:\(Digest.of("nope").hex)) is not a subject") { $0.directory = nil; $0.file = ("x.bin", Digest.of("nope").hex) }
        var ok = e
        ok.directory = nil; ok.file = ("hello-2.10.tar.gz", Digest.of("archive").hex)
        _ = try ProvenanceVerifier.verify(env, key: key.publicKey, expect: ok)

        // An altered subject after signing: the signature no longer covers the payload.
        var s2 = ProvenanceStatement(f)
        s2.subject[1].digest = ["sha256": Digest.of("evil").hex]
        var altered = env
        altered.payload = try s2.json().base64EncodedString()
        expectFailure(containing: "signature mismatch") { _ = try ProvenanceVerifier.verify(altered, key: key.publicKey, expect: e) }
        // Wrong key, and a key of the other type.
        let other = try KeyPair.generate(algorithm)
        expectFailure(containing: "no signature by key") { _ = try ProvenanceVerifier.verify(env, key: other.publicKey, expect: e) }
        let otherType = try KeyPair.generate(algorithm == .ed25519 ? .ecdsaP256 : .ed25519)
        expectFailure(containing: "key type mismatch") { _ = try ProvenanceVerifier.verify(env, key: otherType.publicKey, expect: e) }
    }

    @Test func verifierRejectsStatementsThatAreNotReproProvenance() throws {
        let key = try KeyPair.generate(.ed25519)
        func verdict(_ json: String) -> String {
            do {
                let env = try DSSE.sign(payload: Data(json.utf8), key: key.privateKey)
                _ = try ProvenanceVerifier.verify(env, key: key.publicKey, expect: .init())
                return "verified"
            } catch let e as ReproError { return e.message } catch { return "\(error)" }
        }
        #expect(verdict(#"{"a":1}"#).contains("the statement has no _type"))
        var s = ProvenanceStatement(Self.facts())
        s.predicateType = "https://slsa.dev/provenance/v0.2"
        #expect(verdict(String(decoding: try s.json(), as: UTF8.self)).contains("predicateType is \"https://slsa.dev/provenance/v0.2\""))
        s = ProvenanceStatement(Self.facts())
        s.subject[2].digest = ["sha1": "abc"]
        #expect(verdict(String(decoding: try s.json(), as: UTF8.self)).contains("subject 2 (share/doc/README) has no sha256 digest"))
        #expect(verdict(#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x"}"#).contains("no predicate"))
    }

    /// The direct JSON writer gives the bytes Foundation's encoder gives (the SBOMs used
    /// to be written by it): every control character, empty containers, non-ASCII keys,
    /// doubles, nesting; pretty and compact; and whole SBOMs.
    @Test func directJSONWriterMatchesFoundation() throws {
        let controls = String(decoding: (0..<0x20).map { UInt8($0) } + Array("\"\\/é\u{2028}\u{7f}".utf8), as: UTF8.self)
        let value: JSONValue = .object([
            "s": .string(controls), "é": .int(-3), "B": .array([]), "a": .object([:]), "a_": .null,
            "n": .array([.number(1.5), .number(-0.0), .number(1e20), .number(2), .bool(true), .bool(false)]),
            "deep": .array([.object(["x": .array([.object([:]), .string("")])]), .array([.array([])])]),
        ])
        for pretty in [false, true] {
            #expect(try value.canonicalJSON(pretty: pretty) == CanonicalJSON.encode(value, pretty: pretty), "pretty: \(pretty)")
        }
        for format in SBOMFormat.allCases {
            let doc = try SBOM.document(Self.facts(), format: format)
            let decoded = try JSONDecoder().decode(JSONValue.self, from: doc)
            #expect(doc == (try CanonicalJSON.encode(decoded, pretty: true)) + Data([0x0a]), "\(format)")
        }
    }

    @Test(arguments: SBOMFormat.allCases)
    func sbomIsAFunctionOfTheBuildAlone(_ format: SBOMFormat) throws {
        // Another host, another time, another invocation: the same bytes.
        let a = try SBOM.document(Self.facts(), format: format)
        let b = try SBOM.document(Self.facts(started: Date(), invocation: "inv-2"), format: format)
        #expect(a == b)
        let text = String(decoding: a, as: UTF8.self)
        #expect(text.contains("pkg:deb/debian/gcc-12@12.2.0-14?arch=amd64"))
        #expect(text.contains(Digest.of("hello-binary").hex))
        var other = Self.facts()
        other.outputs[0].sha256 = Digest.of("x").hex
        #expect(try SBOM.document(other, format: format) != a)
    }

    // MARK: reference implementations

    @Test(.enabled(if: Conformance.python != nil, "no python with the reference implementations"))
    func referenceImplementationsAcceptTheDocuments() throws {
        let dir = try Conformance.tempDir()
        let f = Self.facts()
        let key = try KeyPair.generate(.ecdsaP256)
        let (_, pub) = try key.write(to: dir + "/keys")
        let env = try DSSE.sign(payload: try ProvenanceStatement(f).json(), key: key.privateKey)
        try env.json().write(to: URL(fileURLWithPath: dir + "/p.intoto.jsonl"))
        let st = try Conformance.run(["statement", dir + "/p.intoto.jsonl"])
        #expect(st.status == 0, "\(st.stderr)")
        #expect(String(decoding: st.stdout, as: UTF8.self).contains("4 subjects, 4 resolved dependencies"))
        #expect(try Conformance.run(["verify", pub, dir + "/p.intoto.jsonl"]).status == 0)
        for format in SBOMFormat.allCases {
            let path = dir + "/sbom" + format.suffix
            try SBOM.document(f, format: format).write(to: URL(fileURLWithPath: path))
            let r = try Conformance.run([format.rawValue, path])
            #expect(r.status == 0, "\(format): \(r.stderr)")
        }
        // Negative, both verifiers: an altered subject, a truncated envelope, a key of
        // the wrong type. repro says why (exit 4 through the CLI); securesystemslib fails.
        var altered = ProvenanceStatement(f)
        altered.subject[1].digest = ["sha256": Digest.of("evil").hex]
        var alteredEnv = env
        alteredEnv.payload = try altered.json().base64EncodedString()
        try alteredEnv.json().write(to: URL(fileURLWithPath: dir + "/altered.jsonl"))
        try env.json().prefix(60).write(to: URL(fileURLWithPath: dir + "/truncated.jsonl"))
        let edKey = try KeyPair.generate(.ed25519).write(to: dir + "/ed")
        for (file, keyPath, reason) in [("altered.jsonl", pub, "signature mismatch"), ("truncated.jsonl", pub, "truncated"),
                                        ("p.intoto.jsonl", edKey.publicPath, "key type mismatch")] {
            #expect(try Conformance.run(["verify", keyPath, dir + "/" + file]).status != 0, "securesystemslib accepted \(file)")
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))
            expectFailure(containing: reason) {
                _ = try ProvenanceVerifier.verify(try DSSEEnvelope.parse(data), key: try PublicKey(path: keyPath), expect: .init())
            }
        }
        // Negative: the reference tools reject what is broken.
        var s = ProvenanceStatement(f)
        s.predicate.runDetails.builder.id = ""
        try DSSE.sign(payload: try s.json(), key: key.privateKey).json().write(to: URL(fileURLWithPath: dir + "/bad.jsonl"))
        #expect(try Conformance.run(["statement", dir + "/bad.jsonl"]).status == 1)
        var spdx = try JSONSerialization.jsonObject(with: SBOM.document(f, format: .spdx)) as! [String: Any]
        spdx["spdxVersion"] = "SPDX-9.9"
        try JSONSerialization.data(withJSONObject: spdx).write(to: URL(fileURLWithPath: dir + "/bad.spdx.json"))
        #expect(try Conformance.run(["spdx", dir + "/bad.spdx.json"]).status == 1)
        var cdx = try JSONSerialization.jsonObject(with: SBOM.document(f, format: .cyclonedx)) as! [String: Any]
        cdx["serialNumber"] = "not-a-urn"
        try JSONSerialization.data(withJSONObject: cdx).write(to: URL(fileURLWithPath: dir + "/bad.cdx.json"))
        #expect(try Conformance.run(["cyclonedx", dir + "/bad.cdx.json"]).status == 1)
    }
}
