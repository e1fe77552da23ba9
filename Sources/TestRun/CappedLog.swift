import Core
import Foundation

/// A log file that keeps at most `limit` bytes of what a test run prints: the head as it
/// comes and the last `tail` bytes, with a line in between that says how much was
/// dropped. Memory stays at `tail` bytes whatever the run prints.
final class CappedLog: @unchecked Sendable {
    let path: String
    let limit: Int
    private let fd: Int32
    private var written = 0
    private var dropped: Int64 = 0
    private var ring: [UInt8] = []
    private let tail: Int
    private let lock = NSLock()

    init(path: String, limit: Int) throws {
        self.path = path
        self.limit = limit
        tail = min(64 << 10, limit / 4)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReproError(.system, "open \(path): \(Syscall.errorString(errno))") }
    }

    func append(_ bytes: ArraySlice<UInt8>) {
        lock.lock(); defer { lock.unlock() }
        var rest = bytes
        let room = max(0, limit - tail - written)
        if room > 0 {
            let head = rest.prefix(room)
            head.withUnsafeBytes { _ = Foundation.write(fd, $0.baseAddress, $0.count) }
            written += head.count
            rest = rest.dropFirst(head.count)
        }
        guard !rest.isEmpty else { return }
        ring.append(contentsOf: rest)
        if ring.count > tail {
            dropped += Int64(ring.count - tail)
            ring.removeFirst(ring.count - tail)
        }
    }

    /// Bytes that did not fit (0 when nothing was cut).
    var truncatedBytes: Int64 { lock.lock(); defer { lock.unlock() }; return dropped }

    func close() {
        lock.lock(); defer { lock.unlock() }
        if dropped > 0 {
            let mark = Array("\n[repro: \(dropped) bytes of output dropped here; the log keeps its first \(written) and last \(ring.count) bytes]\n".utf8)
            mark.withUnsafeBytes { _ = Foundation.write(fd, $0.baseAddress, $0.count) }
        }
        ring.withUnsafeBytes { _ = Foundation.write(fd, $0.baseAddress, $0.count) }
        ring = []
        _ = Foundation.close(fd)
    }
}
