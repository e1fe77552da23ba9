import ArgumentParser
import Attest
import Core
import Foundation

/// `repro attest sign|verify`: DSSE envelopes signed with a pinned PEM key, verified
/// offline (docs/provenance.md).
struct AttestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract: "Sign and verify DSSE attestation envelopes.",
        subcommands: [Sign.self, Verify.self]
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
            try reporting {
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
            abstract: "Verify a DSSE envelope with a public key, offline.",
            discussion: """
            Exit 0 when a signature by the key verifies; exit 4 with the reason otherwise
            (bad base64, no signature, signature mismatch, wrong payloadType, key type
            mismatch, malformed envelope). The payload is not printed unless --json.
            """
        )

        @Argument(help: "The envelope (JSON).")
        var envelope: String

        @Option(help: "The PEM public key.")
        var key: String

        @Option(help: "The expected DSSE payloadType.")
        var payloadType: String = DSSE.inTotoPayloadType

        @Flag(help: "Print {\"verified\", \"keyid\", \"algorithm\", \"payload_type\", \"payload\" (base64)}; on failure {\"verified\": false, \"reason\"} and exit 4.")
        var json = false

        struct Output: Encodable {
            var verified: Bool
            var keyid: String?
            var algorithm: String?
            var payloadType: String?
            var payload: String?
            var reason: String?
            enum CodingKeys: String, CodingKey {
                case verified, keyid, algorithm, payload, reason
                case payloadType = "payload_type"
            }
        }

        func run() throws {
            try reporting {
                let publicKey = try PublicKey(path: key)
                let data: Data
                do {
                    data = try Data(contentsOf: URL(fileURLWithPath: envelope))
                } catch {
                    throw ReproError(.invalidInput, "\(envelope): cannot read the envelope: \(error.localizedDescription)")
                }
                do {
                    let env = try DSSEEnvelope.parse(data, source: envelope)
                    let payload = try DSSE.verify(env, key: publicKey, payloadType: payloadType)
                    if json {
                        try printJSON(Output(verified: true, keyid: publicKey.keyID, algorithm: publicKey.algorithm.rawValue,
                                             payloadType: env.payloadType, payload: payload.base64EncodedString()))
                    } else {
                        print("verified: signed by \(publicKey.algorithm.rawValue) key \(publicKey.keyID)")
                    }
                } catch let e as ReproError where e.code == .verificationFailed {
                    if json { try printJSON(Output(verified: false, reason: e.message)) }
                    throw ReproError(.verificationFailed, e.message.hasPrefix(envelope) ? e.message : "\(envelope): \(e.message)")
                }
            }
        }
    }
}
