import CArchive
import Core
import Foundation
import Store

/// The deterministic archive of a build's /out (`[outputs] archive`): entries in the
/// manifest's order (bytewise by path), modes as the manifest normalises them, mtime
/// clamped to SOURCE_DATE_EPOCH, uid/gid 0 with empty owner names, no atime/ctime (pax
/// restricted headers carry none), gzip without name or timestamp. The same tree and
/// epoch give the same bytes.
enum OutputArchive {
    static func write(_ manifest: Manifest, from dir: String, format: String, epoch: Int64, to path: String) throws {
        guard let a = archive_write_new() else { throw ReproError(.system, "archive_write_new failed") }
        defer { archive_write_free(a) }
        func fail(_ call: String) -> ReproError {
            ReproError(.system, "\(call) \(path): \(archive_error_string(a).map { String(cString: $0) } ?? "unknown error")")
        }
        archive_write_set_format_pax_restricted(a)
        switch format {
        case "tar": archive_write_add_filter_none(a)
        case "tar.gz":
            archive_write_add_filter_gzip(a)
            guard archive_write_set_filter_option(a, "gzip", "timestamp", nil) == ARCHIVE_OK else { throw fail("gzip option") }
        case "tar.xz": archive_write_add_filter_xz(a)
        default: throw ReproError(.invalidInput, "unknown archive format '\(format)' (tar, tar.gz, tar.xz)")
        }
        archive_write_set_bytes_in_last_block(a, 1)
        guard archive_write_open_filename(a, path) == ARCHIVE_OK else { throw fail("archive_write_open_filename") }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        for entry in manifest.entries {
            guard let e = archive_entry_new() else { throw ReproError(.system, "archive_entry_new failed") }
            defer { archive_entry_free(e) }
            archive_entry_set_pathname(e, entry.path)
            archive_entry_set_mtime(e, time_t(epoch), 0)
            archive_entry_set_uid(e, 0)
            archive_entry_set_gid(e, 0)
            archive_entry_set_perm(e, mode_t(entry.mode))
            switch entry.kind {
            case .dir:
                archive_entry_set_filetype(e, 0o040000)
            case .symlink:
                archive_entry_set_filetype(e, 0o120000)
                archive_entry_set_symlink(e, entry.target ?? "")
            case .file:
                archive_entry_set_filetype(e, 0o100000)
                archive_entry_set_size(e, entry.digest?.size ?? 0)
            }
            guard archive_write_header(a, e) == ARCHIVE_OK else { throw fail("archive_write_header \(entry.path)") }
            guard entry.kind == .file else { continue }
            let fd = open(dir + "/" + entry.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw ReproError(.system, "open \(entry.path): \(Syscall.errorString(errno))") }
            defer { close(fd) }
            while true {
                let n = try Syscall.check("read \(entry.path)") { buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
                if n == 0 { break }
                guard archive_write_data(a, buf, n) == n else { throw fail("archive_write_data \(entry.path)") }
            }
        }
        guard archive_write_close(a) == ARCHIVE_OK else { throw fail("archive_write_close") }
    }
}
