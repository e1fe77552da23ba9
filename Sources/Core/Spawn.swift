import CLinux
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts a program with posix_spawn and waits for it with waitpid, reading its output
/// through pipes with poll on the calling thread. No Foundation `Process`: it waits for
/// the child through a CFSocket wakeup pair, and where that cannot be made (`unshare -n`:
/// "Could not create wakeup socket pair for CFSocket") it never noticed the child exit,
/// so `repro build` hung with the launcher a zombie.
public enum Spawn {
    public struct Result: Sendable {
        /// The exit status, or 128+N when signal N ended the program.
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
    }

    /// Where the child's standard output goes.
    public enum Stdout: Sendable {
        /// Kept in `Result.stdout`.
        case capture
        /// Our stderr (progress of a long command), or nowhere.
        case toStderr, discard
    }

    /// Runs `executable` (an absolute path) with `arguments` and exactly `environment`
    /// ("KEY=VALUE" strings), in `directory` when given, stdin from `stdinPath` (default
    /// /dev/null), and waits for it.
    /// - Parameter onStderr: each chunk of stderr as it arrives (echoing).
    /// - Throws: `ReproError(.system)` when the program cannot be started.
    public static func run(_ executable: String, _ arguments: [String], environment: [String],
                           directory: String? = nil, stdinPath: String? = nil, stdout: Stdout = .capture,
                           onStderr: ((ArraySlice<UInt8>) -> Void)? = nil) throws -> Result {
        var fds: [Int32] = [-1, -1, -1, -1]
        try fds.withUnsafeMutableBufferPointer { b in _ = try Syscall.check("pipe2") { repro_pipe_cloexec(b.baseAddress!) } }
        defer { for fd in fds where fd >= 0 { close(fd) } }
        if stdout == .capture {
            try fds.withUnsafeMutableBufferPointer { b in _ = try Syscall.check("pipe2") { repro_pipe_cloexec(b.baseAddress! + 2) } }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
        switch stdout {
        case .capture: posix_spawn_file_actions_adddup2(&actions, fds[3], 1)
        case .toStderr: posix_spawn_file_actions_adddup2(&actions, 2, 1)
        case .discard: posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        if let directory { repro_spawn_addchdir(&actions, directory) }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var argv = ([executable] + arguments).map { strdup($0) } + [nil]
        var envp = environment.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, &argv, &envp)
        guard rc == 0 else { throw ReproError(.system, "cannot run \(executable): \(Syscall.errorString(rc))") }
        close(fds[1]); fds[1] = -1
        if fds[3] >= 0 { close(fds[3]); fds[3] = -1 }

        var out: [UInt8] = [], err: [UInt8] = []
        var open = [fds[0], fds[2]]
        var buf = [UInt8](repeating: 0, count: 65536)
        while open.contains(where: { $0 >= 0 }) {
            var pfds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            try Syscall.check("poll") { poll(&pfds, nfds_t(pfds.count), -1) }
            for i in pfds.indices where open[i] >= 0 && pfds[i].revents != 0 {
                let n = read(open[i], &buf, buf.count)
                if n > 0 {
                    if i == 0 { err += buf[0..<n]; onStderr?(buf[0..<n]) } else { out += buf[0..<n] }
                } else if n == 0 || errno != EINTR {
                    if i == 0 { fds[0] = -1 } else { fds[2] = -1 }
                    close(open[i]); open[i] = -1
                }
            }
        }
        var wstatus: Int32 = 0
        try Syscall.check("waitpid \(executable)") { waitpid(pid, &wstatus, 0) }
        let status = (wstatus & 0x7f) == 0 ? (wstatus >> 8) & 0xff : 128 + (wstatus & 0x7f)
        return Result(status: status, stdout: out, stderr: err)
    }
}
