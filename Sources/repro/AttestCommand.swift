import ArgumentParser
import Attest
import Core
import Foundation
import Store

/// `repro attest sign|verify`: DSSE envelopes signed with a pinned PEM key, verified
/// offline (docs/provenance.md).
struct AttestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract: "Sign and verify DSSE attestation envelopes.",
        subcommands: [Sign.self, Verify.self, Show.self]
    )

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a payload file into a DSSE envelope.",
            discussion: "The key is --key PATH, else $REPRO_SIGNING_KEY, else signing.pem in ~/.config/repro/keys."
        )

        @Argument(help: "The payload to sign (any bytes; in-toto statements by default).")
        var file: String

        @Option(help: "The PEM private key.")
        var key: String?

        @Option(help: "The DSSE payloadType.")
        var payloadType: String = DSSE.inTotoPayloadType

        @Option(name: .shortAndLong, help: "Where to write the envelope (JSON, one line).")
        var output: String

        func run() throws {
            do {
                let keyPath = Keys.signingKeyPath(explicit: key)
                let privateKey = try PrivateKey(path: keyPath)
                let payload: Data
                do {
                    payload = try Data(contentsOf: URL(fileURLWithPath: file))
                } catch {
                    throw ReproError(.invalidInput, "\(file): cannot read the payload: \(error.localizedDescription)")
                }
                var json = try DSSE.sign(payload: payload, payloadType: payloadType, key: privateKey).json()
                json.append(0x0a)
                do {
                    try json.write(to: URL(fileURLWithPath: output), options: .atomic)
                } catch {
                    throw ReproError(.system, "\(output): cannot write the envelope: \(error.localizedDescription)")
                }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a build's signed provenance or a test run's signed result offline.",
            discussion: """
            The checks slsa-verifier makes, with a pinned public key instead of Sigstore:
            the DSSE signature by --key; an in-toto Statement v1 with a SLSA Provenance v1 \
            predicate of repro's build type; with --artifact, that a FILE is a subject, or \
            that a DIR holds exactly the subjects' files with their digests and the tree \
            digest; --builder-id, --recipe-digest and --source against the predicate. \
            A test-result statement (predicate https://in-toto.io/attestation/test-result/v0.1, \
            written by `repro test`) is detected and checked likewise: its shape, with
            --artifact that DIR's tree digest (or FILE's sha256) is a subject,
            --recipe-digest, and --test-result.
            Exit 0 verified; exit 4 with the precise reason on stderr (and in --json) \
            otherwise; exit 2 when a file cannot be read. --signature-only checks only the \
            signature (any payload).
            """
        )

        @Argument(help: "The envelope (JSON, e.g. dist/hello.intoto.jsonl).")
        var envelope: String

        @Option(help: "The PEM public key.")
        var key: String

        @Option(help: "A file or output directory the provenance must describe.")
        var artifact: String?

        @Option(help: "The expected builder id (runDetails.builder.id).")
        var builderId: String?

        @Option(help: "The expected recipe digest (sha256:HEX, as `repro build --json` prints recipe_digest).")
        var recipeDigest: String?

        @Option(help: "A source the build must have used: a purl such as pkg:deb/debian/hello@2.10-3?arch=source, or git+PATH.")
        var source: String?

        @Option(help: "Test results: the expected result, PASSED, WARNED (some tests flaky) or FAILED.")
        var testResult: String?

        @Option(help: "The expected DSSE payloadType (with --signature-only).")
        var payloadType: String = DSSE.inTotoPayloadType

        @Flag(help: "Check only the DSSE signature; the payload may be anything.")
        var signatureOnly = false

        @Flag(help: "Print {\"verified\", \"keyid\", \"algorithm\", \"payload_type\", \"payload\" (base64), \"predicate_type\", \"subjects\", \"tree_digest\", \"builder_id\" or \"result\" and \"tests\"}; on failure {\"verified\": false, \"reason\"} and exit 4.")
        var json = false

        struct Output: Encodable {
            var verified: Bool
            var keyid: String?
            var algorithm: String?
            var payloadType: String?
            var payload: String?
            var subjects: Int?
            var builderID: String?
            var treeDigest: String?
            var predicateType: String?
            /// Test results: the predicate's result and the number of tests of each kind.
            var result: String?
            var tests: [String: Int]?
            var reason: String?
            enum CodingKeys: String, CodingKey {
                case verified, keyid, algorithm, payload, reason, subjects, result, tests
                case payloadType = "payload_type", builderID = "builder_id", treeDigest = "tree_digest"
                case predicateType = "predicate_type"
            }
        }

        func run() throws {
            do {
                let publicKey = try PublicKey(path: key)
                let data = try AttestCommand.read(envelope, what: "envelope")
                if signatureOnly, artifact != nil || builderId != nil || recipeDigest != nil || source != nil || testResult != nil {
                    throw ReproError(.invalidInput, "--signature-only cannot be combined with --artifact, --builder-id, --recipe-digest, --source or --test-result")
                }
                if let r = testResult, !TestResultVerifier.results.contains(r.uppercased()) {
                    throw ReproError(.invalidInput, "--test-result \(r): expected PASSED, WARNED or FAILED")
                }
                let expect = try expectations()
                do {
                    let env = try DSSEEnvelope.parse(data, source: envelope)
                    var out = Output(verified: true, keyid: publicKey.keyID, algorithm: publicKey.algorithm.rawValue,
                                     payloadType: env.payloadType)
                    var summary: String?
                    if signatureOnly {
                        out.payload = try DSSE.verify(env, key: publicKey, payloadType: payloadType).base64EncodedString()
                    } else {
                        let verified = try AttestationVerifier.verify(env, key: publicKey, expect: expect)
                        out.payload = env.payload
                        out.predicateType = verified.predicateType
                        out.subjects = verified.subjects.count
                        out.treeDigest = verified.treeDigest
                        summary = verified.summary
                        switch verified {
                        case let .provenance(s):
                            out.builderID = s.predicate.runDetails.builder.id
                        case let .testResult(s):
                            out.result = s.predicate.result
                            out.tests = ["passed": s.predicate.passedTests.count, "warned": s.predicate.warnedTests.count,
                                         "failed": s.predicate.failedTests.count, "skipped": s.skippedTests.count]
                        }
                    }
                    if json { try printJSON(out) } else {
                        var line = "verified: signed by \(publicKey.algorithm.rawValue) key \(publicKey.keyID)"
                        if let summary { line += "; " + summary }
                        if let a = artifact { line += "; artifact \(a) matches" }
                        print(line)
                    }
                } catch let e as ReproError where e.code == .verificationFailed {
                    if json { try printJSON(Output(verified: false, reason: e.message)) }
                    throw ReproError(.verificationFailed, e.message.hasPrefix(envelope) ? e.message : "\(envelope): \(e.message)")
                }
            }
        }

        /// The artifact's digests, computed before any verdict.
        func expectations() throws -> ProvenanceExpectations {
            var e = try ProvenanceExpectations(artifact: artifact, builderID: builderId, recipeDigest: recipeDigest, source: source)
            e.testResult = testResult
            return e
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a readable summary of a provenance or test-result envelope (and check its signature with --key).",
            discussion: "Without --key the signature is not checked and the summary says so."
        )

        @Argument(help: "The envelope (JSON, e.g. dist/hello.intoto.jsonl).")
        var envelope: String

        @Option(help: "A PEM public key to check the signature with.")
        var key: String?

        @Flag(help: "Print the statement itself (JSON) instead of the summary.")
        var json = false

        func run() throws {
            do {
                let data = try AttestCommand.read(envelope, what: "envelope")
                let env: DSSEEnvelope
                do { env = try DSSEEnvelope.parse(data, source: envelope) } catch let e as ReproError {
                    throw ReproError(.verificationFailed, "\(envelope): \(e.message)")
                }
                var signature = "not checked (pass --key to check it)"
                let payload: Data
                if let key {
                    let publicKey = try PublicKey(path: key)
                    do { payload = try DSSE.verify(env, key: publicKey) } catch let e as ReproError {
                        throw ReproError(.verificationFailed, "\(envelope): \(e.message)")
                    }
                    signature = "verified (\(publicKey.algorithm.rawValue) key \(publicKey.keyID))"
                } else {
                    guard let p = Data(base64Encoded: env.payload) else {
                        throw ReproError(.verificationFailed, "\(envelope): payload is not valid base64")
                    }
                    payload = p
                }
                if AttestationVerifier.predicateType(of: payload) == TestResultStatement.predicateType {
                    let t: TestResultStatement
                    do { t = try TestResultStatement.parse(payload) } catch let e as ReproError {
                        throw ReproError(.verificationFailed, "\(envelope): \(e.message)")
                    }
                    if json { try printJSON(t, pretty: true) } else { print(t.summary(envelope: env, signature: signature)) }
                    return
                }
                let s: ProvenanceStatement
                do { s = try ProvenanceStatement.parse(payload) } catch let e as ReproError {
                    throw ReproError(.verificationFailed, "\(envelope): \(e.message)")
                }
                if json {
                    try printJSON(s, pretty: true)
                    return
                }
                print(ProvenanceSummary.text(s, envelope: env, signature: signature))
            }
        }
    }

    static func read(_ path: String, what: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReproError(.invalidInput, "\(path): cannot read the \(what): \(error.localizedDescription)")
        }
    }
}
