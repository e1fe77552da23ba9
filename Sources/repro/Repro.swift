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
        Exit codes: 0 ok; 1 the build or a test failed; 2 usage or bad input; \
        3 not reproducible; 4 verification failed; 70 internal error. \
        State lives in $REPRO_HOME (default ~/.cache/repro).
        """,
        version: version,
        subcommands: [BuildCommand.self, LockCommand.self, RunCommand.self, TestCommand.self, DoctorCommand.self, RankCommand.self, HashCommand.self, StoreCommand.self, KeyCommand.self, AttestCommand.self, VerifyCommand.self, BundleCommand.self, DiffCommand.self, ResultsCommand.self, WorkerCommand.self]
    )

    /// Like ArgumentParser's main, but usage errors exit 2 (DESIGN.md), not 64, and
    /// errors are mapped to exit codes here, once: a `ReproError` exits with its code
    /// ("repro: error: ..."); any other error that is not ArgumentParser's (a Foundation
    /// file error, a decoding error) exits 70 naming the command and the path.
    static func main() {
        var operation = "repro"
        do {
            // `repro run` is on the path of every sandboxed command: parsed by hand when
            // its line is valid (RunOptions.parseFast), by ArgumentParser otherwise.
            if let run = RunOptions.parseFast(CommandLine.arguments) {
                operation = "repro run"
                try run.run()
                return
            }
            var command = try parseAsRoot()
            operation = Self.path(of: type(of: command)).joined(separator: " ")
            try command.run()
        } catch {
            if error is ReproError || (!(error is ExitCode) && exitCode(for: error) == .failure) {
                let e = ReproError.from(error, operation: operation)
                FileHandle.standardError.write(Data("repro: error: \(error is ReproError ? e.description : e.message)\n".utf8))
                Foundation.exit(e.code.exitStatus)
            }
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }

    /// The command names from the root to `leaf` ("repro store export").
    static func path(of leaf: ParsableCommand.Type, from root: ParsableCommand.Type = Repro.self) -> [String] {
        let name = root.configuration.commandName ?? "repro"
        if root == leaf { return [name] }
        for sub in root.configuration.subcommands {
            let p = path(of: leaf, from: sub)
            if !p.isEmpty { return [name] + p }
        }
        return []
    }
}
