import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A work directory bounded while the build runs: a tmpfs of `bytes` mounted over it on
/// the host, so that a build that writes past its `output-size` (or `build-size`) gets
/// ENOSPC at once instead of filling the host's disk. tmpfs is RAM: the pages count
/// toward the build's memory limit (the sandbox's processes write them), and tmpfs
/// rounds every file up to whole 4 KiB pages, so many small files fill it before their
/// byte total reaches the limit (the exact byte total is checked again after the build).
/// Mounting needs root on the host; without it the limit is checked only after the
/// build, and only when degrading is allowed.
final class SizedDirectory {
    let path: String
    let bytes: Int64
    private var mounted = false

    /// Mounts the tmpfs over `path` (which must exist and be empty).
    /// - Throws: `ReproError(.unsupported)` naming the limit when the host refuses the
    ///   mount and `allowDegrade` is off; `nil` is returned when it is on.
    static func mount(_ path: String, bytes: Int64, limit: String, allowDegrade: Bool,
                      warn: (String) -> Void) throws -> SizedDirectory? {
        let d = SizedDirectory(path: path, bytes: bytes)
        let rc = Glibc.mount("tmpfs", path, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "size=\(bytes),mode=0755")
        if rc == 0 { d.mounted = true; return d }
        let why = "cannot bound \(limit) while the build runs: mounting a \(bytes)-byte tmpfs on \(path) failed (\(Syscall.errorString(errno)); it needs root on the host)"
        guard allowDegrade else {
            throw ReproError(.unsupported, "\(why); run repro as root, or pass --allow-degrade to check \(limit) only after the build")
        }
        warn("warning: \(why); checking \(limit) after the build only")
        return nil
    }

    private init(path: String, bytes: Int64) {
        self.path = path
        self.bytes = bytes
    }

    /// True when the tmpfs has (almost) no room left: the build ran into the limit.
    var isFull: Bool {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return false }
        return Int64(s.f_bavail) * Int64(s.f_frsize) < 64 * 1024
    }

    /// Unmounts (lazily, so that nothing left open can keep it busy). Idempotent.
    func unmount() {
        if mounted { umount2(path, Int32(MNT_DETACH)); mounted = false }
    }

    deinit { unmount() }

    /// Total bytes of the regular files under `dir` (what a manifest's `bytes` counts),
    /// without following links; stops counting above `limit`.
    static func bytes(under dir: String, limit: Int64) -> Int64 {
        var total: Int64 = 0
        guard let walker = FileManager.default.enumerator(atPath: dir) else { return 0 }
        while let rel = walker.nextObject() as? String {
            var st = stat()
            if lstat(dir + "/" + rel, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
                total += Int64(st.st_size)
                if total > limit { return total }
            }
        }
        return total
    }
}
