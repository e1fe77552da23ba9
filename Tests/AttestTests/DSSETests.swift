import Attest
import Core
import Foundation
import TestKit
import Testing

@Suite(.tags(.unit)) struct DSSETests {
    /// The test vector of the DSSE protocol (protocol.md, "Test cases").
    @Test func paeMatchesTheSpecExample() {
        let pae = DSSE.pae(payloadType: "http://example.com/HelloWorld", payload: Data("hello world".utf8))
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }

    @Test func paeCountsBytesNotCharacters() {
        let pae = DSSE.pae(payloadType: "t/é", payload: Data([0xff, 0x00]))
        #expect(pae == Data("DSSEv1 4 t/é 2 ".utf8) + Data([0xff, 0x00]))
        #expect(String(decoding: DSSE.pae(payloadType: "", payload: Data()), as: UTF8.self) == "DSSEv1 0  0 ")
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func signAndVerifyRoundTrip(_ algorithm: KeyAlgorithm) throws {
        let pair = try KeyPair.generate(algorithm)
        let payload = Data(#"{"_type":"https://in-toto.io/Statement/v1"}"#.utf8)
        let env = try DSSE.sign(payload: payload, key: pair.privateKey)
        #expect(env.payloadType == "application/vnd.in-toto+json")
        #expect(env.signatures.count == 1)
        #expect(env.signatures[0].keyid == pair.publicKey.keyID)
        #expect(env.signatures[0].keyid == Digest.of(pair.publicKey.der).hex)
        // Through JSON, and through PEM, as a verifier elsewhere would see them.
        let parsed = try DSSEEnvelope.parse(try env.json())
        let pub = try PublicKey(pem: try pair.publicKey.pem())
        #expect(try DSSE.verify(parsed, key: pub) == payload)
        let sig = try #require(Data(base64Encoded: env.signatures[0].sig))
        if algorithm == .ed25519 { #expect(sig.count == 64) } else { #expect(sig.first == 0x30) }
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func tamperedPayloadFails(_ algorithm: KeyAlgorithm) throws {
        let pair = try KeyPair.generate(algorithm)
        var env = try DSSE.sign(payload: Data("original".utf8), key: pair.privateKey)
        env.payload = Data("tampered".utf8).base64EncodedString()
        expectFailure(containing: "signature mismatch") { _ = try DSSE.verify(env, key: pair.publicKey) }
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func wrongKeyFails(_ algorithm: KeyAlgorithm) throws {
        let signer = try KeyPair.generate(algorithm), other = try KeyPair.generate(algorithm)
        let env = try DSSE.sign(payload: Data("x".utf8), key: signer.privateKey)
        expectFailure(containing: "no signature by key \(other.publicKey.keyID)") { _ = try DSSE.verify(env, key: other.publicKey) }
        // Without the keyid hint, the signature itself is checked and does not match.
        var anonymous = env
        anonymous.signatures[0].keyid = ""
        expectFailure(containing: "signature mismatch") { _ = try DSSE.verify(anonymous, key: other.publicKey) }
    }

    @Test func keyOfTheWrongTypeFails() throws {
        let ed = try KeyPair.generate(.ed25519), ec = try KeyPair.generate(.ecdsaP256)
        var byEd = try DSSE.sign(payload: Data("x".utf8), key: ed.privateKey)
        // With the keyid hint (it names the other key) the reason is still the type.
        expectFailure(containing: "key type mismatch: the key is ecdsa-p256") { _ = try DSSE.verify(byEd, key: ec.publicKey) }
        byEd.signatures[0].keyid = ""
        expectFailure(containing: "key type mismatch: the key is ecdsa-p256") { _ = try DSSE.verify(byEd, key: ec.publicKey) }
        var byEC = try DSSE.sign(payload: Data("x".utf8), key: ec.privateKey)
        byEC.signatures[0].keyid = ""
        expectFailure(containing: "key type mismatch: the key is ed25519") { _ = try DSSE.verify(byEC, key: ed.publicKey) }
    }

    @Test func truncatedEnvelopeFails() throws {
        let pair = try KeyPair.generate(.ed25519)
        let json = try DSSE.sign(payload: Data("x".utf8), key: pair.privateKey).json()
        expectFailure(containing: "malformed or truncated") { _ = try DSSEEnvelope.parse(json.prefix(json.count / 2)) }
        expectFailure(containing: "missing \"signatures\"") {
            _ = try DSSEEnvelope.parse(Data(#"{"payload":"eA==","payloadType":"application/vnd.in-toto+json"}"#.utf8))
        }
    }

    @Test func malformedFieldsFail() throws {
        let pair = try KeyPair.generate(.ecdsaP256)
        let env = try DSSE.sign(payload: Data("x".utf8), key: pair.privateKey)
        var e = env
        e.payload = "not base64!"
        expectFailure(containing: "payload is not valid base64") { _ = try DSSE.verify(e, key: pair.publicKey) }
        e = env
        e.signatures[0].sig = "%%%"
        expectFailure(containing: "sig is not valid base64") { _ = try DSSE.verify(e, key: pair.publicKey) }
        e = env
        e.signatures = []
        expectFailure(containing: "no signatures") { _ = try DSSE.verify(e, key: pair.publicKey) }
        e = env
        e.payloadType = "text/plain"
        expectFailure(containing: "payloadType is \"text/plain\"") { _ = try DSSE.verify(e, key: pair.publicKey) }
        // The PAE covers the type: accepting any type still fails the signature.
        expectFailure(containing: "signature mismatch") { _ = try DSSE.verify(e, key: pair.publicKey, payloadType: nil) }
    }
}

func expectFailure(containing text: String, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected verification to fail with '\(text)'", sourceLocation: sourceLocation)
    } catch let e as ReproError {
        #expect(e.code == .verificationFailed, "\(e)", sourceLocation: sourceLocation)
        #expect(e.message.contains(text), "\(e.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
