import Foundation

/// The fixed view every sandbox gets (DESIGN.md, "Inside the sandbox"): synthesized
/// /etc files, a fresh /proc, a minimal /dev, tmpfs /tmp, and the environment, so
/// that no host name, user or path leaks into what runs inside.
public enum SandboxView {
    public static let builderName = "builder"

    /// /etc/passwd, /etc/group and /etc/hosts for a sandbox whose user is `uid`/`gid`.
    public static func etcFiles(uid: UInt32, gid: UInt32, home: String) -> [SandboxSpec.Mount] {
        var passwd = "root:x:0:0:root:/root:/bin/sh\n"
        var group = "root:x:0:\n"
        if uid != 0 { passwd += "\(builderName):x:\(uid):\(gid):repro builder:\(home):/bin/sh\n" }
        if gid != 0 { group += "\(builderName):x:\(gid):\n" }
        passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        group += "nogroup:x:65534:\n"
        let hosts = "127.0.0.1\tlocalhost repro\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        return [
            .file(at: "/etc/passwd", contents: passwd),
            .file(at: "/etc/group", contents: group),
            .file(at: "/etc/hosts", contents: hosts),
        ]
    }

    /// /proc, /dev and /tmp.
    public static let system: [SandboxSpec.Mount] = [.proc("/proc"), .dev("/dev"), .tmpfs("/tmp")]

    /// The base environment: PATH, HOME, LANG=C.UTF-8, TZ=UTC, REPRO_JOBS.
    public static func environment(home: String, jobs: Int) -> [(key: String, value: String)] {
        [("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"), ("HOME", home), ("LANG", "C.UTF-8"),
         ("TZ", "UTC"), ("REPRO_JOBS", String(jobs))]
    }
}

/// The host's own toolchain, read-only: /usr with the merged-usr links, and the few
/// /etc files the dynamic loader and compilers read. Not pinned; `repro build` uses
/// pinned Debian roots instead (DESIGN.md).
public enum HostToolchain {
    /// Top-level entries that merged-usr systems make links into /usr.
    static let usrLinks = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]
    static let etcFiles = ["/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"]

    /// Plain libc, no FileManager: `repro run` calls this on every start.
    public static func mounts(hostRoot: String = "/") -> [SandboxSpec.Mount] {
        var m: [SandboxSpec.Mount] = [.readOnly(host: hostRoot + "usr", inside: "/usr")]
        for name in usrLinks {
            let path = hostRoot + name
            if let target = readLink(path) {
                m.append(.symlink(target: target, at: "/" + name))
            } else if access(path, F_OK) == 0 {
                m.append(.readOnly(host: path, inside: "/" + name))
            }
        }
        for f in etcFiles { m.append(.readOnly(host: f, inside: f, optional: true)) }
        return m
    }
}

/// readlink(2): the target of the symbolic link at `path`, nil when it is not one.
func readLink(_ path: String) -> String? {
    var buf = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = buf.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1) }
    guard n >= 0 else { return nil }
    return String(decoding: buf[..<n], as: UTF8.self)
}
