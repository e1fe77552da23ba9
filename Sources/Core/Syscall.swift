#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one place libc calls go through: retries EINTR and turns -1/errno into a
/// `ReproError(.system)` that names the call, e.g. "pipe2: Too many open files".
public enum Syscall {
    @discardableResult
    public static func check<T: BinaryInteger>(_ name: @autoclosure () -> String, _ body: () -> T) throws -> T {
        while true {
            let r = body()
            if r != -1 { return r }
            let e = errno
            if e == EINTR { continue }
            if e == ENOSPC || e == EDQUOT {
                // Not a bug and not bad input: the disk is full. Say what to do.
                throw ReproError(.failed, "\(name()): \(errorString(e)); free space on that file system (`repro store gc` "
                                 + "drops unreachable blobs) or point REPRO_HOME at a larger one; nothing partial was kept")
            }
            throw ReproError(.system, "\(name()): \(errorString(e))")
        }
    }

    /// `strerror` text for an errno value.
    public static func errorString(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
