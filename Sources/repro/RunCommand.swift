import ArgumentParser
import Core
import Faults
import Foundation
import Sandbox

/// `repro run`: one command in the sandbox over the host's toolchain, read-only.
///
/// ArgumentParser describes the options (help, completion, errors); `RunOptions` holds
/// them and does the work, so that the hot path (`RunOptions.parseFast`) can fill them
/// from argv without building the command tree.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in the sandbox over the host's read-only toolchain.",
        discussion: """
        The sandbox sees the host's /usr (with the merged-usr links, /etc/alternatives and the loader cache) read-only, a fresh /proc, a minimal /dev, tmpfs /tmp, and a writable /build (tmpfs unless you bind a host directory there), which is also HOME and the working directory. Network: loopback only. Every capability is dropped and the default seccomp policy applies (repro-sandbox --print-policy).

        The exit status is the command's; 128+N when a signal N ended it; 124 when the timeout did; 70 when the sandbox could not be set up (the stage is named).

        Examples:
          repro run -- gcc --version
          repro run --bind "$PWD:/build" -- make -j2
          repro run --memory 1g --pids 256 --timeout 600 --json -- ./configure
          repro run --fault 'write:EIO@10%,path=/build;seed=7' --json -- ./writer

        --fault injects seeded faults (docs/faults.md): syscall families fail or wait at a share of their calls (the same seed gives the same faults at the same calls), /tmp or /build get a small disk, memory and CPU are cut, the monotonic clock jumps. A spec the host cannot honour is an error, never a run without faults.
        """
    )

    @Option(name: .customLong("bind"), help: ArgumentHelp("Bind a host path writable: HOST:INSIDE.", valueName: "HOST:INSIDE"))
    var binds: [String] = []

    @Option(name: .customLong("ro-bind"), help: ArgumentHelp("Bind a host path read-only: HOST:INSIDE.", valueName: "HOST:INSIDE"))
    var roBinds: [String] = []

    @Option(help: "Working directory inside the sandbox.")
    var workdir: String = "/build"

    @Option(name: .customLong("env"), help: ArgumentHelp("Set an environment variable (the environment starts clean).", valueName: "KEY=VALUE"))
    var env: [String] = []

    @Option(help: "User id inside (1000 by default; 0 allowed).")
    var uid: UInt32 = 1000

    @Option(help: "Group id inside.")
    var gid: UInt32 = 1000

    @Option(help: ArgumentHelp("cgroup memory limit, e.g. 512m, 2g.", valueName: "SIZE"))
    var memory: String?

    @Option(help: "cgroup limit on the number of processes (stops fork bombs).")
    var pids: Int?

    @Option(help: "cgroup CPU quota in CPUs, e.g. 1.5.")
    var cpus: Double?

    @Option(name: .customLong("address-space"), help: ArgumentHelp("RLIMIT_AS, e.g. 4g.", valueName: "SIZE"))
    var addressSpace: String?

    @Option(help: "RLIMIT_NOFILE: open files.")
    var nofile: Int?

    @Option(name: .customLong("file-size"), help: ArgumentHelp("RLIMIT_FSIZE: largest file written.", valueName: "SIZE"))
    var fileSize: String?

    @Option(name: .customLong("tmpfs-size"), help: ArgumentHelp("Size of each tmpfs (/tmp, /dev/shm, /build unless bound), e.g. 512m; default an eighth of the host's RAM.", valueName: "SIZE"))
    var tmpfsSize: String?

    @Option(name: .customLong("cpu-time"), help: ArgumentHelp("RLIMIT_CPU in seconds.", valueName: "SECONDS"))
    var cpuTime: Int?

    @Option(help: ArgumentHelp("Wall-clock limit; SIGTERM, then SIGKILL after --kill-grace.", valueName: "SECONDS"))
    var timeout: Double?

    @Option(name: .customLong("kill-grace"), help: ArgumentHelp("Seconds between SIGTERM and SIGKILL.", valueName: "SECONDS"))
    var killGrace: Double = 2

    @Option(help: ArgumentHelp("default, none, or a policy file (lines \"SYSCALL ERRNO\", \"@default\").", valueName: "POLICY"))
    var seccomp: String = "default"

    @Flag(name: .customLong("allow-degrade"), help: "Warn instead of failing when a cgroup limit cannot be enforced.")
    var allowDegrade = false

    @Option(help: ArgumentHelp("Inject faults, e.g. 'write:EIO@10%,path=/build;seed=7' (docs/faults.md).", valueName: "SPEC"))
    var fault: String?

    @Flag(help: "Print the sandbox status object (exit code, signal, times, max RSS, limits hit) on stdout at the end.")
    var json = false

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after '--'.")
    var command: [String] = []

    func validate() throws { try options.validate() }

    func run() throws { try options.run() }

    var options: RunOptions {
        RunOptions(binds: binds, roBinds: roBinds, workdir: workdir, env: env, uid: uid, gid: gid,
                   memory: memory, pids: pids, cpus: cpus, addressSpace: addressSpace, nofile: nofile,
                   fileSize: fileSize, tmpfsSize: tmpfsSize, cpuTime: cpuTime, timeout: timeout, killGrace: killGrace,
                   seccomp: seccomp, allowDegrade: allowDegrade, fault: fault, json: json, command: command)
    }
}

/// The options of `repro run` (defaults as in `RunCommand`) and what it does with them.
struct RunOptions {
    var binds: [String] = []
    var roBinds: [String] = []
    var workdir = "/build"
    var env: [String] = []
    var uid: UInt32 = 1000
    var gid: UInt32 = 1000
    var memory: String?
    var pids: Int?
    var cpus: Double?
    var addressSpace: String?
    var nofile: Int?
    var fileSize: String?
    var tmpfsSize: String?
    var cpuTime: Int?
    var timeout: Double?
    var killGrace: Double = 2
    var seccomp = "default"
    var allowDegrade = false
    var fault: String?
    var json = false
    var command: [String] = []

    /// `repro run ...` with valid options, parsed by hand: ArgumentParser builds its whole
    /// command tree by reflection, which is most of repro's start-up, and `repro run` is
    /// on the path of every sandboxed command. Kept because it saves far more than the
    /// 0.3 ms that would justify it (issue 12): on the static build of scripts/setup,
    /// `bench/launch.sh` (both ways in one interleaved run, 2 CPUs under a load of ~17)
    /// gave `repro run -- true` 18.8 vs 35.7 ms median with REPRO_NO_FAST_PARSE=1 (300
    /// rounds) and 21.3 vs 34.6 ms (200 rounds); `perf stat -e task-clock` CPU time
    /// 4.7-5.0 vs 8.1-8.7 ms. Accepts exactly what `RunCommand` accepts:
    /// `--name value` and `--name=value`, arrays by repetition, flags without values,
    /// then `--` and the command. Anything else (help, an unknown or repeated option, a
    /// value that starts with '-' or is empty or not a number, a failed validation) gives
    /// nil, and ArgumentParser parses the line again to answer or report it.
    /// REPRO_NO_FAST_PARSE=1 gives nil always (tests compare the two parsers).
    static func parseFast(_ arguments: [String]) -> RunOptions? {
        guard arguments.count > 1, arguments[1] == "run", getenv("REPRO_NO_FAST_PARSE") == nil else { return nil }
        var o = RunOptions()
        var seen: [Substring] = []
        var i = 2
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if arg == "--" {
                o.command = Array(arguments[i...])
                return (try? o.validate()) == nil ? nil : o
            }
            guard arg.hasPrefix("--") else { return nil }
            var name = arg.dropFirst(2), attached: Substring?
            if let eq = name.firstIndex(of: "=") {
                attached = name[name.index(after: eq)...]
                name = name[..<eq]
            }
            let repeatable = name == "bind" || name == "ro-bind" || name == "env"
            if !repeatable {
                if seen.contains(name) { return nil }
                seen.append(name)
            }
            if name == "json" || name == "allow-degrade" {
                if attached != nil { return nil }
                if name == "json" { o.json = true } else { o.allowDegrade = true }
                continue
            }
            let value: String
            if let attached { value = String(attached) } else {
                guard i < arguments.count else { return nil }
                value = arguments[i]
                i += 1
            }
            if value.isEmpty || value.hasPrefix("-") { return nil }
            switch name {
            case "bind": o.binds.append(value)
            case "ro-bind": o.roBinds.append(value)
            case "env": o.env.append(value)
            case "workdir": o.workdir = value
            case "uid": guard let v = UInt32(value) else { return nil }; o.uid = v
            case "gid": guard let v = UInt32(value) else { return nil }; o.gid = v
            case "memory": o.memory = value
            case "pids": guard let v = Int(value) else { return nil }; o.pids = v
            case "cpus": guard let v = Double(value) else { return nil }; o.cpus = v
            case "address-space": o.addressSpace = value
            case "nofile": guard let v = Int(value) else { return nil }; o.nofile = v
            case "file-size": o.fileSize = value
            case "tmpfs-size": o.tmpfsSize = value
            case "cpu-time": guard let v = Int(value) else { return nil }; o.cpuTime = v
            case "timeout": guard let v = Double(value) else { return nil }; o.timeout = v
            case "kill-grace": guard let v = Double(value) else { return nil }; o.killGrace = v
            case "seccomp": o.seccomp = value
            case "fault": o.fault = value
            default: return nil
            }
        }
        return nil
    }

    func validate() throws {
        if command.isEmpty { throw ValidationError("no command given: put it after '--', e.g. repro run -- gcc --version") }
        for e in env where !e.contains("=") || e.hasPrefix("=") {
            throw ValidationError("--env \(e): expected KEY=VALUE")
        }
        for b in binds + roBinds { _ = try splitBind(b) }
        if !workdir.hasPrefix("/") { throw ValidationError("--workdir \(workdir): must be an absolute path inside the sandbox") }
        // Out-of-range values are bad input here, not a launcher failure (exit 70).
        if let p = pids, p < 1 || p > 4_194_304 {
            throw ValidationError("--pids \(p): must be 1 to 4194304 (Linux's largest pid count)")
        }
        if let c = cpus, !(c >= 0.01 && c <= 4096) {
            throw ValidationError("--cpus \(c): must be 0.01 (1 ms per 100 ms, the kernel's smallest quota) to 4096")
        }
        for (name, id) in [("--uid", uid), ("--gid", gid)] where id == UInt32.max {
            throw ValidationError("\(name) \(id): the id 4294967295 means \"no id\" to the kernel and cannot be used; pick 0 to 4294967294 (usually 1000 or 0)")
        }
        if let n = nofile, n < 1 { throw ValidationError("--nofile \(n): must be at least 1") }
        if let t = cpuTime, t < 1 { throw ValidationError("--cpu-time \(t): must be at least 1 second") }
        if let t = timeout, !(t > 0 && t.isFinite) { throw ValidationError("--timeout \(t): must be a number of seconds above 0") }
        for (option, value) in [("--memory", memory), ("--address-space", addressSpace), ("--file-size", fileSize), ("--tmpfs-size", tmpfsSize)] {
            if let value, try parseSize(value, option: option) < 1 {
                throw ValidationError("\(option) \(value): must be above 0")
            }
        }
        _ = try faultSpec()
    }

    /// The parsed --fault spec; a bad one is a usage error naming the column.
    func faultSpec() throws -> FaultSpec? {
        guard let fault else { return nil }
        do { return try FaultSpec.parse(fault) } catch { throw ValidationError("--fault: \(error)") }
    }

    func splitBind(_ b: String) throws -> (host: String, inside: String) {
        guard let i = b.lastIndex(of: ":"), i != b.startIndex, b.index(after: i) != b.endIndex else {
            throw ValidationError("--bind/--ro-bind '\(b)': expected HOST:INSIDE, e.g. $PWD:/build")
        }
        let host = String(b[..<i]), inside = String(b[b.index(after: i)...])
        guard inside.hasPrefix("/") else { throw ValidationError("'\(b)': the inside path must be absolute") }
        let parts = inside.split(separator: "/").filter { $0 != "." }
        if parts.isEmpty { throw ValidationError("'\(b)': cannot bind onto / (the sandbox's root); bind onto a directory below it, e.g. HOST:/src") }
        if parts.contains("..") { throw ValidationError("'\(b)': the inside path may not contain '..'") }
        if parts[0] == "proc" || parts[0] == "dev" {
            throw ValidationError("'\(b)': /\(parts[0]) is the sandbox's own \(parts[0] == "proc" ? "procfs" : "device directory"); bind elsewhere, e.g. HOST:/src")
        }
        let abs = host.hasPrefix("/") ? host : FileManager.default.currentDirectoryPath + "/" + host
        return (abs, inside)
    }

    func spec() throws -> SandboxSpec {
        let env = self.env.map { e in
            let i = e.firstIndex(of: "=")!
            return (key: String(e[..<i]), value: String(e[e.index(after: i)...]))
        }
        var s = SandboxSpec.hostRun(command, binds: try binds.map(splitBind), roBinds: try roBinds.map(splitBind),
                                    env: env, uid: uid, gid: gid, workdir: workdir)
        s.limits = .init(memory: try memory.map { try parseSize($0, option: "--memory") }, pids: pids, cpus: cpus,
                         addressSpace: try addressSpace.map { try parseSize($0, option: "--address-space") },
                         openFiles: nofile, cpuSeconds: cpuTime,
                         fileSize: try fileSize.map { try parseSize($0, option: "--file-size") })
        s.tmpfsSize = try tmpfsSize.map { try parseSize($0, option: "--tmpfs-size") } ?? SandboxDefaults.tmpfsSize
        s.allowDegrade = allowDegrade
        s.faults = try faultSpec()
        s.timeout = timeout
        s.killGrace = killGrace
        switch seccomp {
        case "default": s.seccomp = .default
        case "none": s.seccomp = .none
        default: s.seccomp = .file(seccomp)
        }
        return s
    }

    func run() throws {
        var completed: SandboxRunner.Completed?
        do {
            let runner = try SandboxRunner()
            // Without --json nothing is left for repro to do: the launcher takes over
            // the process and its exit status is the command's.
            if !json { try runner.exec(try spec()) }
            // Ctrl-C reaches the sandbox through the launcher; repro waits for its report.
            signal(SIGINT, SIG_IGN)
            completed = try runner.run(try spec())
        }
        guard let c = completed else { return }
        if json { try printJSON(c.result) }
        if c.result.exitCode != 0 { throw ExitCode(c.result.exitCode) }
    }
}
