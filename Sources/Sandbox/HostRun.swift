import Foundation

extension SandboxSpec {
    /// The sandbox of `repro run`: the host's toolchain read-only, the fixed view, a
    /// writable /build (tmpfs unless `binds` or `roBinds` put a host folder there) that
    /// is also HOME and the default working directory, and the base environment with
    /// `env` added (an entry replaces one of the same key). Limits, timeout and seccomp
    /// policy are the defaults; the caller sets them on the result.
    public static func hostRun(_ command: [String], binds: [(host: String, inside: String)] = [],
                               roBinds: [(host: String, inside: String)] = [], env: [(key: String, value: String)] = [],
                               uid: UInt32 = 1000, gid: UInt32 = 1000, workdir: String = "/build",
                               jobs: Int = HostCPUs.active()) -> SandboxSpec {
        var mounts = HostToolchain.mounts()
        mounts += SandboxView.etcFiles(uid: uid, gid: gid, home: "/build")
        mounts += SandboxView.system
        if !(binds + roBinds).contains(where: { $0.inside == "/build" }) { mounts.append(.tmpfs("/build")) }
        mounts += binds.map { .readWrite(host: $0.host, inside: $0.inside) }
        mounts += roBinds.map { .readOnly(host: $0.host, inside: $0.inside) }

        var environment = SandboxView.environment(home: "/build", jobs: jobs)
        for (key, value) in env {
            environment.removeAll { $0.key == key }
            environment.append((key, value))
        }
        var s = SandboxSpec(command: command, mounts: mounts, environment: environment)
        s.uid = uid; s.gid = gid
        s.workingDirectory = workdir
        return s
    }
}
