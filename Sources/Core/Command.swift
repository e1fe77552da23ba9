import Foundation

/// Runs an external program (apt-get, apt-cache, git) with an argv array, never through
/// a shell. stdout goes to a temporary file (read back when the program ends), stderr
/// through a pipe that is read to EOF on the calling thread, so neither can fill up and
/// block the child; stderr is also echoed to our stderr when `echo` is set. `stdin`, when
/// given, is read by the child from a temporary file.
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

    /// Runs the program and waits for it.
    /// - Throws: `ReproError(.system)` when the program cannot be started.
    public func run() throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }

        let outPath = NSTemporaryDirectory() + "repro-cmd-\(UUID().uuidString)"
        var outHandle: FileHandle?
        if stdoutToStderr {
            p.standardOutput = echo ? FileHandle.standardError : FileHandle.nullDevice
        } else {
            guard FileManager.default.createFile(atPath: outPath, contents: nil),
                  let h = FileHandle(forUpdatingAtPath: outPath) else {
                throw ReproError(.system, "cannot create a temporary file for \(name)'s output in \(NSTemporaryDirectory())")
            }
            outHandle = h
            p.standardOutput = h
        }
        defer {
            try? outHandle?.close()
            try? FileManager.default.removeItem(atPath: outPath)
        }
        let errPipe = Pipe()
        p.standardError = errPipe
        if let stdin {
            let inPath = outPath + ".in"
            try stdin.write(to: URL(fileURLWithPath: inPath))
            defer { unlink(inPath) } // the child keeps its open descriptor
            p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        } else {
            p.standardInput = FileHandle.nullDevice
        }
        do {
            try p.run()
        } catch {
            throw ReproError(.system, "cannot run \(executable): \(error.localizedDescription)")
        }
        try? errPipe.fileHandleForWriting.close()
        var errData = Data()
        let reader = errPipe.fileHandleForReading
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            errData.append(chunk)
            if echo { FileHandle.standardError.write(chunk) }
        }
        p.waitUntilExit()
        var outData = Data()
        if let outHandle {
            try outHandle.seek(toOffset: 0)
            outData = outHandle.readDataToEndOfFile()
        }
        return Output(status: p.terminationStatus, stdoutData: outData,
                      stderr: String(decoding: errData, as: UTF8.self))
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
