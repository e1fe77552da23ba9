import ArgumentParser
import Core
import Foundation

/// `repro-remote`, the gRPC half of the CLI (docs/remote.md): installed next to `repro`.
/// `repro` never links gRPC; the commands that talk to a REAPI server run that program.
enum RemoteTool {
    /// `repro-remote` beside this executable, else on PATH.
    static func path() throws -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let beside = (exe as NSString).deletingLastPathComponent + "/repro-remote"
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(dir)/repro-remote"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw ReproError(.invalidInput, "repro-remote (the REAPI client) is not installed next to \(exe) nor on PATH; install it with `scripts/setup --remote`")
    }

    /// Replaces this process with `repro-remote ARGS` (execv).
    static func exec(_ args: [String]) throws -> Never {
        let p = try path()
        let argv = ([p] + args).map { strdup($0) } + [nil]
        execv(p, argv)
        throw ReproError(.system, "execv \(p): \(String(cString: strerror(errno)))")
    }

    /// Runs `repro-remote ARGS` with stderr passed through; returns its exit status and
    /// stdout.
    static func run(_ args: [String]) throws -> (Int32, Data) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try path())
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, data)
    }
}

/// A `repro` subcommand that is `repro-remote`'s: every argument goes there unparsed
/// (`--help` too).
protocol RemoteForward: ParsableCommand {
    static var path: [String] { get }
    var arguments: [String] { get }
}

extension RemoteForward {
    func run() throws {
        try RemoteTool.exec(Self.path + arguments)
    }
}

struct WorkerCommand: RemoteForward {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run builds for a REAPI server (BuildGrid) as a Bots API worker (repro-remote worker --help).")
    static let path = ["worker"]
    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
}

struct StorePushCommand: RemoteForward {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload trees, action results or blobs to a remote CAS (repro-remote store push --help).")
    static let path = ["store", "push"]
    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
}

struct StorePullCommand: RemoteForward {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download trees, blobs or a recipe's result from a remote CAS, verified (repro-remote store pull --help).")
    static let path = ["store", "pull"]
    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
}
