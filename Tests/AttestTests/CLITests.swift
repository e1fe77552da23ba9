import Attest
import Core
import Foundation
import TestKit
import Testing

/// The built `repro` binary: key generate, attest sign, attest verify and its exit codes.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: CLI.repro), "repro not built"), .tags(.sandbox))
struct CLITests {
    @Test func generateSignVerifyAndFailWithExit4() throws {
        let dir = try Conformance.tempDir()
        let env = ["XDG_CONFIG_HOME": dir + "/cfg", "HOME": dir, "PATH": "/usr/bin:/bin"]
        let gen = try CLI.run(["key", "generate", "--algorithm", "ecdsa-p256", "--json"], env)
        #expect(gen.status == 0, "\(gen.err)")
        #expect(gen.out.contains(dir + "/cfg/repro/keys/signing.pem"))
        #expect(try CLI.run(["key", "generate"], env).status == 2)
        let keys = dir + "/cfg/repro/keys"

        try Data(#"{"a":1}"#.utf8).write(to: URL(fileURLWithPath: dir + "/p.json"))
        // The default key, found through $XDG_CONFIG_HOME.
        let sign = try CLI.run(["attest", "sign", dir + "/p.json", "-o", dir + "/e.json"], env)
        #expect(sign.status == 0, "\(sign.err)")
        let ok = try CLI.run(["attest", "verify", dir + "/e.json", "--key", keys + "/signing.pub.pem", "--signature-only", "--json"], env)
        #expect(ok.status == 0, "\(ok.err)")
        #expect(ok.out.contains(#""verified":true"#))

        // Wrong key of the other type: exit 4, the reason on stderr.
        let ed = try CLI.run(["key", "generate", "--out", dir + "/ed"], env)
        #expect(ed.status == 0)
        let wrong = try CLI.run(["attest", "verify", dir + "/e.json", "--key", dir + "/ed/signing.pub.pem"], env)
        #expect(wrong.status == 4)
        #expect(wrong.err.hasPrefix("repro: error: \(dir)/e.json: key type mismatch"), "\(wrong.err)")

        // Tampered payload.
        var envelope = try DSSEEnvelope.parse(try Data(contentsOf: URL(fileURLWithPath: dir + "/e.json")))
        envelope.payload = Data(#"{"a":2}"#.utf8).base64EncodedString()
        try envelope.json().write(to: URL(fileURLWithPath: dir + "/t.json"))
        let tampered = try CLI.run(["attest", "verify", dir + "/t.json", "--key", keys + "/signing.pub.pem"], env)
        #expect(tampered.status == 4)
        #expect(tampered.err.contains("signature mismatch"), "\(tampered.err)")

        // Truncated envelope, --json says why too.
        let full = try Data(contentsOf: URL(fileURLWithPath: dir + "/e.json"))
        try full.prefix(40).write(to: URL(fileURLWithPath: dir + "/short.json"))
        let short = try CLI.run(["attest", "verify", dir + "/short.json", "--key", keys + "/signing.pub.pem", "--json"], env)
        #expect(short.status == 4)
        #expect(short.out.contains(#""verified":false"#) && short.out.contains("truncated"))

        // REPRO_SIGNING_KEY wins over the default key.
        var ciEnv = env
        ciEnv["REPRO_SIGNING_KEY"] = dir + "/ed/signing.pem"
        #expect(try CLI.run(["attest", "sign", dir + "/p.json", "-o", dir + "/e2.json"], ciEnv).status == 0)
        #expect(try CLI.run(["attest", "verify", dir + "/e2.json", "--key", dir + "/ed/signing.pub.pem", "--signature-only"], env).status == 0)
    }
}

enum CLI {
    static var repro: String { TestKit.repro }

    static func run(_ args: [String], _ environment: [String: String]) throws -> (status: Int32, out: String, err: String) {
        let r = try TestKit.run([repro] + args, environment: environment)
        return (r.status, r.out, r.stderr)
    }
}
