import ArgumentParser
import Core
import Foundation

/// The `repro` root command. One file per subcommand in this directory.
@main
struct Repro: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "repro",
        abstract: "Reproducible builds and test runs in a namespace + seccomp sandbox.",
        discussion: """
        Exit codes: 0 ok; 1 the build or a test failed; 2 usage or bad input;
        3 not reproducible; 4 verification failed; 70 internal error.
        State lives in $REPRO_HOME (default ~/.cache/repro).
        """,
        version: version,
        subcommands: [BuildCommand.self, LockCommand.self, RunCommand.self, DoctorCommand.self, RankCommand.self, HashCommand.self, StoreCommand.self, KeyCommand.self, AttestCommand.self]
    )

    /// `repro run` is on the hot path of every sandboxed command: parse it on its own
    /// instead of building the whole command tree (reflection over every subcommand is
    /// most of repro's start-up). Help, completion and errors take the normal path.
    static func parseFast() throws -> ParsableCommand? {
        let args = Array(CommandLine.arguments.dropFirst())
        guard args.first == "run" else { return nil }
        let rest = Array(args.dropFirst())
        let options = rest.prefix { $0 != "--" }
        if options.contains(where: { $0 == "-h" || $0 == "--help" || $0 == "--version" || $0.hasPrefix("--generate-completion") }) {
            return nil
        }
        return try? RunCommand.parse(rest)
    }

    /// Like ArgumentParser's main, but usage errors exit 2 (DESIGN.md), not 64.
    static func main() {
        do {
            var command = try parseFast() ?? parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}
