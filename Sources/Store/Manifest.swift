import Core
import Foundation

/// One entry of an output tree: a regular file, a directory or a symbolic link, with
/// its mode normalised (files 0644, or 0755 when any x bit is set; directories 0755;
/// links 0777). Owners, times and setuid/setgid/sticky bits are not part of an output.
public struct ManifestEntry: Hashable, Sendable, Encodable {
    public enum Kind: String, Hashable, Sendable, Encodable {
        case file, dir, symlink

        /// The letter that starts a manifest line.
        var letter: Character {
            switch self {
            case .file: "f"
            case .dir: "d"
            case .symlink: "l"
            }
        }
    }

    /// Relative, '/'-separated, without a leading './'.
    public var path: String
    public var kind: Kind
    /// Normalised permission bits: 0o644, 0o755 or 0o777.
    public var mode: UInt16
    /// Content digest of a regular file; nil otherwise.
    public var digest: Digest?
    /// Target of a symbolic link, as stored in the link; nil otherwise.
    public var target: String?

    public static func file(_ path: String, executable: Bool, digest: Digest) -> ManifestEntry {
        ManifestEntry(path: path, kind: .file, mode: executable ? 0o755 : 0o644, digest: digest, target: nil)
    }

    public static func dir(_ path: String) -> ManifestEntry {
        ManifestEntry(path: path, kind: .dir, mode: 0o755, digest: nil, target: nil)
    }

    public static func symlink(_ path: String, target: String) -> ManifestEntry {
        ManifestEntry(path: path, kind: .symlink, mode: 0o777, digest: nil, target: target)
    }

    /// The mode as four octal digits, e.g. "0644".
    public var modeText: String {
        let s = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    enum CodingKeys: String, CodingKey { case path, type, mode, size, sha256, target }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(kind, forKey: .type)
        try c.encode(modeText, forKey: .mode)
        try c.encodeIfPresent(digest?.size, forKey: .size)
        try c.encodeIfPresent(digest?.hex, forKey: .sha256)
        try c.encodeIfPresent(target, forKey: .target)
    }

    /// The canonical manifest line, without its newline.
    public var line: String {
        String(unsafeUninitializedCapacity: maxLineLength) { buf in writeLine(to: buf.baseAddress!) }
    }

    /// An upper bound of the line's length in bytes: every escape doubles a byte at most.
    var maxLineLength: Int {
        ManifestEntry.maxLineLength(pathBytes: path.utf8.count) + (target.map { 4 + 2 * $0.utf8.count } ?? 0)
    }

    /// The bound for a file or directory whose path has `pathBytes` UTF-8 bytes:
    /// "f 0644 " + a 19-digit size + " " + 64 hex digits + " " + the escaped path.
    static func maxLineLength(pathBytes: Int) -> Int { 96 + 2 * pathBytes }

    /// Writes the canonical line (without its newline) at `p`, which has room for
    /// `maxLineLength` bytes; returns the bytes written. Pointer writes, no intermediate
    /// strings: the manifest of a tree of 100,000 small files is 10 MB of these lines.
    func writeLine(to p: UnsafeMutablePointer<UInt8>) -> Int {
        let space = UInt8(ascii: " ")
        var n = 0
        func put(_ b: UInt8) { p[n] = b; n += 1 }
        switch kind {
        case .file: put(UInt8(ascii: "f"))
        case .dir: put(UInt8(ascii: "d"))
        case .symlink: put(UInt8(ascii: "l"))
        }
        put(space)
        for shift in stride(from: 9, through: 0, by: -3) { put(UInt8(ascii: "0") + UInt8((mode >> UInt16(shift)) & 7)) }
        put(space)
        if kind == .file, let d = digest {
            n += Manifest.writeDecimal(d.size, to: p + n)
            put(space)
            n += Manifest.writeBytes(d.hex, to: p + n)
        } else {
            put(UInt8(ascii: "-")); put(space); put(UInt8(ascii: "-"))
        }
        put(space)
        n += Manifest.writeEscaped(path, to: p + n)
        if kind == .symlink {
            for b in " -> ".utf8 { put(b) }
            n += Manifest.writeEscaped(target ?? "", to: p + n)
        }
        return n
    }
}

/// The canonical manifest of a tree (docs/store.md, "Manifest"): one line per entry,
/// sorted bytewise by path (LC_ALL=C order), each ending in "\n":
///
///     f 0644 12 <sha256 hex> path/to/file
///     d 0755 - - path/dir
///     l 0777 - - path/link -> target
///
/// In paths and link targets `\` is written `\\`, a newline `\n`, and the `>` of every
/// `->` is written `\>`, so a line never contains a raw newline and the first " -> " of
/// a link line is the separator. The tree digest is the SHA-256 of these bytes.
public struct Manifest: Hashable, Sendable {
    /// Sorted bytewise by path.
    public let entries: [ManifestEntry]
    /// The canonical text, when whoever made the manifest wrote it already (TreeHasher
    /// writes each file's line on the thread that hashed it, while the entry is in cache).
    private let written: Data?

    public init(entries: [ManifestEntry]) {
        self.init(entries: entries, text: nil)
    }

    /// `text` must be the canonical text of `entries` in the order given; it is dropped
    /// when they turn out not to be sorted.
    init(entries: [ManifestEntry], text: Data?) {
        // TreeHasher and parsing hand over sorted entries: one pass checks that.
        if entries.indices.dropFirst().allSatisfy({ !Manifest.bytewiseLess(entries[$0].path, entries[$0 - 1].path) }) {
            self.entries = entries
            written = text
            return
        }
        // Sorting indices moves Ints instead of entries (each a handful of references).
        let order = entries.indices.sorted { Manifest.bytewiseLess(entries[$0].path, entries[$1].path) }
        self.entries = order.map { entries[$0] }
        written = nil
    }

    /// Whether the text came written (so the entries arrived sorted).
    var textWasWritten: Bool { written != nil }

    /// Manifests are equal when their entries are, however they were made.
    public static func == (a: Manifest, b: Manifest) -> Bool { a.entries == b.entries }

    public func hash(into hasher: inout Hasher) { hasher.combine(entries) }

    /// `LC_ALL=C` order: memcmp(3) of the UTF-8 bytes, the shorter first on a tie.
    public static func bytewiseLess(_ a: String, _ b: String) -> Bool {
        // Native strings are contiguous UTF-8: one memcmp, no copies or retains.
        if let r = a.utf8.withContiguousStorageIfAvailable({ pa in
            b.utf8.withContiguousStorageIfAvailable { pb -> Bool in
                let n = min(pa.count, pb.count)
                let r = n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n)
                return r != 0 ? r < 0 : pa.count < pb.count
            }
        }), let r { return r }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The canonical text.
    public var text: String { String(decoding: data, as: UTF8.self) }

    public var data: Data {
        if let written { return written }
        var out = Data()
        forEachChunk { out.append(contentsOf: $0) }
        return out
    }

    /// SHA-256 of the canonical text (its size is the text's size). Unless it is written
    /// already, it is hashed chunk by chunk as it is written, never whole in memory.
    public var treeDigest: Digest {
        if let written { return Digest.of(written) }
        let sha = SHA256Stream()
        forEachChunk { sha.update($0) }
        return sha.finish()
    }

    /// Writes the canonical text into a reused buffer, handing it to `body` each time it
    /// fills (256 KiB: stays in cache between the writing and the hashing).
    func forEachChunk(_ body: (UnsafeRawBufferPointer) -> Void) {
        var capacity = 1 << 18
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var used = 0
        for e in entries {
            let need = e.maxLineLength + 1
            if used + need > capacity {
                if used > 0 { body(UnsafeRawBufferPointer(start: buffer, count: used)) }
                used = 0
                if need > capacity {
                    buffer.deallocate()
                    capacity = need
                    buffer = .allocate(capacity: capacity)
                }
            }
            used += e.writeLine(to: buffer + used)
            buffer[used] = UInt8(ascii: "\n")
            used += 1
        }
        if used > 0 { body(UnsafeRawBufferPointer(start: buffer, count: used)) }
    }

    /// Regular files in the tree.
    public var files: Int { entries.lazy.filter { $0.kind == .file }.count }

    /// Total size of the regular files.
    public var bytes: Int64 { entries.reduce(0) { $0 + ($1.digest?.size ?? 0) } }

    /// Distinct file content digests.
    public var blobDigests: [Digest] {
        var seen = Set<String>()
        return entries.compactMap { e in
            guard let d = e.digest, seen.insert(d.hex).inserted else { return nil }
            return d
        }
    }

    // MARK: escaping

    /// Escapes a path or link target for a manifest line: `\` -> `\\`, newline -> `\n`,
    /// `->` -> `-\>` (applied in that order; the same as
    /// `sed -z 's/\\/\\\\/g; s/\n/\\n/g; s/->/-\\>/g'`).
    public static func escape(_ name: String) -> String {
        if name.isEmpty { return "" }
        return String(unsafeUninitializedCapacity: 2 * name.utf8.count) { writeEscaped(name, to: $0.baseAddress!) }
    }

    /// Writes `name` escaped at `p` (room for twice its UTF-8 length); returns the bytes
    /// written.
    static func writeEscaped(_ name: String, to p: UnsafeMutablePointer<UInt8>) -> Int {
        func write(_ bytes: some Sequence<UInt8>) -> Int {
            var n = 0, previous: UInt8 = 0
            for b in bytes {
                switch b {
                case UInt8(ascii: "\\"): p[n] = UInt8(ascii: "\\"); p[n + 1] = UInt8(ascii: "\\"); n += 2
                case UInt8(ascii: "\n"): p[n] = UInt8(ascii: "\\"); p[n + 1] = UInt8(ascii: "n"); n += 2
                case UInt8(ascii: ">") where previous == UInt8(ascii: "-"): p[n] = UInt8(ascii: "\\"); p[n + 1] = UInt8(ascii: ">"); n += 2
                default: p[n] = b; n += 1
                }
                previous = b
            }
            return n
        }
        return name.utf8.withContiguousStorageIfAvailable { write($0) } ?? write(name.utf8)
    }

    /// Copies the UTF-8 bytes of `text` to `p`; returns their count.
    static func writeBytes(_ text: String, to p: UnsafeMutablePointer<UInt8>) -> Int {
        if let n = text.utf8.withContiguousStorageIfAvailable({ b -> Int in
            p.update(from: b.baseAddress!, count: b.count)
            return b.count
        }) { return n }
        var n = 0
        for b in text.utf8 { p[n] = b; n += 1 }
        return n
    }

    /// Writes `value` (>= 0) in decimal at `p` (room for 19 digits); returns the digits written.
    static func writeDecimal(_ value: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var v = value, n = 0
        repeat { p[n] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10; n += 1 } while v > 0
        var i = 0, j = n - 1
        while i < j { (p[i], p[j]) = (p[j], p[i]); i += 1; j -= 1 }
        return n
    }

    /// Reverses `escape`.
    /// - Throws: `ReproError(.invalidInput)` on an unknown escape.
    public static func unescape(_ text: Substring) throws -> String {
        var out = [UInt8]()
        var it = text.utf8.makeIterator()
        while let b = it.next() {
            guard b == UInt8(ascii: "\\") else { out.append(b); continue }
            switch it.next() {
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
            case UInt8(ascii: ">"): out.append(UInt8(ascii: ">"))
            default: throw ReproError(.invalidInput, "manifest: bad escape in '\(text)'")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: parsing

    /// Parses canonical manifest text.
    /// - Throws: `ReproError(.invalidInput)` naming the line that is malformed.
    public static func parse(_ data: Data) throws -> Manifest {
        let text = String(decoding: data, as: UTF8.self)
        var entries: [ManifestEntry] = []
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            number += 1
            func bad(_ why: String) -> ReproError {
                ReproError(.invalidInput, "manifest line \(number): \(why): '\(line)'")
            }
            let fields = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
            guard fields.count == 5, fields[0].count == 1 else { throw bad("expected 5 fields") }
            guard let mode = UInt16(fields[1], radix: 8) else { throw bad("bad mode") }
            let rest = fields[4]
            switch fields[0] {
            case "f":
                guard let size = Int64(fields[2]), size >= 0 else { throw bad("bad size") }
                let digest = try Digest.parse(String(fields[3]), size: size)
                guard mode == 0o644 || mode == 0o755 else { throw bad("file mode not 0644/0755") }
                entries.append(.file(try unescape(rest), executable: mode == 0o755, digest: digest))
            case "d":
                entries.append(.dir(try unescape(rest)))
            case "l":
                guard let sep = rest.range(of: " -> ") else { throw bad("link without ' -> '") }
                entries.append(.symlink(try unescape(rest[..<sep.lowerBound]),
                                        target: try unescape(rest[sep.upperBound...])))
            default:
                throw bad("unknown type '\(fields[0])'")
            }
        }
        return Manifest(entries: entries)
    }
}

