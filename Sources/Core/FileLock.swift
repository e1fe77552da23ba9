#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An advisory lock on a file (flock(2)), held until `unlock` or deinit. Locks taken
/// through different open(2) calls exclude each other even inside one process, so each
/// holder opens its own descriptor.
public final class FileLock {
    private var fd: Int32

    /// Opens (creating) `path` and takes the lock, waiting for it.
    /// - Throws: `ReproError(.system)` naming open(2) or flock(2).
    public init(_ path: String, exclusive: Bool) throws {
        fd = try Syscall.check("open \(path)") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        let fd = self.fd
        do {
            try Syscall.check("flock \(path)") { flock(fd, exclusive ? LOCK_EX : LOCK_SH) }
        } catch {
            close(fd)
            self.fd = -1
            throw error
        }
    }

    public func unlock() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit { unlock() }

    /// Runs `body` holding the lock.
    public static func with<T>(_ path: String, exclusive: Bool, _ body: () throws -> T) throws -> T {
        let lock = try FileLock(path, exclusive: exclusive)
        defer { lock.unlock() }
        return try body()
    }
}
