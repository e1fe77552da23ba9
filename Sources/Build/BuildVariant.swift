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
    /// Recreate every staged directory under /build so that it lists in reverse name
    /// order (see `reverseDirectoryOrder`).
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
        // A new uid or HOME: /etc/passwd and /etc/group follow.
        let newUID = spec.uid != 0 ? (uid ?? spec.uid) : 0
        if newUID != spec.uid || environment.contains(where: { $0.key == "HOME" }) {
            spec.uid = newUID; spec.gid = newUID
            let home = env.first { $0.key == "HOME" }?.value ?? "/build"
            let etc = SandboxView.etcFiles(uid: newUID, gid: newUID, home: home)
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

    /// Recreates every directory under `root` (root included) so that readdir lists its
    /// entries in reverse name order, unlike the hash order of ext4 or xfs and unlike
    /// the sorted order of most archives: the entries are renamed into a new directory
    /// in that order, which is the listing on filesystems that list in creation order,
    /// and if the listing is not that, once more in the opposite order, for those that
    /// list newest first (tmpfs on recent kernels). Hash-ordered filesystems keep
    /// their order, which is why `file-order` also moves the build onto tmpfs.
    /// - Throws: `ReproError(.system)` naming the call that failed.
    public static func reverseDirectoryOrder(_ root: String) throws {
        let names = try readdirOrder(root)
        for n in names {
            var st = stat()
            if lstat(root + "/" + n, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { try reverseDirectoryOrder(root + "/" + n) }
        }
        guard names.count > 1 else { return }
        let target = names.sorted { a, b in b.utf8.lexicographicallyPrecedes(a.utf8) }
        if names == target { return }
        try recreate(root, renaming: target)
        if try readdirOrder(root) != target { try recreate(root, renaming: target.reversed()) }
    }

    /// Moves the entries of `dir` into a fresh directory in the given order and puts
    /// that directory in its place (same mode).
    private static func recreate(_ dir: String, renaming order: [String]) throws {
        let fresh = dir + ".reorder-\(getpid())"
        var st = stat()
        try Syscall.check("stat \(dir)") { stat(dir, &st) }
        try Syscall.check("mkdir \(fresh)") { mkdir(fresh, 0o700) }
        try Syscall.check("chmod \(fresh)") { chmod(fresh, st.st_mode & 0o7777) }
        for n in order {
            try Syscall.check("rename \(dir)/\(n)") { rename(dir + "/" + n, fresh + "/" + n) }
        }
        try Syscall.check("rmdir \(dir)") { rmdir(dir) }
        try Syscall.check("rename \(fresh)") { rename(fresh, dir) }
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

