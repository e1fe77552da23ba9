import Attest
import Core
import Foundation
import TestKit
import Testing

/// DSSE conformance against securesystemslib (the reference implementation), through
/// conformance.py. Runs when a Python with securesystemslib is found: $REPRO_ATTEST_PYTHON,
/// else /tmp/attest-venv/bin/python, else python3 (.ci/run installs it into a venv).
@Suite(.serialized, .enabled(if: Conformance.python != nil, "no python with securesystemslib"), .tags(.unit))
struct ConformanceTests {
    @Test(arguments: KeyAlgorithm.allCases)
    func securesystemslibVerifiesReproEnvelopes(_ algorithm: KeyAlgorithm) throws {
        let dir = try Conformance.tempDir()
        let pair = try KeyPair.generate(algorithm)
        let (_, pub) = try pair.write(to: dir)
        let payload = Data(#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#.utf8)
        let env = try DSSE.sign(payload: payload, key: pair.privateKey)
        try env.json().write(to: URL(fileURLWithPath: dir + "/good.json"))
        let ok = try Conformance.run(["verify", pub, dir + "/good.json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == payload)

        // Negative: the reference verifier rejects what repro rejects.
        var tampered = env
        tampered.payload = Data(#"{"_type":"evil"}"#.utf8).base64EncodedString()
        try tampered.json().write(to: URL(fileURLWithPath: dir + "/tampered.json"))
        #expect(try Conformance.run(["verify", pub, dir + "/tampered.json"]).status == 1)
        let other = try KeyPair.generate(algorithm).write(to: dir + "/other")
        #expect(try Conformance.run(["verify", other.publicPath, dir + "/good.json"]).status == 1)
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func reproVerifiesSecuresystemslibEnvelopes(_ algorithm: KeyAlgorithm) throws {
        let dir = try Conformance.tempDir()
        let payload = Data(#"{"_type":"https://in-toto.io/Statement/v1","by":"securesystemslib"}"#.utf8)
        try payload.write(to: URL(fileURLWithPath: dir + "/payload.json"))
        let r = try Conformance.run(["sign", algorithm.rawValue, dir + "/payload.json", dir + "/env.json", dir + "/pub.pem"])
        try #require(r.status == 0, "\(r.stderr)")
        let env = try DSSEEnvelope.parse(try Data(contentsOf: URL(fileURLWithPath: dir + "/env.json")))
        let key = try PublicKey(path: dir + "/pub.pem")
        #expect(key.algorithm == algorithm)
        #expect(env.signatures.first?.keyid == key.keyID)
        #expect(try DSSE.verify(env, key: key) == payload)
        var tampered = env
        tampered.payload = Data("x".utf8).base64EncodedString()
        expectFailure(containing: "signature mismatch") { _ = try DSSE.verify(tampered, key: key) }
    }
}

enum Conformance {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("conformance.py").path

    static let python: String? = {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["REPRO_ATTEST_PYTHON"], "/tmp/attest-venv/bin/python", "/usr/bin/python3"].compactMap { $0 }
        for p in candidates where FileManager.default.isExecutableFile(atPath: p) {
            if let r = try? exec(p, ["-c", "import securesystemslib.dsse, cryptography, in_toto_attestation, spdx_tools, cyclonedx.validation.json"]), r.status == 0 { return p }
        }
        return nil
    }()

    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "attest-conf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func run(_ args: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try exec(python!, [script] + args)
    }

    static func exec(_ tool: String, _ args: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        let r = try TestKit.run([tool] + args)
        return (r.status, r.stdout, r.stderr)
    }
}
