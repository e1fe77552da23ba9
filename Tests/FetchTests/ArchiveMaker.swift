import CArchive
import Core
import Foundation

/// Crafts archives for the extraction tests with libarchive's writer, including the
/// members a safe extractor must refuse (absolute paths, `..`, escaping links, devices).
enum ArchiveMaker {
    enum Kind {
        case file(String)
        case dir
        case symlink(String)
        case hardlink(String)
        case charDevice
        case fifo
    }

    struct Entry {
        var path: String
        var kind: Kind
        var mode: Int32 = 0o644
        var mtime: Int = 1_700_000_000
    }

    static func file(_ path: String, _ text: String = "data\n", mode: Int32 = 0o644) -> Entry { Entry(path: path, kind: .file(text), mode: mode) }
    static func dir(_ path: String) -> Entry { Entry(path: path, kind: .dir, mode: 0o755) }
    static func symlink(_ path: String, _ target: String) -> Entry { Entry(path: path, kind: .symlink(target), mode: 0o777) }
    static func hardlink(_ path: String, _ target: String) -> Entry { Entry(path: path, kind: .hardlink(target)) }

    enum Compression { case none, gzip, xz, zstd }

    /// Writes a pax tar archive of `entries` to `path`.
    static func tar(_ entries: [Entry], at path: String, compression: Compression = .none) throws {
        let a = archive_write_new()!
        defer { archive_write_free(a) }
        archive_write_set_format_pax_restricted(a)
        switch compression {
        case .none: break
        case .gzip: archive_write_add_filter_gzip(a)
        case .xz: archive_write_add_filter_xz(a)
        case .zstd: archive_write_add_filter_zstd(a)
        }
        try ok(a, archive_write_open_filename(a, path))
        for e in entries {
            let entry = archive_entry_new()!
            defer { archive_entry_free(entry) }
            archive_entry_set_pathname(entry, e.path)
            archive_entry_set_perm(entry, mode_t(e.mode))
            archive_entry_set_mtime(entry, e.mtime, 0)
            archive_entry_set_uid(entry, 0)
            archive_entry_set_gid(entry, 0)
            var body: [UInt8] = []
            switch e.kind {
            case .file(let text):
                body = Array(text.utf8)
                archive_entry_set_filetype(entry, 0o100000)
                archive_entry_set_size(entry, Int64(body.count))
            case .dir:
                archive_entry_set_filetype(entry, 0o040000)
            case .symlink(let target):
                archive_entry_set_filetype(entry, 0o120000)
                archive_entry_set_symlink(entry, target)
            case .hardlink(let target):
                archive_entry_set_filetype(entry, 0o100000)
                archive_entry_set_hardlink(entry, target)
                archive_entry_set_size(entry, 0)
            case .charDevice:
                archive_entry_set_filetype(entry, 0o020000)
                archive_entry_set_rdevmajor(entry, 1); archive_entry_set_rdevminor(entry, 3)
            case .fifo:
                archive_entry_set_filetype(entry, 0o010000)
            }
            try ok(a, archive_write_header(a, entry))
            if !body.isEmpty { _ = archive_write_data(a, body, body.count) }
        }
        try ok(a, archive_write_close(a))
    }

    /// Writes a Debian package: an `ar` archive of debian-binary, control.tar.xz (with a
    /// postinst that must never run) and data.tar.xz of `data`.
    static func deb(_ data: [Entry], at path: String, compression: Compression = .xz) throws {
        let ext = compression == .zstd ? "zst" : compression == .gzip ? "gz" : "xz"
        let tmp = NSTemporaryDirectory() + "debparts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try tar([file("./control", "Package: crafted\nVersion: 1\nArchitecture: amd64\n"),
                 file("./postinst", "#!/bin/sh\ntouch /tmp/repro-postinst-ran\n", mode: 0o755)],
                at: tmp + "/control.tar.xz", compression: .xz)
        try tar(data, at: tmp + "/data.tar.\(ext)", compression: compression)
        let members: [(String, [UInt8])] = [
            ("debian-binary", Array("2.0\n".utf8)),
            ("control.tar.xz", Array(try Data(contentsOf: URL(fileURLWithPath: tmp + "/control.tar.xz")))),
            ("data.tar.\(ext)", Array(try Data(contentsOf: URL(fileURLWithPath: tmp + "/data.tar.\(ext)")))),
        ]
        let a = archive_write_new()!
        defer { archive_write_free(a) }
        archive_write_set_format_ar_svr4(a)
        try ok(a, archive_write_open_filename(a, path))
        for (name, bytes) in members {
            let entry = archive_entry_new()!
            defer { archive_entry_free(entry) }
            archive_entry_set_pathname(entry, name)
            archive_entry_set_filetype(entry, 0o100000)
            archive_entry_set_perm(entry, 0o644)
            archive_entry_set_size(entry, Int64(bytes.count))
            try ok(a, archive_write_header(a, entry))
            _ = archive_write_data(a, bytes, bytes.count)
        }
        try ok(a, archive_write_close(a))
    }

    private static func ok(_ a: OpaquePointer, _ r: Int32) throws {
        guard r >= ARCHIVE_WARN else {
            throw ReproError(.internal, "libarchive: \(archive_error_string(a).map { String(cString: $0) } ?? "\(r)")")
        }
    }
}

/// A fresh temporary directory, removed by `cleanup()`.
struct TempDir {
    let path: String
    init(_ tag: String = "fetch") throws {
        path = NSTemporaryDirectory() + "repro-\(tag)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
    func sub(_ name: String) -> String { path + "/" + name }
}

/// Lists every path under `dir` (relative, sorted), without following symlinks.
func listTree(_ dir: String) -> [String] {
    (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).sorted()
}

/// sha256 over the names, types, sizes and contents of everything under `dir`
/// (unreadable entries count by name), to prove a directory was left unchanged.
func fingerprint(_ dir: String) -> String {
    var text = ""
    for rel in listTree(dir) {
        let path = dir + "/" + rel
        var st = stat()
        guard lstat(path, &st) == 0 else { continue }
        text += "\(rel) \(st.st_mode) \(st.st_size) \(st.st_mtim.tv_sec)"
        if (st.st_mode & S_IFMT) == S_IFREG, let d = try? Digest.ofFile(path) { text += " " + d.hex }
        if (st.st_mode & S_IFMT) == S_IFLNK, let t = try? FileManager.default.destinationOfSymbolicLink(atPath: path) { text += " -> " + t }
        text += "\n"
    }
    return Digest.of(text).hex
}
