import Core
import Foundation

/// An advisory lock on a file (flock(2)), held until `unlock` or deinit. Locks taken
/// through different open(2) calls exclude each other even inside one process, so each
/// holder opens its own descriptor.
final class FileLock {
    private var fd: Int32

    /// Opens (creating) `path` and takes the lock, waiting for it.
    /// - Throws: `ReproError(.system)` naming open(2) or flock(2).
    init(_ path: String, exclusive: Bool) throws {
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

    func unlock() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit { unlock() }

    /// Runs `body` holding the lock.
    static func with<T>(_ path: String, exclusive: Bool, _ body: () throws -> T) throws -> T {
        let lock = try FileLock(path, exclusive: exclusive)
        defer { lock.unlock() }
        return try body()
    }
}

enum FileSupport {
    /// Writes all of `bytes` to `fd` (write(2), retrying short writes and EINTR).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try Syscall.check("write \(path)") {
                write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            }
            offset += n
        }
    }

    /// fsync(2) of a directory, so a rename into it is durable.
    static func syncDirectory(_ path: String) throws {
        let fd = try Syscall.check("open \(path)") { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try Syscall.check("fsync \(path)") { fsync(fd) }
    }

    /// mkdir(2) that accepts an existing directory.
    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw ReproError(.system, "mkdir \(path): \(Syscall.errorString(errno))")
        }
    }

    /// Whether `path` exists (lstat(2)), with its size when it is a regular file.
    static func size(_ path: String) -> Int64? {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// Seconds since the epoch.
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}
