import ArgumentParser
import Attest
import Core
import Foundation

extension KeyAlgorithm: ExpressibleByArgument {}
extension SBOMFormat: ExpressibleByArgument {}

/// `repro key generate`: a signing key pair for provenance (docs/provenance.md).
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Manage the signing keys of provenance.",
        subcommands: [Generate.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a signing key pair.",
            discussion: """
            Writes signing.pem (unencrypted PKCS#8 PEM, mode 0600) and signing.pub.pem \
            (SubjectPublicKeyInfo PEM) into DIR, by default $XDG_CONFIG_HOME/repro/keys or \
            ~/.config/repro/keys. Prints the keyid (hex SHA-256 of the DER public key). \
            Signing uses --key PATH, else $REPRO_SIGNING_KEY, else signing.pem there.
            """
        )

        @Option(help: "ed25519 or ecdsa-p256.")
        var algorithm: KeyAlgorithm = .ed25519

        @Option(help: "Directory for the key files (default ~/.config/repro/keys).")
        var out: String?

        @Flag(help: "Replace an existing key pair (the old private key is lost).")
        var force = false

        @Flag(help: "Print {\"algorithm\", \"keyid\", \"private_key\", \"public_key\"}.")
        var json = false

        struct Output: Encodable {
            var algorithm: String
            var keyid: String
            var privateKey: String
            var publicKey: String
            enum CodingKeys: String, CodingKey {
                case algorithm, keyid
                case privateKey = "private_key"
                case publicKey = "public_key"
            }
        }

        func run() throws {
            do {
                let dir = out ?? Keys.defaultDirectory()
                let pair = try KeyPair.generate(algorithm)
                let (priv, pub) = try pair.write(to: dir, force: force)
                if json {
                    try printJSON(Output(algorithm: algorithm.rawValue, keyid: pair.publicKey.keyID,
                                         privateKey: priv, publicKey: pub))
                } else {
                    print("private key: \(priv)")
                    print("public key:  \(pub)")
                    print("keyid:       \(pair.publicKey.keyID)")
                }
            }
        }
    }
}
