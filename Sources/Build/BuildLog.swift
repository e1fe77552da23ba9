import Core
import Foundation

/// A build's log, streamed to a file as it arrives and capped: the first half of `cap`
/// bytes as they came, the last half kept in a second file used as a ring, and in
/// between a line saying how much was left out. Only a 64 KiB buffer lives in memory,
/// whatever the build prints (it used to be kept whole in repro's memory: 1 GB printed,
/// 3.2 GB RSS, outside the sandbox's memory cgroup).
final class BuildLog {
    let path: String
    let cap: Int64
    /// The log file's descriptor (raw writes through Syscall.check: a full disk is the
    /// usual "No space left on device" failure, not a Foundation error).
    private var head: Int32
    private let ringPath: String
    private var ring: Int32 = -1
    private(set) var total: Int64 = 0
    private var headBytes: Int64 = 0
    private var ringBytes: Int64 = 0
    private var ringPos: Int64 = 0
    private var headCap: Int64 { cap / 2 }
    private var ringCap: Int64 { cap - cap / 2 }

    /// - Throws: `ReproError(.system)` when the files cannot be created in `dir`.
    init(dir: String, cap: Int64) throws {
        path = dir + "/build.log"
        ringPath = dir + "/build.log.tail"
        self.cap = cap
        let file = dir + "/build.log"
        head = try Syscall.check("open \(file)") { open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    }

    deinit {
        if head >= 0 { close(head) }
        if ring >= 0 { close(ring) }
        unlink(ringPath)
    }

    /// Appends a chunk: to the head while it has room, then to the tail ring.
    func append(_ chunk: ArraySlice<UInt8>) throws {
        total += Int64(chunk.count)
        var rest = chunk
        if headBytes < headCap {
            let n = Int(min(Int64(rest.count), headCap - headBytes))
            try writeHead(rest.prefix(n))
            headBytes += Int64(n)
            rest = rest.dropFirst(n)
        }
        while !rest.isEmpty {
            if ring < 0 {
                ring = open(ringPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard ring >= 0 else { throw ReproError(.system, "cannot create \(ringPath): \(Syscall.errorString(errno))") }
            }
            let n = Int(min(Int64(rest.count), ringCap - ringPos))
            try rest.prefix(n).withUnsafeBytes { b in
                var done = 0
                while done < n {
                    let w = try Syscall.check("write \(ringPath)") { pwrite(ring, b.baseAddress! + done, n - done, off_t(ringPos) + off_t(done)) }
                    done += w
                }
            }
            ringPos = (ringPos + Int64(n)) % ringCap
            ringBytes = min(ringCap, ringBytes + Int64(n))
            rest = rest.dropFirst(n)
        }
    }

    /// Bytes left out between head and tail.
    var omitted: Int64 { total - headBytes - ringBytes }

    /// Closes the log: the head, a line naming what was left out, then the tail in order.
    func finish() throws {
        if ringBytes > 0 {
            if omitted > 0 {
                try writeHead(ArraySlice(Array("\n[repro: \(omitted) bytes of the log left out here: it was \(total) bytes, over the log-size limit of \(cap); the first and last \(cap / 2) are kept]\n".utf8)))
            }
            // Oldest part of the ring first: from ringPos to its end, then from 0.
            let order: [(Int64, Int64)] = ringBytes < ringCap ? [(Int64(0), ringBytes)] : [(ringPos, ringCap - ringPos), (Int64(0), ringPos)]
            var buf = [UInt8](repeating: 0, count: 65536)
            for (start, length) in order {
                var off = start, left = length
                while left > 0 {
                    let n = buf.withUnsafeMutableBytes { pread(ring, $0.baseAddress!, Int(min(left, 65536)), off_t(off)) }
                    if n < 0 { if errno == EINTR { continue }; throw ReproError(.system, "read \(ringPath): \(Syscall.errorString(errno))") }
                    if n == 0 { break }
                    try writeHead(buf[0..<n])
                    off += Int64(n); left -= Int64(n)
                }
            }
        }
        close(head)
        head = -1
    }

    private func writeHead(_ bytes: ArraySlice<UInt8>) throws {
        try bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                done += try Syscall.check("write \(path)") { write(head, b.baseAddress! + done, b.count - done) }
            }
        }
    }

    /// The last `lines` lines of the finished log (at most its last 64 KiB).
    func tail(lines: Int) -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? h.close() }
        let size = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: size > 65536 ? size - 65536 : 0)
        let text = String(decoding: h.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
