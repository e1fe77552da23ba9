import CArchive
import Core
import Foundation

/// One member of an archive, read with libarchive.
struct ArchiveMember {
    /// The name as stored (tar `./usr/bin/x`, ar `data.tar.xz`, zip `META-INF/x`).
    var name: String
    /// `file`, `dir`, `symlink`, `hardlink` or `other`.
    var type: String
    var perm: UInt32
    var size: Int64
    var mtime: Int64?
    var uid: Int64?
    var gid: Int64?
    var uname: String?
    var gname: String?
    /// Symlink or hard link target.
    var target: String?
    /// Content digest of a file member.
    var digest: Digest?
    /// The content, unless larger than the limit (then only `digest` is known).
    var data: Data?

    var info: DiffEntryInfo {
        DiffEntryInfo(type: type, mode: DiffEntryInfo.modeText(perm), size: type == "file" ? size : nil,
                      sha256: digest?.hex, target: target, mtime: mtime, uid: uid, gid: gid,
                      uname: uname, gname: gname)
    }
}

/// Reads archives from memory with libarchive, recognising them by content, not by
/// name: tar (any compression libarchive reads), ar (so .deb and static libraries),
/// zip (so .jar), cpio and 7-zip. A compressed file that is no archive (`x.gz`) reads
/// as one member, `(decompressed)`.
enum ArchiveRead {
    /// The member name given to the content of a compressed non-archive file.
    static let decompressedName = "(decompressed)"

    /// What could be read of an archive.
    struct Listing {
        var members: [ArchiveMember]
        /// libarchive's error when the archive is damaged after `members`.
        var error: String?
    }

    /// The members of `data`, or nil when it is not an archive libarchive can read
    /// (or is an archive without members).
    static func members(of data: Data, limit: Int64) -> Listing? {
        if let l = read(data, raw: false, limit: limit), !l.members.isEmpty { return l }
        // A compressed single file: libarchive's raw format behind its decompressors.
        guard isCompressed(data), var l = read(data, raw: true, limit: limit), l.members.count == 1 else { return nil }
        l.members[0].name = decompressedName
        l.members[0].mtime = nil
        return l
    }

    /// Whether libarchive recognises a compression filter on `data`.
    static func isCompressed(_ data: Data) -> Bool {
        guard let a = archive_read_new() else { return false }
        defer { archive_read_free(a) }
        archive_read_support_filter_all(a)
        archive_read_support_format_raw(a)
        return data.withUnsafeBytes { raw -> Bool in
            guard archive_read_open_memory(a, raw.baseAddress, raw.count) == ARCHIVE_OK else { return false }
            var entry: OpaquePointer?
            guard archive_read_next_header(a, &entry) == ARCHIVE_OK else { return false }
            return archive_filter_count(a) > 1
        }
    }

    private static func read(_ data: Data, raw: Bool, limit: Int64) -> Listing? {
        guard !data.isEmpty, let a = archive_read_new() else { return nil }
        defer { archive_read_free(a) }
        archive_read_support_filter_all(a)
        if raw {
            archive_read_support_format_raw(a)
        } else {
            // Not format_all: mtree and raw would take plain text files for archives.
            archive_read_support_format_tar(a)
            archive_read_support_format_gnutar(a)
            archive_read_support_format_ar(a)
            archive_read_support_format_zip(a)
            archive_read_support_format_cpio(a)
            archive_read_support_format_7zip(a)
        }
        return data.withUnsafeBytes { buf -> Listing? in
            guard archive_read_open_memory(a, buf.baseAddress, buf.count) == ARCHIVE_OK else { return nil }
            var members: [ArchiveMember] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                var entryPointer: OpaquePointer?
                let r = archive_read_next_header(a, &entryPointer)
                if r == ARCHIVE_EOF { break }
                guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let e = entryPointer else {
                    // Not an archive at all, or damaged after some members.
                    return members.isEmpty ? nil : Listing(members: members, error: error(a))
                }
                var m = member(e, raw: raw)
                if m.type == "file" {
                    let sha = SHA256Stream()
                    var bytes = Data()
                    var total: Int64 = 0
                    var keep = true
                    while true {
                        let n = archive_read_data(a, &chunk, chunk.count)
                        if n == 0 { break }
                        if n < 0 { return members.isEmpty ? nil : Listing(members: members, error: error(a)) }
                        chunk.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                        total += Int64(n)
                        if keep, total > limit { keep = false; bytes = Data() }
                        if keep { bytes.append(contentsOf: chunk[0..<n]) }
                    }
                    let d = sha.finish()
                    m.digest = d
                    m.size = total
                    m.data = keep ? bytes : nil
                }
                members.append(m)
            }
            return Listing(members: members, error: nil)
        }
    }

    private static func error(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unreadable"
    }

    private static func member(_ e: OpaquePointer, raw: Bool) -> ArchiveMember {
        let name = (archive_entry_pathname_utf8(e) ?? archive_entry_pathname(e)).map { String(cString: $0) } ?? ""
        let hard = archive_entry_hardlink(e).map { String(cString: $0) }
        let type: String
        switch archive_entry_filetype(e) & 0o170000 {
        case _ where hard != nil: type = "hardlink"
        case 0o100000: type = "file"
        case 0o040000: type = "dir"
        case 0o120000: type = "symlink"
        // ar members of `ar D` (Debian's default) carry permission bits only.
        case 0: type = "file"
        default: type = raw ? "file" : "other"
        }
        let symlink = archive_entry_symlink(e).map { String(cString: $0) }
        return ArchiveMember(
            name: name, type: type, perm: UInt32(archive_entry_perm(e)) & 0o7777, size: archive_entry_size(e),
            mtime: archive_entry_mtime_is_set(e) != 0 ? Int64(archive_entry_mtime(e)) : nil,
            uid: raw ? nil : archive_entry_uid(e), gid: raw ? nil : archive_entry_gid(e),
            uname: archive_entry_uname(e).map { String(cString: $0) },
            gname: archive_entry_gname(e).map { String(cString: $0) },
            target: hard ?? symlink, digest: nil, data: nil)
    }
}
