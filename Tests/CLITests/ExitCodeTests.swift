import Core
import Foundation
import TestKit
import Testing

/// Errors are mapped to exit codes once, at the top of the CLI: bad input is 2, a
/// failed verification 4, and an error that is not a `ReproError` (or a system error)
/// 70 with the command and the path, never 1 ("build failed"). One case per command
/// family, each through the real binary.
@Suite(.tags(.sandbox)) struct ExitCodeTests {
    struct Case: Sendable, CustomStringConvertible {
        let args: [String]
        let status: Int32
        let says: [String]
        var description: String { args.joined(separator: " ") }
    }

    /// A store that cannot be created: /proc does not take new directories.
    static let noStore = "/proc/repro-no-store"

    static let cases: [Case] = [
        Case(args: ["build", "recipes/hello.toml", "--store", noStore], status: 70, says: [noStore]),
        Case(args: ["lock", "recipes/hello.toml", "--store", noStore], status: 70, says: [noStore]),
        Case(args: ["store", "verify", "--store", noStore], status: 70, says: [noStore]),
        Case(args: ["store", "gc", "--store", noStore], status: 70, says: [noStore]),
        Case(args: ["run", "--memory", "lots", "--", "true"], status: 2, says: ["--memory", "lots"]),
        Case(args: ["hash", "/nonexistent/tree"], status: 2, says: ["/nonexistent/tree"]),
        Case(args: ["attest", "verify", "/nonexistent/x.intoto.jsonl", "--key", "/nonexistent/k.pem"], status: 2, says: ["/nonexistent/k.pem"]),
        Case(args: ["diff", "/nonexistent/a", "/nonexistent/b"], status: 2, says: ["/nonexistent/a"]),
        Case(args: ["verify", "/nonexistent/r.toml"], status: 2, says: ["/nonexistent/r.toml"]),
        Case(args: ["bundle", "export", "sha256:" + String(repeating: "0", count: 64), "-o", "/tmp/x.tar", "--store", noStore], status: 70, says: [noStore]),
        Case(args: ["rank", "eval", "--replay", "/nonexistent/h.csv", "--format", "retecs"], status: 2, says: ["/nonexistent/h.csv"]),
        Case(args: ["test", "/nonexistent/r.toml"], status: 2, says: ["/nonexistent/r.toml"]),
    ]

    @Test(arguments: cases)
    func exitsWithItsCodeAndSaysWhere(_ c: Case) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let r = try TestKit.run([TestKit.repro] + c.args, cwd: root)
        #expect(r.status == c.status, "\(r.stderr)")
        for s in c.says { #expect(r.stderr.contains(s), "\(r.stderr)") }
        #expect(r.stderr.hasPrefix("repro: error: ") || r.stderr.contains("Error:") || r.stderr.contains("error:"), "\(r.stderr)")
    }
}

/// The mapping itself.
@Suite(.tags(.unit)) struct ErrorMappingTests {
    @Test func aReproErrorIsItself() {
        let e = ReproError.from(ReproError(.verificationFailed, "bad signature"), operation: "repro attest verify")
        #expect(e.code == .verificationFailed && e.message == "bad signature")
    }

    @Test func aFoundationFileErrorIsInternalWithOperationAndPath() {
        var caught: (any Error)?
        do { _ = try Data(contentsOf: URL(fileURLWithPath: "/nonexistent/file.json")) } catch { caught = error }
        let e = ReproError.from(caught!, operation: "repro store import")
        #expect(e.code.exitStatus == 70)
        #expect(e.message.hasPrefix("repro store import: /nonexistent/file.json: "), "\(e.message)")
    }

    @Test func aDecodingErrorSaysWhere() {
        struct T: Decodable { let a: Int }
        var caught: (any Error)?
        do { _ = try JSONDecoder().decode(T.self, from: Data(#"{"a":"x"}"#.utf8)) } catch { caught = error }
        let e = ReproError.from(caught!, operation: "repro rank order")
        #expect(e.code.exitStatus == 70)
        #expect(e.message.contains("repro rank order: cannot decode at a"), "\(e.message)")
    }
}
