import Faults

/// What happened in a sandbox, as the launcher reports it on its status fd.
public struct SandboxResult: Codable, Sendable, Equatable {
    /// A failure while setting the sandbox up, or while executing the command.
    public struct SetupError: Codable, Sendable, Equatable {
        /// What was being done, e.g. "bind /usr -> /usr" or "exec gcc".
        public var stage: String
        public var errno: Int32
        public var message: String
    }

    /// The command's exit code; 128+N for death by signal N; 124 on timeout; 70 when
    /// setup failed; 127/126 when the command was not found / could not be executed.
    public var exitCode: Int32
    public var signal: Int32?
    public var wallSeconds: Double
    public var userCPUSeconds: Double
    public var systemCPUSeconds: Double
    public var maxRSSKB: Int
    public var timedOut: Bool
    /// The memory limit was reached and the kernel killed a process.
    public var oomKilled: Bool
    /// A fork failed because the pids limit was reached.
    public var pidsLimitHit: Bool
    public var setupError: SetupError?
    /// Limits that were asked for but not enforced (only with allowDegrade).
    public var warnings: [String]
    /// The sandbox policy version; part of every action digest.
    public var policy: String
    /// What the fault supervisor injected (nil when no fault spec was given).
    public var faults: FaultReport?

    enum CodingKeys: String, CodingKey {
        case exitCode = "exit_code", signal, wallSeconds = "wall_seconds"
        case userCPUSeconds = "user_cpu_seconds", systemCPUSeconds = "system_cpu_seconds"
        case maxRSSKB = "max_rss_kb", timedOut = "timed_out", oomKilled = "oom_killed"
        case pidsLimitHit = "pids_limit_hit", setupError = "setup_error", warnings, policy, faults
    }

    /// Every key always present (null when absent), so scripts can rely on the shape.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(signal, forKey: .signal)
        try c.encode(wallSeconds, forKey: .wallSeconds)
        try c.encode(userCPUSeconds, forKey: .userCPUSeconds)
        try c.encode(systemCPUSeconds, forKey: .systemCPUSeconds)
        try c.encode(maxRSSKB, forKey: .maxRSSKB)
        try c.encode(timedOut, forKey: .timedOut)
        try c.encode(oomKilled, forKey: .oomKilled)
        try c.encode(pidsLimitHit, forKey: .pidsLimitHit)
        try c.encode(setupError, forKey: .setupError)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(policy, forKey: .policy)
        try c.encode(faults, forKey: .faults)
    }

    /// True when the command ran and exited 0.
    public var succeeded: Bool { exitCode == 0 && setupError == nil && !timedOut }

    /// One line for humans: why the command ended.
    public var summary: String {
        if let e = setupError { return "sandbox \(e.stage.hasPrefix("exec") ? "command" : "setup") failed at '\(e.stage)': \(e.message)" }
        if timedOut { return "timed out after \(String(format: "%.1f", wallSeconds))s" }
        if oomKilled { return "killed: memory limit reached" }
        if let s = signal { return "killed by signal \(s)" + (pidsLimitHit ? " after reaching the pids limit" : "") }
        return "exited with \(exitCode)" + (pidsLimitHit ? " after reaching the pids limit (a fork failed)" : "")
    }
}
