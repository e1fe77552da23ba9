import CCrypto
import Core
import Foundation

/// A DSSE envelope (github.com/secure-systems-lab/dsse, protocol v1):
///
///     {"payload": "<base64>", "payloadType": "application/vnd.in-toto+json",
///      "signatures": [{"keyid": "<hex sha256 of the DER public key>", "sig": "<base64>"}]}
///
/// The signature covers the pre-authentication encoding (`DSSE.pae`), never the JSON.
public struct DSSEEnvelope: Codable, Sendable, Equatable {
    public struct Signature: Codable, Sendable, Equatable {
        public var keyid: String
        public var sig: String
        public init(keyid: String, sig: String) {
            self.keyid = keyid
            self.sig = sig
        }
    }

    /// Standard base64 of the payload bytes.
    public var payload: String
    public var payloadType: String
    public var signatures: [Signature]

    public init(payload: String, payloadType: String, signatures: [Signature]) {
        self.payload = payload
        self.payloadType = payloadType
        self.signatures = signatures
    }

    /// Parses an envelope from JSON.
    /// - Throws: `ReproError(.verificationFailed)` saying what is missing or malformed.
    public static func parse(_ data: Data, source: String = "envelope") throws -> DSSEEnvelope {
        do {
            return try JSONDecoder().decode(DSSEEnvelope.self, from: data)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ReproError(.verificationFailed, "\(source): not a DSSE envelope: missing \"\(path(ctx.codingPath + [key]))\"")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ReproError(.verificationFailed, "\(source): not a DSSE envelope: \"\(path(ctx.codingPath))\" has the wrong type")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw ReproError(.verificationFailed, "\(source): not a DSSE envelope: \"\(path(ctx.codingPath))\" is null")
        } catch {
            throw ReproError(.verificationFailed, "\(source): not a DSSE envelope: the JSON is malformed or truncated")
        }
    }

    /// The envelope as canonical JSON (sorted keys, one line).
    public func json() throws -> Data { try CanonicalJSON.encode(self) }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
    }
}

/// DSSE signing and verification with OpenSSL (`EVP_DigestSign` / `EVP_DigestVerify`).
public enum DSSE {
    /// The payload type of in-toto statements.
    public static let inTotoPayloadType = "application/vnd.in-toto+json"

    /// The pre-authentication encoding of DSSE v1:
    /// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal
    /// byte counts (of the UTF-8 type and the raw body).
    public static func pae(payloadType: String, payload: Data) -> Data {
        let type = Data(payloadType.utf8)
        var out = Data("DSSEv1 \(type.count) ".utf8)
        out.append(type)
        out.append(Data(" \(payload.count) ".utf8))
        out.append(payload)
        return out
    }

    /// Signs `payload` with one key: Ed25519 over the PAE, or ECDSA P-256 over
    /// SHA-256(PAE) with a DER-encoded signature.
    /// - Throws: `ReproError(.internal)` with OpenSSL's reason if signing fails.
    public static func sign(payload: Data, payloadType: String = inTotoPayloadType,
                            key: PrivateKey) throws -> DSSEEnvelope {
        let sig = try signBytes(pae(payloadType: payloadType, payload: payload), key: key)
        return DSSEEnvelope(payload: payload.base64EncodedString(), payloadType: payloadType,
                            signatures: [.init(keyid: key.publicKey.keyID, sig: sig.base64EncodedString())])
    }

    /// Verifies `envelope` with `key` and returns the payload bytes. One valid signature
    /// by `key` is enough; signatures with another keyid are skipped, and an empty keyid
    /// is tried (keyids are hints, not trusted).
    /// - Parameter payloadType: the type the caller expects; `nil` accepts any.
    /// - Throws: `ReproError(.verificationFailed)` with the reason: wrong payloadType,
    ///   payload or signature not base64, no signatures, key type mismatch, or no
    ///   signature that verifies.
    public static func verify(_ envelope: DSSEEnvelope, key: PublicKey,
                              payloadType: String? = inTotoPayloadType) throws -> Data {
        if let payloadType, envelope.payloadType != payloadType {
            throw ReproError(.verificationFailed, "payloadType is \"\(envelope.payloadType)\", expected \"\(payloadType)\"")
        }
        guard let payload = Data(base64Encoded: envelope.payload) else {
            throw ReproError(.verificationFailed, "payload is not valid base64")
        }
        guard !envelope.signatures.isEmpty else {
            throw ReproError(.verificationFailed, "the envelope has no signatures")
        }
        let candidates = envelope.signatures.filter { $0.keyid.isEmpty || $0.keyid == key.keyID }
        guard !candidates.isEmpty else {
            let shapes = envelope.signatures.compactMap { Data(base64Encoded: $0.sig).flatMap { typeMismatch($0, key: key) } }
            if shapes.count == envelope.signatures.count, let first = shapes.first {
                throw ReproError(.verificationFailed, first)
            }
            let ids = envelope.signatures.map { $0.keyid }.joined(separator: ", ")
            throw ReproError(.verificationFailed, "no signature by key \(key.keyID) (the envelope is signed by keyid \(ids)); wrong public key?")
        }
        let message = pae(payloadType: envelope.payloadType, payload: payload)
        var reasons: [String] = []
        for (i, s) in candidates.enumerated() {
            guard let sig = Data(base64Encoded: s.sig) else {
                reasons.append("signature \(i): sig is not valid base64")
                continue
            }
            if let mismatch = typeMismatch(sig, key: key) {
                reasons.append("signature \(i): \(mismatch)")
                continue
            }
            if try verifyBytes(message, signature: sig, key: key) { return payload }
            reasons.append("signature \(i): signature mismatch: the payload or the signature was altered, or it was made by another \(key.algorithm.rawValue) key")
        }
        throw ReproError(.verificationFailed, reasons.joined(separator: "; "))
    }

    /// An Ed25519 signature is exactly 64 bytes and a DER ECDSA signature starts with a
    /// SEQUENCE tag (0x30) and is 8...72 bytes: a signature of the other shape was made
    /// with a key of the other type.
    static func typeMismatch(_ sig: Data, key: PublicKey) -> String? {
        let looksDER = sig.first == 0x30 && (8...72).contains(sig.count) && Int(sig[sig.startIndex + 1]) == sig.count - 2
        switch key.algorithm {
        case .ed25519 where sig.count != 64:
            return "key type mismatch: the key is ed25519 but the signature (\(sig.count) bytes)\(looksDER ? " is a DER ECDSA signature" : " is not an Ed25519 signature")"
        case .ecdsaP256 where !looksDER:
            return "key type mismatch: the key is ecdsa-p256 but the signature (\(sig.count) bytes) is not DER-encoded ECDSA\(sig.count == 64 ? " (it has the size of an Ed25519 signature)" : "")"
        default:
            return nil
        }
    }

    static func digest(for algorithm: KeyAlgorithm) -> OpaquePointer? {
        algorithm == .ed25519 ? nil : EVP_sha256()
    }

    static func signBytes(_ message: Data, key: PrivateKey) throws -> Data {
        guard let ctx = EVP_MD_CTX_new() else { throw ReproError(.internal, "EVP_MD_CTX_new: \(Keys.opensslError())") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, digest(for: key.algorithm), nil, key.key.pointer) == 1 else {
            throw ReproError(.internal, "EVP_DigestSignInit: \(Keys.opensslError())")
        }
        return try message.withUnsafeBytes { m -> Data in
            let mp = m.bindMemory(to: UInt8.self).baseAddress
            var len = 0
            guard EVP_DigestSign(ctx, nil, &len, mp, m.count) == 1 else {
                throw ReproError(.internal, "EVP_DigestSign: \(Keys.opensslError())")
            }
            var sig = [UInt8](repeating: 0, count: len)
            guard EVP_DigestSign(ctx, &sig, &len, mp, m.count) == 1 else {
                throw ReproError(.internal, "EVP_DigestSign: \(Keys.opensslError())")
            }
            return Data(sig.prefix(len))
        }
    }

    /// `EVP_DigestVerify`: 1 is a valid signature; 0 or a negative value (for example a
    /// malformed DER signature) is not.
    static func verifyBytes(_ message: Data, signature: Data, key: PublicKey) throws -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { throw ReproError(.internal, "EVP_MD_CTX_new: \(Keys.opensslError())") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, digest(for: key.algorithm), nil, key.key.pointer) == 1 else {
            throw ReproError(.internal, "EVP_DigestVerifyInit: \(Keys.opensslError())")
        }
        let r = message.withUnsafeBytes { m in
            signature.withUnsafeBytes { s in
                EVP_DigestVerify(ctx, s.bindMemory(to: UInt8.self).baseAddress, s.count,
                                 m.bindMemory(to: UInt8.self).baseAddress, m.count)
            }
        }
        ERR_clear_error()
        return r == 1
    }
}
