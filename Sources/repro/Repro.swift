import ArgumentParser
import Core
import Foundation

/// The `repro` root command. One file per subcommand in this directory.
@main
struct Repro: ParsableCommand {
    static let version = ReproInfo.version

    static let configuration = CommandConfiguration(
        commandName: "repro",
        abstract: "Reproducible builds and test runs in a namespace + seccomp sandbox.",
        discussion: """
        Exit codes: 0 ok; 1 the build or a test failed; 2 usage or bad input;
        3 not reproducible; 4 verification failed; 70 internal error.
        State lives in $REPRO_HOME (default ~/.cache/repro).
        """,
        version: version,
        subcommands: [BuildCommand.self, LockCommand.self, RunCommand.self, TestCommand.self, DoctorCommand.self, RankCommand.self, HashCommand.self, StoreCommand.self, KeyCommand.self, AttestCommand.self, VerifyCommand.self, BundleCommand.self, DiffCommand.self, ResultsCommand.self]
    )

    /// Like ArgumentParser's main, but usage errors exit 2 (DESIGN.md), not 64.
    static func main() {
        do {
            // `repro run` is on the path of every sandboxed command: parsed by hand when
            // its line is valid (RunOptions.parseFast), by ArgumentParser otherwise.
            if let run = RunOptions.parseFast(CommandLine.arguments) { try run.run(); return }
            var command = try parseAsRoot()
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
