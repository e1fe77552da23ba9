import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The live status line `repro build` shows on a terminal: one line, redrawn in place,
/// naming the phase (fetching N/M packages with their bytes, assembling the root,
/// staging inputs, building with the log's last line, hashing and storing, signing) and
/// the time since the build started. Only made when stderr is a terminal and neither
/// --verbose (everything streams, as before) nor --quiet is given, so output to a file
/// or a pipe never changes.
public final class BuildProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let started = Date()
    private var phase = "starting"
    private var detail = ""
    private var lastLine = ""
    private var partial: [UInt8] = []
    private var watched: (dir: String, total: Int)?
    private var timer: DispatchSourceTimer?
    private var drawn = false
    private var shown = ""
    private let fd: Int32

    /// - Parameter fd: the terminal to draw on (stderr).
    public init(fd: Int32 = 2) {
        self.fd = fd
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        t.schedule(deadline: .now() + 0.2, repeating: 0.25)
        t.setEventHandler { [weak self] in self?.draw() }
        t.resume()
        timer = t
    }

    deinit { timer?.cancel() }

    /// Starts a phase ("building"); `detail` follows it after a colon.
    public func phase(_ name: String, _ detail: String = "") {
        lock.withLock {
            phase = name; self.detail = detail; watched = nil; lastLine = ""; partial = []
        }
        draw()
    }

    /// While fetching: counts the .deb files that have arrived in `dir` and their bytes.
    public func watch(_ dir: String, total: Int) {
        lock.withLock { watched = (dir, total) }
    }

    /// A chunk of the build log: the display shows its last complete line.
    public func log(_ chunk: ArraySlice<UInt8>) {
        lock.withLock {
            partial.append(contentsOf: chunk)
            if let nl = partial.lastIndex(of: 0x0A) {
                let before = partial[..<nl]
                let start = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? before.startIndex
                let line = String(decoding: before[start...].suffix(400), as: UTF8.self)
                if !line.trimmingCharacters(in: .whitespaces).isEmpty { lastLine = line }
                partial.removeSubrange(...nl)
            }
            if partial.count > 4096 { partial.removeFirst(partial.count - 4096) }
        }
    }

    /// Clears the line for good (before the summary or an error is printed).
    public func finish() {
        timer?.cancel()
        timer = nil
        lock.withLock {
            if drawn { write("\r\u{1b}[K") }
            drawn = false
            shown = ""
            watched = nil
        }
    }

    /// The text of the line, without escapes (tests read it through a pty).
    func line(width: Int) -> String {
        let elapsed = Int(Date().timeIntervalSince(started))
        var text = String(format: "[%d:%02d] ", elapsed / 60, elapsed % 60) + phase
        var more = detail
        if let (dir, total) = watched {
            let (n, bytes) = Self.count(dir)
            more = "\(n)/\(total) packages, \(Self.bytes(bytes))"
        }
        if !lastLine.isEmpty { more = lastLine }
        if !more.isEmpty { text += ": " + more }
        // Control characters from the log never reach the terminal.
        text = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
        return text.count > width ? String(text.prefix(max(1, width - 1))) + "…" : text
    }

    private func draw() {
        lock.withLock {
            guard timer != nil else { return }
            var ws = winsize()
            let width = ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 ? Int(ws.ws_col) : 80
            let text = line(width: width)
            guard text != shown else { return }
            write("\r\u{1b}[K" + text)
            shown = text
            drawn = true
        }
    }

    private func write(_ s: String) {
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }

    /// The .deb files this process's `apt-get download` has finished so far: they land
    /// in `dir/.partial-PID-*/` first (AptState.download).
    static func count(_ dir: String) -> (Int, Int64) {
        var n = 0, total: Int64 = 0
        let mine = ".partial-\(getpid())-"
        for sub in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where sub.hasPrefix(mine) {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + sub)) ?? [] where name.hasSuffix(".deb") {
                var st = stat()
                if stat(dir + "/" + sub + "/" + name, &st) == 0 { n += 1; total += Int64(st.st_size) }
            }
        }
        return (n, total)
    }

    static func bytes(_ n: Int64) -> String {
        n >= 1 << 20 ? String(format: "%.1f MB", Double(n) / 1_048_576) : String(format: "%.0f kB", Double(n) / 1024)
    }
}
