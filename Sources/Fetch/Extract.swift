import CArchive
import Core
import Foundation

/// How an extraction treats symlinks whose target is an absolute path.
public enum AbsoluteSymlinks: Sendable {
    /// Refuse them: on the host they point outside the root (source tarballs).
    case reject
    /// Read them as the package means them, relative to the root (chroot semantics), and
    /// store them as the equivalent relative link, so the root is relocatable and a link
    /// never points at the host's files (Debian packages: `/lib64/ld-linux-x86-64.so.2`).
    case relativeToRoot
}

public struct ExtractOptions: Sendable {
    /// Leading path components dropped from every member (`tar --strip-components`);
    /// members with no more components are skipped.
    public var stripComponents = 0
    public var absoluteSymlinks = AbsoluteSymlinks.reject
    /// Map top-level `bin`, `sbin`, `lib*` into `usr/` (merged-usr roots).
    public var mergedUsr = false
    /// Clamp every mtime to at most this (seconds since the epoch); directories created
    /// implicitly get it, or 0 when nil.
    public var clampMtime: Int64?

    public init(stripComponents: Int = 0, absoluteSymlinks: AbsoluteSymlinks = .reject,
                mergedUsr: Bool = false, clampMtime: Int64? = nil) {
        self.stripComponents = stripComponents
        self.absoluteSymlinks = absoluteSymlinks
        self.mergedUsr = mergedUsr
        self.clampMtime = clampMtime
    }

    /// The options toolchain roots use for .deb data: merged-usr, chroot-relative links.
    public static let debianRoot = ExtractOptions(absoluteSymlinks: .relativeToRoot, mergedUsr: true)
}

/// What an extraction wrote.
public struct ExtractReport: Sendable, Equatable {
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    public var hardlinks = 0
    /// Members whose setuid/setgid bits were cleared (they are extracted without them).
    public var clearedSetID: [String] = []
}

/// Safe extraction with libarchive. Members are written through `SafeTree` (openat,
/// O_NOFOLLOW, O_EXCL), never by libarchive's own writer, and checked first:
///
/// | member | what happens |
/// | --- | --- |
/// | absolute path, `..` component | refused (`.invalidInput` naming archive and member) |
/// | path through a symlink or file | refused |
/// | symlink leaving the root (relative `..` above it; absolute, unless `.relativeToRoot`) | refused |
/// | hard link to an absolute path, a `..` path or anything but a file extracted before | refused |
/// | device node, fifo, socket | refused |
/// | setuid / setgid bit | cleared (listed in the report); sticky bit kept |
/// | owner, group | ignored: files belong to the extracting user |
/// | mtime | from the archive, clamped to `clampMtime` when set |
public enum Extract {
    /// libarchive's version string, for `repro doctor`.
    public static var libarchiveVersion: String { String(cString: archive_version_string()) }

    /// Extracts the `data.tar.{xz,zst,gz,bz2}` member of the .deb at `path` into `root`.
    /// Maintainer scripts (control.tar) are never read or run.
    /// - Throws: `ReproError(.invalidInput)` for a malformed or unsafe package,
    ///   `.system` for I/O errors.
    @discardableResult
    public static func deb(_ path: String, into root: String, options: ExtractOptions = .debianRoot) throws -> ExtractReport {
        let data = try debMember(path, prefix: "data.tar")
        return try data.withUnsafeBytes { raw in
            let reader = try ArchiveReader(name: "\(path) (data.tar)")
            try reader.check(archive_read_open_memory(reader.a, raw.baseAddress, raw.count), "open")
            return try extract(reader, into: root, options: options)
        }
    }

    /// Extracts a tar (any compression libarchive reads), zip or ar archive into `root`.
    /// - Throws: `ReproError(.invalidInput)` for an unsafe member, naming archive and member.
    @discardableResult
    public static func archive(_ path: String, into root: String, options: ExtractOptions = ExtractOptions()) throws -> ExtractReport {
        let reader = try ArchiveReader(name: path)
        try reader.check(archive_read_open_filename(reader.a, path, 1 << 16), "open")
        return try extract(reader, into: root, options: options)
    }

    /// The bytes of the first member of the .deb (an `ar` archive) whose name starts with
    /// `prefix` (`data.tar`, `control.tar`).
    /// - Throws: `ReproError(.invalidInput)` when it is not a Debian package or lacks it.
    public static func debMember(_ path: String, prefix: String) throws -> Data {
        let reader = try ArchiveReader(name: path, formats: .ar)
        try reader.check(archive_read_open_filename(reader.a, path, 1 << 16), "open")
        var sawBinary = false
        while let entry = try reader.next() {
            let name = String(cString: archive_entry_pathname(entry)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            if name == "debian-binary" { sawBinary = true; continue }
            if name.hasPrefix(prefix) {
                guard sawBinary else { break }
                return try reader.readAll(limit: 1 << 32)
            }
        }
        throw ReproError(.invalidInput, "\(path) is not a Debian package: no debian-binary and \(prefix).* members")
    }

    static func extract(_ reader: ArchiveReader, into root: String, options: ExtractOptions) throws -> ExtractReport {
        let tree = try SafeTree(root: root, implicitMtime: options.clampMtime ?? 0)
        var report = ExtractReport()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while let entry = try reader.next() {
            let member = (archive_entry_pathname(entry) ?? archive_entry_pathname_utf8(entry)).map { String(cString: $0) } ?? ""
            tree.context = "\(reader.name): member '\(member)'"
            let refuse = { (why: String) in ReproError(.invalidInput, "unsafe archive \(reader.name): member '\(member)' \(why)") }
            guard !member.isEmpty else { throw refuse("has no usable name") }
            guard let original = try memberPath(member, strip: options.stripComponents, refuse: refuse) else { continue }
            let path = options.mergedUsr ? mergeUsr(original) : original
            if path.isEmpty { continue }
            // Packages of merged-usr releases ship `bin -> usr/bin` themselves; the root
            // makes those links, and mapped into usr/ they would point at themselves.
            if options.mergedUsr, original.count == 1, mergedTop.contains(original[0]),
               archive_entry_filetype(entry) & 0o170000 == 0o120000 { continue }

            var mtime = timespec(tv_sec: Int(archive_entry_mtime(entry)), tv_nsec: Int(archive_entry_mtime_nsec(entry)))
            if let clamp = options.clampMtime, Int64(mtime.tv_sec) >= clamp {
                mtime = timespec(tv_sec: Int(clamp), tv_nsec: 0)
            }
            var mode = mode_t(archive_entry_perm(entry)) & 0o7777
            if mode & 0o6000 != 0, (archive_entry_filetype(entry) & 0o170000) != 0o120000 {
                mode &= ~mode_t(0o6000)
                report.clearedSetID.append(path.joined(separator: "/"))
            }

            if let link = archive_entry_hardlink(entry) {
                let target = String(cString: link)
                guard !target.hasPrefix("/") else { throw refuse("is a hard link to the absolute path \(target)") }
                guard let t = try memberPath(target, strip: options.stripComponents, refuse: { why in refuse("is a hard link to '\(target)', which \(why)") }) else {
                    throw refuse("is a hard link to '\(target)', which is stripped away")
                }
                try tree.hardlink(path, target: options.mergedUsr ? mergeUsr(t) : t)
                report.hardlinks += 1
                continue
            }
            switch archive_entry_filetype(entry) & 0o170000 {
            case 0o040000:
                try tree.directory(path, mode: mode, mtime: mtime)
                report.directories += 1
            case 0o100000:
                try tree.file(path, mode: mode, mtime: mtime) { fd in
                    while true {
                        let n = archive_read_data(reader.a, &buffer, buffer.count)
                        if n == 0 { break }
                        if n < 0 { throw reader.failure("read member '\(member)' of") }
                        var off = 0
                        while off < n {
                            let w = try Syscall.check("write \(member)") { buffer[off..<n].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
                            off += w
                        }
                    }
                }
                report.files += 1
            case 0o120000:
                let target = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
                let stored = try symlinkTarget(target, at: original, mapped: path, options: options, refuse: refuse)
                try tree.symlink(path, target: stored, mtime: mtime)
                report.symlinks += 1
            case 0o020000, 0o060000:
                throw refuse("is a device node")
            case 0o010000:
                throw refuse("is a fifo")
            case 0o140000:
                throw refuse("is a socket")
            default:
                throw refuse("has an unknown file type")
            }
        }
        try tree.finish()
        return report
    }

    /// The checked, stripped component list of a member name; nil when stripping leaves
    /// nothing. Absolute names and `..` components are refused.
    static func memberPath(_ name: String, strip: Int, refuse: (String) -> ReproError) throws -> [String]? {
        guard !name.hasPrefix("/") else { throw refuse("has an absolute path") }
        let parts = name.split(separator: "/").map(String.init).filter { $0 != "." }
        guard !parts.contains("..") else { throw refuse("has a '..' component") }
        guard parts.count > strip else { return nil }
        return Array(parts.dropFirst(strip))
    }

    static let mergedTop: Set<String> = ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "libo32"]

    static func mergeUsr(_ path: [String]) -> [String] {
        guard let first = path.first, mergedTop.contains(first) else { return path }
        return ["usr"] + path
    }

    /// Checks a symlink target and returns what to store. `original` is the link's path
    /// in the archive (after stripping), `mapped` where it is written.
    static func symlinkTarget(_ target: String, at original: [String], mapped: [String],
                              options: ExtractOptions, refuse: (String) -> ReproError) throws -> String {
        guard !target.isEmpty else { throw refuse("is a symlink with an empty target") }
        var resolved: [String]
        if target.hasPrefix("/") {
            guard options.absoluteSymlinks == .relativeToRoot else {
                throw refuse("is a symlink to the absolute path \(target), outside the root")
            }
            resolved = []
            for c in target.split(separator: "/") where c != "." {
                if c == ".." { _ = resolved.popLast() } else { resolved.append(String(c)) }
            }
        } else {
            resolved = Array(original.dropLast())
            for c in target.split(separator: "/") where c != "." {
                if c == ".." {
                    guard !resolved.isEmpty else { throw refuse("is a symlink to '\(target)', which leaves the root") }
                    resolved.removeLast()
                } else {
                    resolved.append(String(c))
                }
            }
            if !options.mergedUsr { return target }
        }
        if options.mergedUsr { resolved = mergeUsr(resolved) }
        return relative(from: Array(mapped.dropLast()), to: resolved)
    }

    /// The relative path from directory `dir` to `target` (component lists from the root).
    static func relative(from dir: [String], to target: [String]) -> String {
        var k = 0
        while k < dir.count, k < target.count, dir[k] == target[k] { k += 1 }
        let parts = Array(repeating: "..", count: dir.count - k) + target[k...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}

/// An `archive_read` handle (freed on deinit) with errors turned into `ReproError`.
final class ArchiveReader {
    enum Formats { case all, ar }
    let a: OpaquePointer
    let name: String

    init(name: String, formats: Formats = .all) throws {
        guard let a = archive_read_new() else { throw ReproError(.system, "archive_read_new failed") }
        self.a = a
        self.name = name
        archive_read_support_filter_all(a)
        switch formats {
        case .ar: archive_read_support_format_ar(a)
        case .all:
            archive_read_support_format_tar(a)
            archive_read_support_format_gnutar(a)
            archive_read_support_format_zip(a)
            archive_read_support_format_ar(a)
            archive_read_support_format_cpio(a)
        }
    }

    deinit { archive_read_free(a) }

    func check(_ status: Int32, _ what: String) throws {
        guard status < ARCHIVE_WARN else { return }
        throw failure(what)
    }

    /// The error for a failed `what`, with libarchive's message.
    func failure(_ what: String) -> ReproError {
        let msg = archive_error_string(a).map { String(cString: $0) } ?? "unknown libarchive error"
        return ReproError(.invalidInput, "cannot \(what) archive \(name): \(msg)")
    }

    /// The next entry, nil at the end.
    func next() throws -> OpaquePointer? {
        var entry: OpaquePointer?
        let r = archive_read_next_header(a, &entry)
        if r == ARCHIVE_EOF { return nil }
        try check(r, "read")
        return entry
    }

    /// The current entry's data.
    func readAll(limit: Int) throws -> Data {
        var data = Data()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = archive_read_data(a, &buf, buf.count)
            if n == 0 { break }
            if n < 0 { throw failure("read") }
            data.append(contentsOf: buf[0..<n])
            guard data.count <= limit else { throw ReproError(.invalidInput, "archive \(name): member larger than \(limit) bytes") }
        }
        return data
    }
}
