import Core
import Foundation

/// A toolchain root assembled from pinned, already verified .deb files and cached by
/// digest under `CACHE/roots/<id>`, where id = sha256 of the sorted
/// `name version arch sha256` lines (plus the layout version). Assembly happens in a
/// temporary directory next to it and ends with one `rename`, under a lock file, so a
/// concurrent or interrupted assembly never leaves a half root; later calls reuse the
/// finished root, which nothing writes to again.
public enum ToolchainRoot {
    /// One input: a pinned package and its verified local file.
    public struct Input: Sendable {
        public var pin: DebPin
        public var path: String
        public init(pin: DebPin, path: String) {
            self.pin = pin
            self.path = path
        }
    }

    /// Bumped when the assembly below changes what a root contains.
    public static let layoutVersion = "repro-root-1"

    /// The root's id (64 hex digits) for this set of packages, order-insensitive.
    public static func id(of pins: [DebPin]) -> String {
        let lines = pins.map { "\($0.name) \($0.version) \($0.architecture) \($0.sha256)\n" }.sorted()
        return Digest.of(layoutVersion + "\n" + lines.joined()).hex
    }

    /// The finished root for `inputs` in `cacheDir/roots/<id>`, assembling it first when
    /// it is not there yet.
    /// - Returns: the root's absolute path.
    /// - Throws: `ReproError(.invalidInput)` for a malformed or unsafe package, `.system`
    ///   for I/O errors. The cache is left without a root for `id` in that case.
    public static func assemble(_ inputs: [Input], cacheDir: String, progress: Bool = false) throws -> String {
        let id = id(of: inputs.map(\.pin))
        let rootsDir = cacheDir + "/roots"
        let final = rootsDir + "/" + id
        try FileManager.default.createDirectory(atPath: rootsDir, withIntermediateDirectories: true)
        if isDirectory(final) { return final }

        let lockPath = rootsDir + "/" + id + ".lock"
        let lock = try Syscall.check("open \(lockPath)") { open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        defer { close(lock) }
        try Syscall.check("flock \(lockPath)") { flock(lock, LOCK_EX) }
        if isDirectory(final) { return final }
        removeAbandoned(in: rootsDir)

        let tmp = rootsDir + "/.tmp-\(getpid())-\(id.prefix(16))-\(UUID().uuidString.prefix(8))"
        do {
            try build(inputs, into: tmp, progress: progress)
            try Syscall.check("rename \(tmp) \(final)") { rename(tmp, final) }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            if isDirectory(final) { return final }
            throw error
        }
        return final
    }

    /// Extracts every package into `dir`, then adds merged-usr links and /etc files.
    static func build(_ inputs: [Input], into dir: String, progress: Bool) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for input in inputs.sorted(by: { $0.pin < $1.pin }) {
            if progress { FileHandle.standardError.write(Data("extract \(input.pin.description)\n".utf8)) }
            try Extract.deb(input.path, into: dir, options: .debianRoot)
        }
        try finishLayout(dir)
    }

    /// Merged-usr links, mount points, and the few /etc files compilers, make and python
    /// expect that Debian creates in maintainer scripts (never run here).
    static func finishLayout(_ root: String) throws {
        let tree = try SafeTree(root: root, implicitMtime: 0)
        tree.context = "toolchain root \(root)"
        let zero = timespec(tv_sec: 0, tv_nsec: 0)
        for d in ["usr/bin", "usr/sbin", "usr/lib"] where !tree.exists(d.split(separator: "/").map(String.init)) {
            try tree.directory(d.split(separator: "/").map(String.init), mode: 0o755, mtime: zero)
        }
        // /bin -> usr/bin etc. (packages' files under /bin, /lib were moved at extraction).
        for top in Extract.mergedTop.sorted() where tree.exists(["usr", top]) && !tree.exists([top]) {
            try tree.symlink([top], target: "usr/" + top, mtime: zero)
        }
        // Mount points: the sandbox mounts over these on a read-only root.
        for (d, mode) in [("dev", 0o755), ("proc", 0o555), ("sys", 0o555), ("tmp", 0o1777), ("run", 0o755),
                          ("build", 0o755), ("out", 0o755), ("home", 0o755), ("root", 0o700), ("etc", 0o755)]
        where !tree.exists([d]) {
            try tree.directory([d], mode: mode_t(mode), mtime: zero)
        }
        // The dynamic loader searches /lib/<triplet> and /usr/lib/<triplet> without a
        // cache (Debian's glibc has them as system directories), so no ld.so.cache.
        try addFile(tree, ["etc", "ld.so.conf"], "include /etc/ld.so.conf.d/*.conf\n")
        let nsswitch = FileManager.default.contents(atPath: root + "/usr/share/libc-bin/nsswitch.conf")
            .map { String(decoding: $0, as: UTF8.self) } ?? "passwd: files\ngroup: files\nshadow: files\nhosts: files\n"
        try addFile(tree, ["etc", "nsswitch.conf"], nsswitch)
        // Links that Debian's postinst scripts make with update-alternatives or debconf.
        let links: [(link: String, candidates: [String])] = [
            ("usr/bin/sh", ["dash", "bash"]),
            ("usr/bin/awk", ["mawk", "gawk", "original-awk"]),
            ("usr/bin/cc", ["gcc"]),
            ("usr/bin/c++", ["g++"]),
            ("usr/bin/c89", ["c89-gcc"]),
            ("usr/bin/c99", ["c99-gcc"]),
            ("usr/bin/yacc", ["bison.yacc", "byacc"]),
            ("usr/bin/lex", ["flex"]),
        ]
        for (link, candidates) in links {
            let path = link.split(separator: "/").map(String.init)
            guard !tree.exists(path), let c = candidates.first(where: { tree.exists(["usr", "bin", $0]) }) else { continue }
            try tree.symlink(path, target: c, mtime: zero)
        }
        try tree.finish()
    }

    private static func addFile(_ tree: SafeTree, _ path: [String], _ text: String) throws {
        guard !tree.exists(path) else { return }
        try tree.file(path, mode: 0o644, mtime: timespec(tv_sec: 0, tv_nsec: 0)) { fd in
            let bytes = Array(text.utf8)
            var off = 0
            while off < bytes.count {
                off += try Syscall.check("write \(path.joined(separator: "/"))") {
                    bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                }
            }
        }
    }

    /// Removes temporary roots left by processes that no longer exist (killed mid-way).
    private static func removeAbandoned(in rootsDir: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: rootsDir)) ?? [] where name.hasPrefix(".tmp-") {
            let parts = name.split(separator: "-")
            guard parts.count > 2, let pid = Int32(parts[1]) else { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: rootsDir + "/" + name)
            }
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
