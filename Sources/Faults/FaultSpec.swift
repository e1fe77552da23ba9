import Core

/// A fault spec (docs/faults.md): what `repro run --fault SPEC` injects, parsed from one
/// line of items separated by ';':
///
///     write:EIO@10%,path=/build,after=100 ; recv:ECONNRESET@0.2 ; read@0.5,delay=2ms
///     disk=/tmp:1m ; memory=64m ; cpu=0.25 ; clock=+1h ; seed=42
///
/// Syscall items are `FAMILY[:ERRNO][@SHARE][,after=N][,path=PREFIX][,delay=DURATION]`
/// (SHARE a number in 0..1 or a percentage; 1 when left out; an item needs an errno, a
/// delay, or both; errno names are case-insensitive and `write:eio:0.1` means
/// `write:EIO@0.1`). Resource items size a tmpfs, bound memory and CPU, and move the
/// monotonic clocks forward. Errors name the 1-based column of the offending text.
public struct FaultSpec: Sendable, Equatable, Codable {
    public struct Syscall: Sendable, Equatable, Codable {
        public var family: FaultFamily
        public var errno: String?
        public var share: Double
        public var after: UInt64
        public var delayMicroseconds: UInt64
        public var path: String?
    }

    public struct Disk: Sendable, Equatable, Codable {
        /// /tmp or /build.
        public var path: String
        public var bytes: Int64
        public init(path: String, bytes: Int64) { self.path = path; self.bytes = bytes }
    }

    public var seed: UInt64 = 0
    public var syscalls: [Syscall] = []
    public var disks: [Disk] = []
    /// cgroup memory limit in bytes: the run is OOM-killed past it.
    public var memory: Int64?
    /// cgroup CPU quota in CPUs (0.25 = a quarter of one CPU).
    public var cpu: Double?
    /// Seconds CLOCK_MONOTONIC and CLOCK_BOOTTIME run ahead (a time namespace).
    public var clockJump: Int64?
    /// The text as given.
    public var text: String = ""

    public init() {}

    public var isEmpty: Bool { syscalls.isEmpty && disks.isEmpty && memory == nil && cpu == nil && clockJump == nil }

    /// A bad spec: the message names the column (1-based) and what to write instead.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let column: Int
        public let message: String
        public let spec: String
        public var description: String {
            "fault spec, column \(column): \(message)\n  \(spec)\n  \(String(repeating: " ", count: max(0, column - 1)))^"
        }
        /// As the one error type of repro (exit 2).
        public var reproError: ReproError { ReproError(.invalidInput, description) }
    }

    /// Parses `text`.
    /// - Throws: `ParseError` naming the column of the first problem.
    public static func parse(_ text: String) throws(ParseError) -> FaultSpec {
        var spec = FaultSpec()
        spec.text = text
        let chars = Array(text)
        var start = 0
        var sawSeed = false
        while start <= chars.count {
            var end = start
            while end < chars.count && chars[end] != ";" { end += 1 }
            var a = start, b = end
            while a < b && chars[a] == " " { a += 1 }
            while b > a && chars[b - 1] == " " { b -= 1 }
            let item = Item(chars: chars, from: a, to: b, spec: text)
            if a == b {
                // Only a trailing ';' may leave an empty item.
                if !(end == chars.count && start > 0) {
                    throw item.error(at: a, "empty item: write e.g. write:EIO@10% (items are separated by ';')")
                }
            } else {
                try parseItem(item, into: &spec, sawSeed: &sawSeed)
            }
            start = end + 1
        }
        if spec.isEmpty { throw ParseError(column: 1, message: "the spec injects nothing: name a syscall family (write:EIO@10%) or a resource (disk=/tmp:1m)", spec: text) }
        return spec
    }

    /// The launcher's options for the syscall faults (`--fault` per item, `--fault-seed`).
    public func launcherArguments() -> [String] {
        guard !syscalls.isEmpty else { return [] }
        var a: [String] = []
        for s in syscalls {
            var clause = "\(s.family.name) \(s.errno ?? "-") \(Self.number(s.share)) \(s.after) \(s.delayMicroseconds)"
            if let p = s.path { clause += " " + p }
            a += ["--fault", clause]
        }
        return a + ["--fault-seed", String(seed)]
    }

    /// The spec written back in canonical form (the same items, in order).
    public var canonical: String {
        var items: [String] = []
        for s in syscalls {
            var t = s.family.name
            if let e = s.errno { t += ":" + e }
            if s.share != 1 { t += "@" + Self.number(s.share) }
            if s.after > 0 { t += ",after=\(s.after)" }
            if let p = s.path { t += ",path=" + p }
            if s.delayMicroseconds > 0 { t += ",delay=\(s.delayMicroseconds)us" }
            items.append(t)
        }
        items += disks.map { "disk=\($0.path):\($0.bytes)" }
        if let m = memory { items.append("memory=\(m)") }
        if let c = cpu { items.append("cpu=\(Self.number(c))") }
        if let j = clockJump { items.append("clock=+\(j)s") }
        items.append("seed=\(seed)")
        return items.joined(separator: ";")
    }

    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
    }
}

// MARK: parsing

/// One item of the spec: a slice of its characters, with columns for errors.
struct Item {
    let chars: [Character]
    let from: Int, to: Int
    let spec: String

    var text: String { String(chars[from..<to]) }

    func error(at index: Int, _ message: String) -> FaultSpec.ParseError {
        FaultSpec.ParseError(column: index + 1, message: message, spec: spec)
    }

    /// Index of the first `c` in from..<to at or after `start`, or `to`.
    func find(_ c: Character, from start: Int) -> Int {
        var i = start
        while i < to && chars[i] != c { i += 1 }
        return i
    }

    func string(_ a: Int, _ b: Int) -> String { String(chars[a..<b]) }
}

extension FaultSpec {
    static let resourcePaths = ["/tmp", "/build"]

    static func parseItem(_ it: Item, into spec: inout FaultSpec, sawSeed: inout Bool) throws(ParseError) {
        let eq = it.find("=", from: it.from)
        let head = it.string(it.from, eq)
        if eq < it.to, ["seed", "disk", "memory", "cpu", "clock"].contains(head) {
            let v = eq + 1
            let value = it.string(v, it.to)
            switch head {
            case "seed":
                guard let s = UInt64(value) else { throw it.error(at: v, "seed must be a whole number from 0 to 2^64-1, not '\(value)'") }
                if sawSeed { throw it.error(at: it.from, "seed is given twice") }
                sawSeed = true
                spec.seed = s
            case "disk":
                let colon = it.find(":", from: v)
                let path = it.string(v, colon)
                guard resourcePaths.contains(path) else { throw it.error(at: v, "disk takes /tmp or /build, not '\(path)': disk=/tmp:1m") }
                guard colon < it.to else { throw it.error(at: it.to, "disk needs a size: disk=\(path):1m") }
                let bytes = try size(it, colon + 1, it.to)
                if spec.disks.contains(where: { $0.path == path }) { throw it.error(at: v, "disk \(path) is given twice") }
                spec.disks.append(Disk(path: path, bytes: bytes))
            case "memory":
                let bytes = try size(it, v, it.to)
                guard bytes >= 1 << 20 else { throw it.error(at: v, "memory below 1 MiB leaves nothing to run: give e.g. memory=64m") }
                spec.memory = bytes
            case "cpu":
                guard let c = Double(value), c.isFinite, c >= 0.01, c <= 4096 else {
                    throw it.error(at: v, "cpu must be a share of CPUs from 0.01 (the kernel's smallest quota) to 4096, e.g. cpu=0.25, not '\(value)'")
                }
                spec.cpu = c
            default: // clock
                guard value.hasPrefix("+") else {
                    throw it.error(at: v, "clock takes a forward jump, e.g. clock=+1h (the monotonic clocks cannot go back)")
                }
                if it.find("@", from: v) < it.to {
                    throw it.error(at: it.find("@", from: v), "the clock can only jump before the command starts: a time namespace's offsets are fixed once a process is in it")
                }
                let us = try duration(it, v + 1, it.to)
                guard us >= 1_000_000, us % 1_000_000 == 0 else { throw it.error(at: v + 1, "clock jumps are whole seconds, at least 1s") }
                guard us <= 100 * 365 * 86400 * 1_000_000 else { throw it.error(at: v + 1, "clock jumps are at most 100 years") }
                spec.clockJump = Int64(us / 1_000_000)
            }
            return
        }
        spec.syscalls.append(try syscallItem(it))
    }

    static func syscallItem(_ it: Item) throws(ParseError) -> Syscall {
        // FAMILY[:ERRNO][@SHARE](,key=value)*
        var i = it.from
        while i < it.to && (it.chars[i].isLetter || it.chars[i].isNumber || it.chars[i] == "_") { i += 1 }
        let name = it.string(it.from, i)
        guard let family = FaultFamily.named(name) else {
            let known = FaultFamily.all.map(\.name).joined(separator: ", ")
            if name.isEmpty { throw it.error(at: it.from, "expected a syscall family (\(known)) or seed=, disk=, memory=, cpu=, clock=") }
            throw it.error(at: it.from, "unknown syscall family '\(name)' (known: \(known); resources: seed=, disk=, memory=, cpu=, clock=)")
        }
        var s = Syscall(family: family, errno: nil, share: 1, after: 0, delayMicroseconds: 0, path: nil)
        if i < it.to && it.chars[i] == ":" {
            let a = i + 1
            var b = a
            while b < it.to && it.chars[b] != "@" && it.chars[b] != "," && it.chars[b] != ":" { b += 1 }
            let e = it.string(a, b).uppercased()
            guard family.errnos.contains(e) else {
                throw it.error(at: a, "\(e.isEmpty ? "missing errno" : "errno '\(e)' is not one \(family.name) can fail with"): use one of \(family.errnos.joined(separator: ", "))")
            }
            s.errno = e
            i = b
        }
        // "@SHARE", or ":SHARE" right after the errno (write:eio:0.1, the recipe form).
        if i < it.to && (it.chars[i] == "@" || (it.chars[i] == ":" && s.errno != nil)) {
            let a = i + 1
            var b = a
            while b < it.to && it.chars[b] != "," { b += 1 }
            s.share = try share(it, a, b)
            i = b
        }
        var seen: Set<String> = []
        while i < it.to {
            guard it.chars[i] == "," else {
                throw it.error(at: i, "unexpected '\(it.chars[i])': write \(family.name)[:ERRNO][@SHARE][,after=N][,path=/prefix][,delay=5ms]")
            }
            let a = i + 1
            var b = a
            while b < it.to && it.chars[b] != "," { b += 1 }
            let eq = it.find("=", from: a)
            guard eq < b else { throw it.error(at: a, "expected after=N, path=/prefix or delay=DURATION") }
            let key = it.string(a, eq), v = eq + 1, value = it.string(v, b)
            if seen.contains(key) { throw it.error(at: a, "\(key) is given twice") }
            seen.insert(key)
            switch key {
            case "after":
                guard let n = UInt64(value) else { throw it.error(at: v, "after takes a whole number of calls, not '\(value)'") }
                s.after = n
            case "path":
                guard family.takesPath else { throw it.error(at: a, "\(family.name) acts on sockets, which have no path") }
                guard value.hasPrefix("/"), !value.contains(" ") else { throw it.error(at: v, "path must be an absolute path inside the sandbox without spaces, e.g. /build") }
                var p = value
                while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
                s.path = p
            case "delay":
                let us = try duration(it, v, b)
                guard us <= 60_000_000 else { throw it.error(at: v, "delay is at most 60s") }
                s.delayMicroseconds = us
            default:
                throw it.error(at: a, "unknown option '\(key)': use after=N, path=/prefix or delay=DURATION")
            }
            i = b
        }
        if s.errno == nil && s.delayMicroseconds == 0 {
            throw it.error(at: it.from, "\(family.name) needs an errno (\(family.name):\(family.errnos[0])) or a delay (,delay=5ms)")
        }
        return s
    }

    /// "0.1", "10%".
    static func share(_ it: Item, _ a: Int, _ b: Int) throws(ParseError) -> Double {
        var text = it.string(a, b)
        var scale = 1.0
        if text.hasSuffix("%") { text.removeLast(); scale = 100 }
        guard let v = Double(text), v.isFinite else { throw it.error(at: a, "share must be a number from 0 to 1 or a percentage, not '\(it.string(a, b))'") }
        let share = v / scale
        guard share >= 0 && share <= 1 else { throw it.error(at: a, "share \(it.string(a, b)) is outside 0..1 (0%..100%)") }
        return share
    }

    /// "512k", "1m", "2g", "4096" -> bytes.
    static func size(_ it: Item, _ a: Int, _ b: Int) throws(ParseError) -> Int64 {
        let text = it.string(a, b).lowercased()
        var digits = text, mult: Double = 1
        for (suffix, m) in [("k", 1024.0), ("m", 1024.0 * 1024), ("g", 1024.0 * 1024 * 1024)] where text.hasSuffix(suffix) {
            digits = String(text.dropLast()); mult = m
        }
        guard let v = Double(digits), v.isFinite, v > 0, v * mult < 9e18 else {
            throw it.error(at: a, "'\(it.string(a, b))' is not a size: a number with an optional k, m or g suffix")
        }
        return Int64(v * mult)
    }

    /// "250us", "5ms", "2s", "1m", "1h" -> microseconds.
    static func duration(_ it: Item, _ a: Int, _ b: Int) throws(ParseError) -> UInt64 {
        let text = it.string(a, b)
        for (suffix, m) in [("us", 1.0), ("ms", 1e3), ("s", 1e6), ("m", 60e6), ("h", 3600e6), ("d", 86400e6)] where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            if let v = Double(digits), v.isFinite, v >= 0, digits.first?.isNumber == true {
                let us = v * m
                if us < 1.8e19 { return UInt64(us.rounded()) }
            }
            break
        }
        throw it.error(at: a, "'\(text)' is not a duration: a number with us, ms, s, m, h or d, e.g. 5ms")
    }
}
