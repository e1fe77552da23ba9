import Faults

/// A sandbox, described as a value: what is mounted where, who runs, with which
/// environment, limits and seccomp policy, and the command. `launcherArguments()` turns
/// it into a `repro-sandbox` command line; `SandboxRunner` runs it.
public struct SandboxSpec: Sendable, Equatable {
    /// One step of assembling the root, applied in order.
    public enum Mount: Sendable, Equatable {
        /// Host path bound read-only (nosuid, nodev). `optional`: skipped when missing.
        case readOnly(host: String, inside: String, optional: Bool = false)
        /// Host path bound writable (nosuid, nodev).
        case readWrite(host: String, inside: String, optional: Bool = false)
        case tmpfs(String)
        case directory(String)
        case symlink(target: String, at: String)
        /// A read-only file with fixed contents (e.g. /etc/passwd).
        case file(at: String, contents: String)
        case proc(String)
        case dev(String)
        /// overlayfs at `inside`: host directory `lower` read-only underneath, every
        /// write in host `state`/upper (deletions as overlayfs whiteouts); `lower` is
        /// never written. `state`/work is overlayfs's own.
        case overlay(lower: String, state: String, inside: String)
    }

    public enum Seccomp: Sendable, Equatable {
        case `default`, none
        /// A policy file: lines "SYSCALL ERRNO" or "@default" (see sandbox/POLICY.md).
        case file(String)
    }

    public enum Network: Sendable, Equatable {
        /// A new network namespace with only loopback, up.
        case loopback
        /// The host's network (for fetch steps only; never for builds).
        case host
    }

    /// Limits; nil means unset. Sizes in bytes, times in seconds.
    public struct Limits: Sendable, Equatable {
        public var memory: Int64?
        public var pids: Int?
        public var cpus: Double?
        public var addressSpace: Int64?
        public var openFiles: Int?
        public var processes: Int?
        public var cpuSeconds: Int?
        public var fileSize: Int64?
        public init(memory: Int64? = nil, pids: Int? = nil, cpus: Double? = nil, addressSpace: Int64? = nil,
                    openFiles: Int? = nil, processes: Int? = nil, cpuSeconds: Int? = nil, fileSize: Int64? = nil) {
            self.memory = memory; self.pids = pids; self.cpus = cpus; self.addressSpace = addressSpace
            self.openFiles = openFiles; self.processes = processes; self.cpuSeconds = cpuSeconds; self.fileSize = fileSize
        }
    }

    public var command: [String]
    public var mounts: [Mount]
    /// The whole environment: the sandbox starts with none.
    public var environment: [(key: String, value: String)]
    public var uid: UInt32 = 1000
    public var gid: UInt32 = 1000
    public var hostname = "repro"
    public var domainname = "repro"
    public var workingDirectory: String?
    public var umask: UInt32 = 0o022
    public var network: Network = .loopback
    public var limits = Limits()
    public var allowDegrade = false
    /// Bytes of every writable tmpfs (`.tmpfs` mounts and /dev/shm); nil: the kernel's
    /// default (half of RAM each).
    public var tmpfsSize: Int64?
    /// Wall-clock limit in seconds; then SIGTERM, then SIGKILL after `killGrace`.
    public var timeout: Double?
    public var killGrace: Double = 2
    public var seccomp: Seccomp = .default
    public var newSession = false
    /// Variations (`repro verify`): seconds added to CLOCK_MONOTONIC/CLOCK_BOOTTIME in a
    /// new time namespace (0: none); the CPUs the command may use ("0", "0-1,3");
    /// personality(2) flags ("linux32", "uname26", "addr-no-randomize").
    public var timeOffset: Int64 = 0
    public var cpuAffinity: String?
    public var personality: [String] = []
    /// Faults to inject (docs/faults.md): syscall clauses go to the launcher's
    /// supervisor; a disk fault sizes the tmpfs at its path, memory and cpu tighten the
    /// limits, a clock jump adds to `timeOffset`.
    public var faults: FaultSpec?

    public init(command: [String], mounts: [Mount] = [], environment: [(key: String, value: String)] = []) {
        self.command = command
        self.mounts = mounts
        self.environment = environment
    }

    public static func == (a: SandboxSpec, b: SandboxSpec) -> Bool {
        a.launcherArguments() == b.launcherArguments()
    }

    /// The `repro-sandbox` arguments for this sandbox, up to and including the command.
    public func launcherArguments() -> [String] {
        var a: [String] = []
        let disks = faults?.disks ?? []
        for m in mounts {
            switch m {
            case let .readOnly(host, inside, optional): a += [optional ? "--ro-bind-try" : "--ro-bind", host, inside]
            case let .readWrite(host, inside, optional): a += [optional ? "--bind-try" : "--bind", host, inside]
            case let .tmpfs(p):
                if let d = disks.first(where: { $0.path == p }) { a += ["--size", String(d.bytes)] }
                a += ["--tmpfs", p]
            case let .directory(p): a += ["--dir", p]
            case let .symlink(target, at): a += ["--symlink", target, at]
            case let .overlay(lower, state, inside): a += ["--overlay", lower, state, inside]
            case let .file(at, contents): a += ["--file", at, contents]
            case let .proc(p): a += ["--proc", p]
            case let .dev(p): a += ["--dev", p]
            }
        }
        for (k, v) in environment { a += ["--setenv", k, v] }
        a += ["--uid", String(uid), "--gid", String(gid), "--hostname", hostname, "--domainname", domainname]
        if let workingDirectory { a += ["--chdir", workingDirectory] }
        a += ["--umask", String(umask, radix: 8)]
        if network == .host { a.append("--share-net") }
        if newSession { a.append("--new-session") }
        let offset = timeOffset + (faults?.clockJump ?? 0)
        if offset != 0 { a += ["--time-offset", String(offset)] }
        if let cpuAffinity { a += ["--cpu-affinity", cpuAffinity] }
        if !personality.isEmpty { a += ["--personality", personality.joined(separator: ",")] }
        let l = limits
        // A fault limit tightens the run's own limit; it never loosens it.
        if let v = [l.memory, faults?.memory].compactMap({ $0 }).min() { a += ["--memory", String(v)] }
        if let v = l.pids { a += ["--pids", String(v)] }
        if let v = [l.cpus, faults?.cpu].compactMap({ $0 }).min() { a += ["--cpus", String(v)] }
        if let v = l.addressSpace { a += ["--rlimit-as", String(v)] }
        if let v = l.openFiles { a += ["--rlimit-nofile", String(v)] }
        if let v = l.processes { a += ["--rlimit-nproc", String(v)] }
        if let v = l.cpuSeconds { a += ["--rlimit-cpu", String(v)] }
        if let v = l.fileSize { a += ["--rlimit-fsize", String(v)] }
        if let v = tmpfsSize { a += ["--tmpfs-size", String(v)] }
        if allowDegrade { a.append("--allow-degrade") }
        if let timeout { a += ["--timeout", String(timeout), "--kill-grace", String(killGrace)] }
        switch seccomp {
        case .default: a += ["--seccomp", "default"]
        case .none: a += ["--seccomp", "none"]
        case let .file(p): a += ["--seccomp", p]
        }
        if let faults { a += faults.launcherArguments() }
        a.append("--")
        a += command
        return a
    }
}
