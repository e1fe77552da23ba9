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
        var out: [UInt8] = []
        appendLine(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical line (without its newline) as bytes: no intermediate
    /// strings, since the manifest of a tree of many small files is built line by line.
    func appendLine(to out: inout [UInt8]) {
        let space = UInt8(ascii: " ")
        switch kind {
        case .file: out.append(UInt8(ascii: "f"))
        case .dir: out.append(UInt8(ascii: "d"))
        case .symlink: out.append(UInt8(ascii: "l"))
        }
        out.append(space)
        for shift in stride(from: 9, through: 0, by: -3) { out.append(UInt8(ascii: "0") + UInt8((mode >> UInt16(shift)) & 7)) }
        out.append(space)
        if kind == .file, let d = digest {
            Manifest.appendDecimal(d.size, to: &out)
            out.append(space)
            out.append(contentsOf: d.hex.utf8)
        } else {
            out.append(contentsOf: [UInt8(ascii: "-"), space, UInt8(ascii: "-")])
        }
        out.append(space)
        Manifest.appendEscaped(path, to: &out)
        if kind == .symlink {
            out.append(contentsOf: " -> ".utf8)
            Manifest.appendEscaped(target ?? "", to: &out)
        }
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

    public init(entries: [ManifestEntry]) {
        // Sorting indices moves Ints instead of entries (each a handful of references).
        let order = entries.indices.sorted { Manifest.bytewiseLess(entries[$0].path, entries[$1].path) }
        self.entries = order.map { entries[$0] }
    }

    /// `LC_ALL=C` order: memcmp(3) of the UTF-8 bytes, the shorter first on a tie.
    public static func bytewiseLess(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                let n = min(pa.count, pb.count)
                let r = n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n)
                return r != 0 ? r < 0 : pa.count < pb.count
            }
        }
    }

    /// The canonical text.
    public var text: String { String(decoding: data, as: UTF8.self) }

    public var data: Data {
        var out = [UInt8]()
        out.reserveCapacity(entries.count * 100)
        for e in entries {
            e.appendLine(to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        return Data(out)
    }

    /// SHA-256 of the canonical text (its size is the text's size).
    public var treeDigest: Digest { Digest.of(data) }

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
        var out = [UInt8]()
        out.reserveCapacity(name.utf8.count)
        appendEscaped(name, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendEscaped(_ name: String, to out: inout [UInt8]) {
        // Most names need no escape: copy them whole.
        if !name.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: ">") }) {
            out.append(contentsOf: name.utf8)
            return
        }
        var previous: UInt8 = 0
        for b in name.utf8 {
            switch b {
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case UInt8(ascii: ">") where previous == UInt8(ascii: "-"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: ">"))
            default: out.append(b)
            }
            previous = b
        }
    }

    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value == 0 { out.append(UInt8(ascii: "0")); return }
        var v = value, digits: (UInt64, UInt64, UInt64) = (0, 0, 0), n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while v > 0 { buf[n] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10; n += 1 }
            for i in stride(from: n - 1, through: 0, by: -1) { out.append(buf[i]) }
        }
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
