/// A family of system calls the fault supervisor can hook, and the errnos each may fail
/// with. Keep in step with `families[]` in sandbox/src/faults.c (the launcher checks
/// its own copy; a test runs every family through it).
public struct FaultFamily: Sendable, Hashable, Codable, CustomStringConvertible {
    public let name: String
    /// The x86_64 system calls hooked for this family.
    public let calls: [String]
    /// Errnos a clause of this family may inject.
    public let errnos: [String]
    /// Whether a clause may name a path prefix (fd and path calls; not sockets).
    public let takesPath: Bool

    public var description: String { name }

    public static let write = FaultFamily(name: "write", calls: ["write", "writev", "pwrite64", "pwritev", "pwritev2"],
                                          errnos: ["EIO", "ENOSPC", "EDQUOT", "EFBIG", "EINTR", "EAGAIN"], takesPath: true)
    public static let fsync = FaultFamily(name: "fsync", calls: ["fsync", "fdatasync", "sync_file_range", "syncfs"],
                                          errnos: ["EIO", "ENOSPC", "EDQUOT", "EROFS", "EINVAL"], takesPath: true)
    public static let open = FaultFamily(name: "open", calls: ["open", "openat", "creat"],
                                         errnos: ["EMFILE", "ENFILE", "ENOENT", "EACCES", "EIO", "ENOSPC", "EINTR"], takesPath: true)
    public static let read = FaultFamily(name: "read", calls: ["read", "readv", "pread64", "preadv", "preadv2"],
                                         errnos: ["EINTR", "EIO", "EAGAIN"], takesPath: true)
    public static let connect = FaultFamily(name: "connect", calls: ["connect"],
                                            errnos: ["ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH", "ECONNRESET", "EINTR"], takesPath: false)
    public static let send = FaultFamily(name: "send", calls: ["sendto", "sendmsg", "sendmmsg"],
                                         errnos: ["ECONNRESET", "EAGAIN", "EPIPE", "ENOBUFS", "EINTR"], takesPath: false)
    public static let recv = FaultFamily(name: "recv", calls: ["recvfrom", "recvmsg", "recvmmsg"],
                                         errnos: ["ECONNRESET", "EAGAIN", "ETIMEDOUT", "EINTR"], takesPath: false)

    public static let all: [FaultFamily] = [.write, .fsync, .open, .read, .connect, .send, .recv]

    public static func named(_ name: String) -> FaultFamily? { all.first { $0.name == name } }
}
