import CLinux
import Core
import Foundation

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

    /// syncfs(2) of the file system holding `path`: everything written there is durable.
    static func syncFileSystem(of path: String) throws {
        let fd = try Syscall.check("open \(path)") { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try Syscall.check("syncfs \(path)") { repro_syncfs(fd) }
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
