import Core
import Foundation
import Sandbox

/// The concrete settings of one varied build (`repro verify`): what differs from a
/// normal build's sandbox. An empty value changes nothing. A build with a variant is
/// never recorded: no action result, no build record, no provenance, so a varied
/// build cannot poison the action cache (docs/reproducibility.md).
public struct BuildVariant: Sendable, Equatable {
    /// Variation names applied (for reports and provenance), e.g. ["hostname", "umask"].
    public var names: [String] = []
    /// Host directory under which the build's temporary directory (/build and /out on
    /// the host) is created instead of `$REPRO_HOME/tmp`.
    public var tmpParent: String?
    /// Recreate every staged directory under /build with its entries in the reverse
    /// of their readdir order.
    public var reverseDirectoryOrder = false
    public var hostname: String?
    public var domainname: String?
    /// uid and gid inside (ignored for recipes that build as root).
    public var uid: UInt32?
    public var umask: UInt32?
    /// Set or replaced in the environment after the normal ones (LANG, TZ, HOME, ...).
    public var environment: [(key: String, value: String)] = []
    /// Appended to PATH.
    public var extraPath: String?
    public var cpuAffinity: String?
    public var timeOffset: Int64 = 0
    /// libfaketime on the host and its FAKETIME value: LD_PRELOADed inside.
    public var fakeTime: (library: String, spec: String)?
    public var personality: [String] = []

    public init() {}

    public static func == (a: BuildVariant, b: BuildVariant) -> Bool {
        a.names == b.names && a.tmpParent == b.tmpParent && a.reverseDirectoryOrder == b.reverseDirectoryOrder
            && a.hostname == b.hostname && a.domainname == b.domainname && a.uid == b.uid && a.umask == b.umask
            && a.environment.map { "\($0.key)=\($0.value)" } == b.environment.map { "\($0.key)=\($0.value)" }
            && a.extraPath == b.extraPath && a.cpuAffinity == b.cpuAffinity && a.timeOffset == b.timeOffset
            && a.fakeTime?.library == b.fakeTime?.library && a.fakeTime?.spec == b.fakeTime?.spec
            && a.personality == b.personality
    }

    /// Where libfaketime is bound inside the sandbox.
    public static let fakeTimeInside = "/.repro-variant/libfaketime.so.1"

    /// Applies the variant to a build's sandbox.
    public func apply(to spec: inout SandboxSpec) {
        if let hostname { spec.hostname = hostname }
        if let domainname { spec.domainname = domainname }
        if let umask { spec.umask = umask }
        var env = spec.environment
        func set(_ key: String, _ value: String) {
            if let i = env.firstIndex(where: { $0.key == key }) { env[i].value = value } else { env.append((key, value)) }
        }
        for (k, v) in environment { set(k, v) }
        if let extraPath, let i = env.firstIndex(where: { $0.key == "PATH" }) { env[i].value += ":" + extraPath }
        if let uid, spec.uid != 0 {
            spec.uid = uid; spec.gid = uid
            let home = env.first { $0.key == "HOME" }?.value ?? "/build"
            let etc = SandboxView.etcFiles(uid: uid, gid: uid, home: home)
            spec.mounts = spec.mounts.map { m in
                if case let .file(at, _) = m, let new = etc.first(where: { if case let .file(p, _) = $0 { p == at } else { false } }) {
                    return new
                }
                return m
            }
        }
        if let fakeTime {
            spec.mounts.append(.readOnly(host: fakeTime.library, inside: Self.fakeTimeInside))
            set("LD_PRELOAD", Self.fakeTimeInside)
            set("FAKETIME", fakeTime.spec)
            // The monotonic clocks are shifted by the time namespace instead.
            set("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        }
        spec.environment = env
        spec.timeOffset = timeOffset
        spec.cpuAffinity = cpuAffinity
        spec.personality = personality
    }

    /// Recreates every directory under `root` (root included) with its entries created
    /// in the reverse of the order readdir returned them, by renaming them into a new
    /// directory. Filesystems that list entries in creation order (tmpfs) then list them
    /// reversed; hash-ordered ones (ext4, xfs) keep their order, which is why
    /// `file-order` also moves the build onto another filesystem.
    /// - Throws: `ReproError(.system)` naming the call that failed.
    public static func reverseDirectoryOrder(_ root: String) throws {
        let names = try readdirOrder(root)
        for n in names {
            var st = stat()
            if lstat(root + "/" + n, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { try reverseDirectoryOrder(root + "/" + n) }
        }
        guard names.count > 1 else { return }
        let fresh = root + ".reorder-\(getpid())"
        var st = stat()
        try Syscall.check("stat \(root)") { stat(root, &st) }
        try Syscall.check("mkdir \(fresh)") { mkdir(fresh, st.st_mode & 0o7777) }
        for n in names.reversed() {
            try Syscall.check("rename \(root)/\(n)") { rename(root + "/" + n, fresh + "/" + n) }
        }
        try Syscall.check("rmdir \(root)") { rmdir(root) }
        try Syscall.check("rename \(fresh)") { rename(fresh, root) }
    }

    /// The names of a directory's entries in the order readdir(3) returns them.
    public static func readdirOrder(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw ReproError(.system, "opendir \(dir): \(Syscall.errorString(errno))") }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

