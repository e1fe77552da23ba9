import CSeccomp
import Core
import Faults
import Foundation

/// One finding of `repro doctor`.
public struct HostCheck: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case ok, degraded, failed, info }
    public var name: String
    public var status: Status
    public var detail: String
    /// What to do about it, for degraded and failed checks.
    public var fix: String?

    public init(name: String, status: Status, detail: String, fix: String? = nil) {
        self.name = name; self.status = status; self.detail = detail; self.fix = fix
    }
}

/// Checks this host by asking the kernel and by running the real launcher: a check
/// passes only when a sandbox actually got what the check names.
public struct HostDoctor: Sendable {
    let runner: SandboxRunner?
    let runnerError: String?

    public init() {
        do { runner = try SandboxRunner(); runnerError = nil } catch { runner = nil; runnerError = "\(error)" }
    }

    public init(runner: SandboxRunner) { self.runner = runner; runnerError = nil }

    public func run() -> [HostCheck] {
        var checks = [kernel(), launcher()]
        checks += userNamespaces()
        checks.append(sandboxSmoke())
        checks.append(seccomp())
        checks.append(faultInjection())
        checks += cgroups()
        checks.append(overlay())
        return checks
    }

    // MARK: checks

    func kernel() -> HostCheck {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        let (major, minor) = (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
        let v = major * 1000 + minor
        if v < 5003 {
            return HostCheck(name: "kernel", status: .failed, detail: "Linux \(release): clone3 and pidfds need 5.3",
                             fix: "use a host with Linux 5.3 or newer")
        }
        let note = v < 5012 ? " (before 5.12: read-only binds apply to the top mount only)" : ""
        return HostCheck(name: "kernel", status: v < 5012 ? .degraded : .ok, detail: "Linux \(release)\(note)",
                         fix: v < 5012 ? "a kernel with mount_setattr (5.12+) makes nested mounts read-only too" : nil)
    }

    func launcher() -> HostCheck {
        guard let runner else {
            return HostCheck(name: "launcher", status: .failed, detail: runnerError ?? "not found", fix: "run 'swift build' or set REPRO_SANDBOX")
        }
        return HostCheck(name: "launcher", status: .ok, detail: runner.launcher)
    }

    func userNamespaces() -> [HostCheck] {
        var out: [HostCheck] = []
        let root = geteuid() == 0
        let maxNS = Self.readInt("/proc/sys/user/max_user_namespaces")
        if maxNS == 0 {
            out.append(HostCheck(name: "user namespaces", status: .failed, detail: "user.max_user_namespaces is 0",
                                 fix: "sysctl -w user.max_user_namespaces=15000"))
        }
        if let v = Self.readInt("/proc/sys/kernel/unprivileged_userns_clone"), v == 0, !root {
            out.append(HostCheck(name: "user namespaces", status: .failed, detail: "kernel.unprivileged_userns_clone is 0 (Debian's switch)",
                                 fix: "sysctl -w kernel.unprivileged_userns_clone=1, or run as root"))
        }
        if let v = Self.readInt("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"), v == 1, !root {
            out.append(HostCheck(
                name: "user namespaces", status: .failed,
                detail: "AppArmor restricts unprivileged user namespaces (Ubuntu 23.10+)",
                fix: "allow repro-sandbox with an AppArmor profile: 'abi <abi/4.0>, include <tunables/global> profile repro-sandbox /path/to/repro-sandbox flags=(unconfined) { userns, }' in /etc/apparmor.d/repro-sandbox then 'apparmor_parser -r /etc/apparmor.d/repro-sandbox'; or, system-wide, sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"))
        }
        if out.isEmpty {
            out.append(HostCheck(name: "user namespaces", status: .ok,
                                 detail: "available\(maxNS.map { " (max \($0))" } ?? "")\(root ? ", running as root" : "")"))
        }
        return out
    }

    func sandboxSmoke() -> HostCheck {
        guard let runner else { return HostCheck(name: "sandbox", status: .failed, detail: "no launcher", fix: nil) }
        var spec = SandboxSpec(command: ["/bin/sh", "-c", "test \"$(hostname)\" = repro && test -w /build && ! test -w /usr"],
                               mounts: HostToolchain.mounts() + SandboxView.system + [.tmpfs("/build")])
        spec.environment = [("PATH", "/usr/bin:/bin")]
        do {
            let c = try runner.run(spec, output: .capture)
            if let e = c.result.setupError {
                return HostCheck(name: "sandbox", status: .failed, detail: "setup failed at '\(e.stage)': \(e.message)",
                                 fix: "see the user namespace lines above; a container runtime may need --privileged or a seccomp profile that allows unshare/mount")
            }
            if c.result.exitCode != 0 {
                return HostCheck(name: "sandbox", status: .failed, detail: "the sandbox view is wrong (exit \(c.result.exitCode)): \(c.stderrText)", fix: "report this as a bug")
            }
            return HostCheck(name: "sandbox", status: .ok,
                             detail: "user, mount, pid, net, uts, ipc, cgroup namespaces; read-only root; started in \(Int(c.result.wallSeconds * 1000)) ms")
        } catch {
            return HostCheck(name: "sandbox", status: .failed, detail: "\(error)", fix: nil)
        }
    }

    func seccomp() -> HostCheck {
        let v = seccomp_version()!.pointee
        let lib = "libseccomp \(v.major).\(v.minor).\(v.micro)"
        guard let runner else { return HostCheck(name: "seccomp", status: .failed, detail: lib, fix: nil) }
        var spec = SandboxSpec(command: ["/bin/sh", "-c", "grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status"],
                               mounts: HostToolchain.mounts() + SandboxView.system)
        spec.environment = [("PATH", "/usr/bin:/bin")]
        guard let c = try? runner.run(spec, output: .capture), c.result.exitCode == 0 else {
            return HostCheck(name: "seccomp", status: .failed, detail: "\(lib); could not run a sandbox to check", fix: nil)
        }
        let text = c.stdoutText
        let filtered = text.contains("Seccomp:\t2"), nnp = text.contains("NoNewPrivs:\t1"), noCaps = text.contains("CapEff:\t0000000000000000")
        if filtered && nnp && noCaps {
            return HostCheck(name: "seccomp", status: .ok, detail: "\(lib); filter mode, no_new_privs, no capabilities inside")
        }
        return HostCheck(name: "seccomp", status: .failed, detail: "\(lib); inside: \(text.replacingOccurrences(of: "\n", with: " "))",
                         fix: "a kernel with CONFIG_SECCOMP_FILTER is required")
    }

    /// Fault injection (`--fault`) needs seccomp user notification with CONTINUE (Linux
    /// 5.5): a sandbox writes into /build under `write:EIO@100%` and must see EIO.
    func faultInjection() -> HostCheck {
        guard let runner else { return HostCheck(name: "fault injection", status: .failed, detail: "no launcher", fix: nil) }
        var spec = SandboxSpec(command: ["/bin/sh", "-c", "echo x > /build/f"],
                               mounts: HostToolchain.mounts() + SandboxView.system + [.tmpfs("/build")])
        spec.environment = [("PATH", "/usr/bin:/bin")]
        spec.faults = try? FaultSpec.parse("write:EIO,path=/build")
        do {
            let c = try runner.run(spec, output: .capture)
            if let f = c.result.faults, c.result.exitCode != 0, f.injected["write:EIO", default: 0] >= 1 {
                return HostCheck(name: "fault injection", status: .ok, detail: "seccomp user notification with CONTINUE: --fault works")
            }
            let why = c.stderrText.split(separator: "\n").first.map(String.init) ?? c.result.summary
            return HostCheck(name: "fault injection", status: .degraded, detail: "--fault is unavailable: \(why)",
                             fix: "a kernel with seccomp user notification and FLAG_CONTINUE (Linux 5.5+); builds and tests without --fault are unaffected")
        } catch {
            return HostCheck(name: "fault injection", status: .degraded, detail: "--fault is unavailable: \(error)",
                             fix: "a kernel with seccomp user notification and FLAG_CONTINUE (Linux 5.5+)")
        }
    }

    func cgroups() -> [HostCheck] {
        let fs = FileManager.default
        let v2Only = fs.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        let kind = v2Only ? "cgroup v2" : (fs.fileExists(atPath: "/sys/fs/cgroup/unified") ? "cgroup v1 (hybrid, with an empty v2 tree)" : "cgroup v1")
        var out = [HostCheck(name: "cgroups", status: .info, detail: kind)]
        guard let runner else { return out }
        var spec = SandboxSpec(command: ["/bin/true"], mounts: HostToolchain.mounts())
        spec.limits = .init(memory: 1 << 30, pids: 1024, cpus: 1)
        spec.allowDegrade = true
        guard let c = try? runner.run(spec, output: .capture) else { return out }
        for (name, key) in [("memory limit", "memory"), ("pids limit", "pids"), ("cpu limit", "cpu")] {
            if let w = c.result.warnings.first(where: { $0.hasPrefix(key + " ") }) {
                out.append(HostCheck(name: name, status: .degraded, detail: w,
                                     fix: "run repro inside a delegated cgroup (systemd-run --user --scope -p Delegate=yes repro ...) or as root; --allow-degrade runs without the limit"))
            } else {
                out.append(HostCheck(name: name, status: .ok, detail: "enforced through \(v2Only ? "cgroup v2" : "cgroup v1")"))
            }
        }
        return out
    }

    func overlay() -> HostCheck {
        let fsList = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? ""
        if fsList.contains("overlay") {
            return HostCheck(name: "overlayfs", status: .ok, detail: "available (not needed by this version)")
        }
        return HostCheck(name: "overlayfs", status: .info, detail: "not loaded (not needed by this version)", fix: "modprobe overlay")
    }

    static func readInt(_ path: String) -> Int? {
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int(s.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
