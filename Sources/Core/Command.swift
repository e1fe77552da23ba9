import Foundation

/// Runs an external program (apt-get, apt-cache, git) with an argv array, never through
/// a shell. stdout and stderr come through pipes read to EOF on the calling thread with
/// poll, so neither can fill up and block the child; stderr is also echoed to our
/// stderr when `echo` is set. `stdin`, when given, is read by the child from a
/// temporary file.
public struct Command {
    public var executable: String
    public var arguments: [String]
    /// Added to (or replacing entries of) this process's environment.
    public var environment: [String: String] = [:]
    public var directory: String?
    /// Echo the child's stderr (and, with `stdoutToStderr`, its stdout) to our stderr.
    public var echo = false
    /// Send stdout to our stderr instead of capturing it (apt-get update's progress).
    public var stdoutToStderr = false
    /// The child's standard input (default: /dev/null).
    public var stdin: Data?

    public init(executable: String, arguments: [String], environment: [String: String] = [:], directory: String? = nil,
                echo: Bool = false, stdoutToStderr: Bool = false, stdin: Data? = nil) {
        self.executable = executable; self.arguments = arguments; self.environment = environment
        self.directory = directory; self.echo = echo; self.stdoutToStderr = stdoutToStderr; self.stdin = stdin
    }

    public struct Output {
        public var status: Int32
        public var stdoutData: Data
        public var stderr: String
        public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    }

    /// Runs the program and waits for it, with posix_spawn and waitpid (`Spawn`), not
    /// Foundation's Process (it hung when loopback was down, see `Spawn`).
    /// - Throws: `ReproError(.system)` when the program cannot be started.
    public func run() throws -> Output {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        var inPath: String?
        if let stdin {
            let path = NSTemporaryDirectory() + "repro-cmd-\(UUID().uuidString).in"
            try stdin.write(to: URL(fileURLWithPath: path))
            inPath = path
        }
        defer { if let inPath { unlink(inPath) } }
        let echo = self.echo
        let r = try Spawn.run(executable, arguments, environment: env.map { "\($0.key)=\($0.value)" }.sorted(),
                              directory: directory, stdinPath: inPath,
                              stdout: stdoutToStderr ? (echo ? .toStderr : .discard) : .capture,
                              onStderr: echo ? { FileHandle.standardError.write(Data($0)) } : nil)
        return Output(status: r.status, stdoutData: Data(r.stdout), stderr: String(decoding: r.stderr, as: UTF8.self))
    }

    /// Runs the program and fails unless it exits 0.
    /// - Throws: `ReproError(.system)` naming the command and quoting its last error lines.
    public func check(_ what: String) throws -> Output {
        let out = try run()
        guard out.status == 0 else {
            throw ReproError(.system, "\(what) failed (\(name) exited \(out.status)): \(Command.summary(out.stderr))")
        }
        return out
    }

    public var name: String { (executable as NSString).lastPathComponent }

    /// The lines of stderr that say what went wrong (apt's `E:` lines, else the last lines).
    public static func summary(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n").map(String.init)
        let errors = lines.filter { $0.hasPrefix("E: ") }
        let chosen = errors.isEmpty ? Array(lines.suffix(3)) : errors
        return chosen.isEmpty ? "no error output" : chosen.joined(separator: "; ")
    }

    /// Finds a program on PATH (or the usual system directories).
    public static func find(_ program: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        for d in dirs where FileManager.default.isExecutableFile(atPath: d + "/" + program) {
            return d + "/" + program
        }
        throw ReproError(.unsupported, "\(program) not found on PATH; install apt (Debian/Ubuntu host) to fetch Debian packages")
    }
}
