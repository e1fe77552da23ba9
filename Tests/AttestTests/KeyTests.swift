import Attest
import Core
import Foundation
import TestKit
import Testing

@Suite(.tags(.unit)) struct KeyTests {
    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "attest-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func writeAndLoad(_ algorithm: KeyAlgorithm) throws {
        let dir = try tempDir() + "/keys"
        let pair = try KeyPair.generate(algorithm)
        let (priv, pub) = try pair.write(to: dir)
        #expect(try mode(priv) == 0o600)
        #expect(try mode(dir) == 0o700)
        let privText = try String(contentsOfFile: priv, encoding: .utf8)
        let pubText = try String(contentsOfFile: pub, encoding: .utf8)
        #expect(privText.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(pubText.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        let loaded = try PrivateKey(path: priv)
        #expect(loaded.algorithm == algorithm)
        #expect(loaded.publicKey.der == pair.publicKey.der)
        let loadedPub = try PublicKey(path: pub)
        #expect(loadedPub.keyID == pair.publicKey.keyID)
        #expect(loadedPub.algorithm == algorithm)
        // No temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["signing.pem", "signing.pub.pem"])
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let dir = try tempDir()
        let first = try KeyPair.generate(.ed25519)
        try first.write(to: dir)
        #expect(throws: ReproError.self) { try KeyPair.generate(.ed25519).write(to: dir) }
        #expect(try PrivateKey(path: dir + "/signing.pem").publicKey.der == first.publicKey.der)
        let second = try KeyPair.generate(.ecdsaP256)
        try second.write(to: dir, force: true)
        #expect(try PrivateKey(path: dir + "/signing.pem").algorithm == .ecdsaP256)
        #expect(try mode(dir + "/signing.pem") == 0o600)
    }

    @Test func badKeyFilesSayWhichFileAndWhat() throws {
        let dir = try tempDir()
        let pair = try KeyPair.generate(.ed25519)
        let (priv, pub) = try pair.write(to: dir)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch let e as ReproError {
                #expect(e.code == .invalidInput)
                return e.message
            } catch { return "\(error)" }
        }
        let missing = message { _ = try PrivateKey(path: dir + "/nope.pem") }
        #expect(missing.contains(dir + "/nope.pem") && missing.contains("no such private key file"))
        let swappedPriv = message { _ = try PrivateKey(path: pub) }
        #expect(swappedPriv.contains(pub) && swappedPriv.contains("this is a public key"))
        let swappedPub = message { _ = try PublicKey(path: priv) }
        #expect(swappedPub.contains(priv) && swappedPub.contains("this is a private key"))
        let garbage = dir + "/garbage.pem"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect(message { _ = try PublicKey(path: garbage) }.contains("\(garbage): not a PEM public key"))
    }

    /// An RSA key and a P-384 key, made by the openssl tool (scripts/test installs it).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "/usr/bin/openssl is missing (apt-get install openssl)"))
    func unsupportedKeyTypesAreRejected() throws {
        let dir = try tempDir()
        for (name, args) in [("rsa", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                             ("p384", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"])] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = args + ["-out", "\(dir)/\(name).pem"]
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            #expect(throws: ReproError.self) { _ = try PrivateKey(path: "\(dir)/\(name).pem") }
        }
    }

    @Test func defaultLocations() {
        #expect(Keys.defaultDirectory(environment: ["XDG_CONFIG_HOME": "/x/cfg", "HOME": "/h"]) == "/x/cfg/repro/keys")
        #expect(Keys.defaultDirectory(environment: ["HOME": "/h"]) == "/h/.config/repro/keys")
        #expect(Keys.signingKeyPath(explicit: nil, environment: ["HOME": "/h"]) == "/h/.config/repro/keys/signing.pem")
        #expect(Keys.signingKeyPath(explicit: nil, environment: ["HOME": "/h", "REPRO_SIGNING_KEY": "/ci/k.pem"]) == "/ci/k.pem")
        #expect(Keys.signingKeyPath(explicit: "/a.pem", environment: ["REPRO_SIGNING_KEY": "/ci/k.pem"]) == "/a.pem")
    }
}
