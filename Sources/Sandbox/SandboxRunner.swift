import Core
import Faults
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a `SandboxSpec` through the `repro-sandbox` launcher with posix_spawn, passes
/// or captures its output, and returns the launcher's status object.
///
/// The launcher is started with --die-with-parent: if this process dies (even by
/// SIGKILL) the sandbox dies with it. Linux ties that to the spawning *thread*, so call
/// `run` from a thread that outlives the sandbox (the CLI calls it on the main thread).
public struct SandboxRunner: Sendable {
    /// `inherit`: the sandbox writes to our stdout/stderr. `capture`: its output is kept
    /// in `Completed` (and passed to `onOutput`). `stream`: passed to `onOutput` only and
    /// not kept (the last 4 KiB of stderr excepted, for launcher errors), so that what
    /// a build prints never piles up in this process.
    public enum Output: Sendable { case inherit, capture, stream }

    public struct Completed: Sendable {
        public var result: SandboxResult
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// The launcher's own exit status (equal to result.exitCode).
        public var launcherExit: Int32
        /// With a `captureLimit`: stdout or stderr went past it and was cut there.
        public var truncated = false
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    public let launcher: String

    public init(launcher: String? = nil) throws {
        self.launcher = try launcher ?? SandboxRunner.locateLauncher()
    }

    /// `$REPRO_SANDBOX`, else `repro-sandbox` next to this executable, else on PATH.
    /// Plain libc, no FileManager or ProcessInfo: `repro run` calls this on every start.
    public static func locateLauncher() throws -> String {
        if let p = getenv("REPRO_SANDBOX"), p.pointee != 0 {
            let env = String(cString: p)
            guard access(env, X_OK) == 0 else {
                throw ReproError(.invalidInput, "REPRO_SANDBOX=\(env) is not an executable file; unset it or point it at repro-sandbox")
            }
            return env
        }
        var candidates: [String] = []
        if let exe = readLink("/proc/self/exe"), let slash = exe.lastIndex(of: "/") {
            candidates.append(String(exe[..<slash]) + "/repro-sandbox")
        }
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        // String + String: Substring + String goes through an unspecialized generic
        // append whose first call scans every protocol conformance in the binary.
        for dir in path.split(separator: ":") { candidates.append(String(dir) + "/repro-sandbox") }
        if let found = candidates.first(where: { access($0, X_OK) == 0 }) { return found }
        throw ReproError(.internal, "cannot find the repro-sandbox launcher next to repro or on PATH; build it with 'swift build' or set REPRO_SANDBOX")
    }

    /// Runs the sandbox to completion.
    /// - Throws: `ReproError(.invalidInput)` when the launcher rejects its arguments
    ///   (exit 2, its message on stderr), `.system` when spawning fails.
    /// - Parameter onOutput: with `.capture`, called with each chunk as it arrives
    ///   (1 = stdout, 2 = stderr), e.g. to show a build log live.
    /// - Parameter onSpawn: called with the launcher's pid once it runs (to signal it).
    /// - Parameter captureLimit: with `.capture`, the bytes of stdout and of stderr
    ///   kept (the rest is read and dropped; `Completed.truncated` says so).
    public func run(_ spec: SandboxSpec, output: Output = .inherit, captureLimit: Int = .max,
                    onOutput: ((Int, ArraySlice<UInt8>) -> Void)? = nil,
                    onSpawn: ((pid_t) -> Void)? = nil) throws -> Completed {
        try validate(spec)
        let status = try Pipe2()
        let out = output != .inherit ? try Pipe2() : nil
        let err = output != .inherit ? try Pipe2() : nil

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, status.write, 3)
        if let out { posix_spawn_file_actions_adddup2(&actions, out.write, 1) }
        if let err { posix_spawn_file_actions_adddup2(&actions, err.write, 2) }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attr, &noSignals)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let args = [launcher, "--die-with-parent", "--parent-pid", String(getpid()), "--status-fd", "3"]
            + spec.launcherArguments()
        var cargs = args.map { strdup($0) }
        cargs.append(nil)
        defer { cargs.forEach { free($0) } }
        var env: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, launcher, &actions, &attr, &cargs, &env)
        guard rc == 0 else { throw ReproError(.system, "posix_spawn \(launcher): \(Syscall.errorString(rc))") }
        status.closeWrite(); out?.closeWrite(); err?.closeWrite()
        onSpawn?(pid)

        let (streams, truncated) = try drain([status.read, out?.read, err?.read], keep: output == .capture,
                                             limit: captureLimit, onOutput: onOutput)
        var wstatus: Int32 = 0
        try Syscall.check("waitpid") { waitpid(pid, &wstatus, 0) }
        let launcherExit: Int32 = (wstatus & 0x7f) == 0 ? (wstatus >> 8) & 0xff : 128 + (wstatus & 0x7f)

        guard !streams[0].isEmpty else {
            let detail = output != .inherit ? ": " + String(decoding: streams[2], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : " (its message is above)"
            if launcherExit == 2 { throw ReproError(.invalidInput, "the sandbox launcher rejected its arguments\(detail)") }
            throw ReproError(.internal, "the sandbox launcher exited \(launcherExit) without a status\(detail)")
        }
        var result: SandboxResult
        do {
            result = try JSONDecoder().decode(SandboxResult.self, from: Data(streams[0]))
        } catch {
            throw ReproError(.internal, "unreadable status from \(launcher): \(String(decoding: streams[0], as: UTF8.self))")
        }
        if let faults = spec.faults {
            if result.faults == nil {
                result.faults = FaultReport(seed: faults.seed, clauses: [], injected: [:], error: nil)
            }
            result.faults?.spec = faults.canonical
        }
        return Completed(result: result, stdout: streams[1], stderr: streams[2], launcherExit: launcherExit,
                         truncated: truncated)
    }

    /// Replaces this process with the launcher running `spec`: the launcher's exit
    /// status becomes this process's, and nothing of repro stays in between. For
    /// callers that need no status object (`repro run` without --json).
    /// - Throws: what `validate` finds, or `.system` when execve fails.
    public func exec(_ spec: SandboxSpec) throws -> Never {
        try validate(spec)
        let args = [launcher] + spec.launcherArguments()
        var cargs = args.map { strdup($0) }
        cargs.append(nil)
        var env: [UnsafeMutablePointer<CChar>?] = [nil]
        execve(launcher, &cargs, &env)
        throw ReproError(.system, "execve \(launcher): \(Syscall.errorString(errno))")
    }

    /// The launcher's policy version (`repro-sandbox --version`), part of every action
    /// digest: a different default policy must not reuse cached results.
    /// Run with posix_spawn and waitpid (Core Spawn), not Foundation's Process, which
    /// hung here when loopback was down (`unshare -n repro build`).
    public func policyVersion() throws -> String {
        let r = try Spawn.run(launcher, ["--version"], environment: [])
        let text = String(decoding: r.stdout, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("policy ") }) else {
            throw ReproError(.internal, "\(launcher) --version printed no policy line")
        }
        return String(line.dropFirst(7))
    }

    /// Checks what the launcher would reject, so the message can name the option.
    private func validate(_ spec: SandboxSpec) throws {
        guard !spec.command.isEmpty else { throw ReproError(.invalidInput, "no command given") }
        for d in spec.faults?.disks ?? [] where !spec.mounts.contains(.tmpfs(d.path)) {
            throw ReproError(.invalidInput, "fault disk=\(d.path): \(d.path) is not a tmpfs in this sandbox (a host directory is bound there); drop the bind or the disk fault")
        }
        for m in spec.mounts {
            switch m {
            case let .readOnly(host, inside, optional), let .readWrite(host, inside, optional):
                var st = stat()  // not FileManager: creating FileManager.default costs ~0.3 ms
                if !optional && stat(host, &st) != 0 {
                    throw ReproError(.invalidInput, "bind source \(host) (for \(inside)) does not exist")
                }
                if !inside.hasPrefix("/") { throw ReproError(.invalidInput, "bind destination '\(inside)' must be an absolute path inside the sandbox") }
            case let .overlay(lower, state, inside):
                var st = stat()
                for dir in [lower, state] where stat(dir, &st) != 0 || st.st_mode & S_IFMT != S_IFDIR {
                    throw ReproError(.invalidInput, "overlay directory \(dir) (for \(inside)) does not exist")
                }
            default: break
            }
        }
    }

    /// Reads every fd to EOF with poll, on this thread; returns their bytes in order (fd 0
    /// always whole; the others up to `limit` with `keep`, else only stderr's last 4 KiB),
    /// and whether one went past `limit`.
    private func drain(_ fds: [Int32?], keep: Bool, limit: Int,
                       onOutput: ((Int, ArraySlice<UInt8>) -> Void)?) throws -> ([[UInt8]], Bool) {
        var data = [[UInt8]](repeating: [], count: fds.count)
        var truncated = false
        var open = fds.map { $0 != nil }
        var buf = [UInt8](repeating: 0, count: 65536)
        while open.contains(true) {
            var pfds = fds.enumerated().map { i, fd in pollfd(fd: open[i] ? fd! : -1, events: Int16(POLLIN), revents: 0) }
            try Syscall.check("poll") { poll(&pfds, nfds_t(pfds.count), -1) }
            for i in pfds.indices where open[i] && pfds[i].revents != 0 {
                let n = read(pfds[i].fd, &buf, buf.count)
                if n > 0 {
                    if i == 0 {
                        data[i].append(contentsOf: buf[0..<n])
                    } else if keep {
                        let room = max(0, limit - data[i].count)
                        if room < n { truncated = true }
                        data[i].append(contentsOf: buf[0..<min(n, room)])
                    } else if i == 2 {
                        data[i].append(contentsOf: buf[0..<n])
                        if data[i].count > 4096 { data[i].removeFirst(data[i].count - 4096) }
                    }
                    if i > 0 { onOutput?(i, buf[0..<n]) }
                }
                else if n == 0 || errno != EINTR { open[i] = false; close(pfds[i].fd) }
            }
        }
        return (data, truncated)
    }
}

/// A close-on-exec pipe whose ends sit at fd 10 or above, so dup2 onto 0-3 in the child
/// never meets an fd that is already there.
final class Pipe2 {
    let read: Int32
    private(set) var write: Int32
    init() throws {
        var fds: [Int32] = [0, 0]
        try Syscall.check("pipe") { pipe(&fds) }
        let r = fcntl(fds[0], F_DUPFD_CLOEXEC, 10), w = fcntl(fds[1], F_DUPFD_CLOEXEC, 10)
        close(fds[0]); close(fds[1])
        guard r >= 0, w >= 0 else { throw ReproError(.system, "fcntl F_DUPFD_CLOEXEC: \(Syscall.errorString(errno))") }
        read = r; write = w
    }
    func closeWrite() { if write >= 0 { close(write); write = -1 } }
    deinit { closeWrite() }
}
