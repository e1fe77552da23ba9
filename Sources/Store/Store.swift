import CLinux
import Core
import Foundation
import GRDB

/// The content-addressed store under `$REPRO_HOME` (docs/store.md):
///
///     cas/sha256/ab/<hex>   blobs, read-only, named by their SHA-256
///     tmp/                  temporary files of writes in progress
///     index.sqlite          the SQLite index (blobs, trees, actions, builds, pins)
///     index.lock            flock(2)ed exclusively by index writers
///     gc.lock               flock(2)ed shared by writers, exclusively by gc
///
/// Blobs are written atomically (temporary file in `tmp/`, fsync, rename, fsync of the
/// directory; a tree's files with one syncfs for all) and are idempotent: two processes writing the same blob both succeed. Reads
/// check size and hash. Safe to use from several threads and several processes.
public final class Store: Sendable {
    public let root: String
    let db: StoreIndex

    var casDir: String { root + "/cas/sha256" }
    var tmpDir: String { root + "/tmp" }
    var gcLockPath: String { root + "/gc.lock" }

    /// `$REPRO_HOME`, or `~/.cache/repro`.
    public static var defaultRoot: String {
        if let home = ProcessInfo.processInfo.environment["REPRO_HOME"], !home.isEmpty { return home }
        let user = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return user + "/.cache/repro"
    }

    /// Opens (creating) the store at `root` (default `defaultRoot`) and migrates its index.
    /// - Throws: `ReproError(.system)` when the directories or the index cannot be made.
    public init(root: String? = nil) throws {
        var path = root ?? Store.defaultRoot
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        self.root = path
        do {
            try FileManager.default.createDirectory(atPath: path + "/cas/sha256", withIntermediateDirectories: true)
        } catch {
            throw ReproError(.system, "cannot create the store at \(path): \((error as NSError).localizedDescription); check its permissions or use another (--store DIR, REPRO_HOME)")
        }
        try FileSupport.makeDirectory(path + "/tmp")
        // Each build and test run makes a working directory under tmp/ and removes it
        // after. On ext4 without a journal, a new inode is not given a slot freed in the
        // last minute, so the allocator scans past every inode the last run freed: creating
        // a test run's copy of a 620-file working tree took 210 ms instead of 45. With
        // the top-directory attribute, each run's directory goes to another block group.
        // Best effort: other file systems have no such attribute, and need none.
        _ = repro_set_topdir(path + "/tmp")
        db = try StoreIndex(path: path + "/index.sqlite", lockPath: path + "/index.lock")
    }

    /// Where the blob with `hex` lives (whether or not it is there).
    public func blobPath(_ hex: String) -> String {
        "\(casDir)/\(hex.prefix(2))/\(hex)"
    }

    // MARK: writing blobs

    /// Stores a file's content (streamed); returns its digest.
    /// - Throws: `ReproError(.invalidInput)` when the file cannot be opened,
    ///   `ReproError(.system)` on I/O errors (the store is left without a partial blob).
    @discardableResult
    public func put(file: String) throws -> Digest {
        try FileLock.with(gcLockPath, exclusive: false) {
            let d = try writeBlob(fromFile: TreeHasher.FileRef(path: file), scratch: TreeHasher.Scratch(), syncDirectory: true)
            try index(blobs: [d])
            return d
        }
    }

    /// Stores bytes; returns their digest.
    @discardableResult
    public func put(data: Data) throws -> Digest {
        var offset = 0
        return try put { buffer in
            let n = min(buffer.count, data.count - offset)
            data.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: offset..<(offset + n))
            offset += n
            return n
        }
    }

    /// Stores what `source` produces: it fills the buffer and returns the byte count,
    /// 0 at the end. If `source` throws, nothing is stored and the error is rethrown.
    @discardableResult
    public func put(_ source: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> Digest {
        try FileLock.with(gcLockPath, exclusive: false) {
            let d = try writeBlob(scratch: TreeHasher.Scratch(), syncDirectory: true, source)
            try index(blobs: [d])
            return d
        }
    }

    func writeBlob(fromFile file: TreeHasher.FileRef, scratch: TreeHasher.Scratch, syncDirectory: Bool) throws -> Digest {
        let (digest, tmp) = try writeTemporary(fromFile: file, scratch: scratch, sync: true)
        try commitOrRemove(tmp, as: digest, syncDirectory: syncDirectory)
        return digest
    }

    /// `writeTemporary` with the content of a regular file (opened without following a
    /// link).
    func writeTemporary(fromFile file: TreeHasher.FileRef, scratch: TreeHasher.Scratch, sync: Bool) throws -> (Digest, String) {
        let fd = try scratch.openRegular(file)
        defer { close(fd) }
        return try writeTemporary(scratch: scratch, sync: sync) { b in
            try Syscall.check("read \(file.path)") { read(fd, b.baseAddress, b.count) }
        }
    }

    /// The atomic write: temporary file in `tmp/` (O_EXCL), hash while writing, fsync,
    /// rename into `cas/`, fsync of the shard directory when asked. Leaves no temporary
    /// file behind on error.
    func writeBlob(scratch: TreeHasher.Scratch, syncDirectory: Bool, expected: Digest? = nil,
                   _ source: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> Digest {
        let (digest, tmp) = try writeTemporary(scratch: scratch, sync: true, expected: expected, source)
        try commitOrRemove(tmp, as: digest, syncDirectory: syncDirectory)
        return digest
    }

    /// The first half of a blob write: a temporary file in `tmp/` (O_EXCL) with the
    /// bytes of `source`, hashed while written, fsynced when `sync`; checked against
    /// `expected`. Nothing is left behind on error.
    /// - Returns: the digest and the temporary file, for `commit`.
    func writeTemporary(scratch: TreeHasher.Scratch, sync: Bool, startWriteback: Bool = false, expected: Digest? = nil,
                        _ source: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> (Digest, String) {
        let tmp = "\(tmpDir)/blob.\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let fd = try Syscall.check("open \(tmp)") { open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444) }
        defer { close(fd) }
        do {
            let buffer = scratch.buffer, h = scratch.sha
            h.reset()
            while true {
                let n = try source(buffer)
                if n == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                h.update(chunk)
                try FileSupport.writeAll(fd, chunk, path: tmp)
            }
            let digest = h.finish()
            if let expected, expected.hex != digest.hex || (expected.size >= 0 && expected.size != digest.size) {
                throw ReproError(.verificationFailed, "\(expected): content hashes to \(digest) (\(digest.size) bytes); not stored")
            }
            if sync {
                try Syscall.check("fsync \(tmp)") { fsync(fd) }
            } else if startWriteback {
                _ = repro_start_writeback(fd)  // best effort: the caller's syncfs is the barrier
            }
            return (digest, tmp)
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// `commit`, removing the temporary file when that fails.
    private func commitOrRemove(_ tmp: String, as digest: Digest, syncDirectory: Bool) throws {
        do {
            try commit(tmp, as: digest, syncDirectory: syncDirectory)
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// The second half: renames a durable temporary file to its blob name; fsyncs the
    /// shard directory when asked. A blob already there is replaced too (without the
    /// directory fsync): the temporary was just hashed, while the stored copy may have
    /// rotted, and a rename is as cheap as the unlink it replaces. So writing a blob
    /// again repairs it (`repro build --no-cache` after a corrupt output blob).
    func commit(_ tmp: String, as digest: Digest, syncDirectory: Bool) throws {
        let shard = "\(casDir)/\(digest.hex.prefix(2))"
        let final = "\(shard)/\(digest.hex)"
        try FileSupport.makeDirectory(shard)
        let existed = FileSupport.size(final) == digest.size
        try Syscall.check("rename \(tmp) -> \(final)") { rename(tmp, final) }
        if syncDirectory && !existed { try FileSupport.syncDirectory(shard) }
    }

    /// Records blobs in the index (already durable on disk).
    func index(blobs: [Digest]) throws {
        let now = FileSupport.now()
        try db.write { db in try Store.insert(blobs: blobs, now: now, db) }
    }

    static func insert(blobs: [Digest], now: Int64, _ db: GRDB.Database) throws {
        let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO blobs (digest, size, added) VALUES (?, ?, ?)")
        for d in blobs { try statement.execute(arguments: [d.hex, d.size, now]) }
    }

    // MARK: reading blobs

    /// Whether the blob is present with its size (size -1: any size). Does not hash.
    public func contains(_ digest: Digest) -> Bool {
        guard let size = FileSupport.size(blobPath(digest.hex)) else { return false }
        return digest.size < 0 || size == digest.size
    }

    /// The path of a present blob, after checking its size and hash. Do not modify it.
    /// - Throws: `ReproError(.invalidInput)` when absent, `ReproError(.verificationFailed)`
    ///   when corrupt.
    public func path(for digest: Digest) throws -> String {
        let path = blobPath(digest.hex)
        guard FileSupport.size(path) != nil else { throw missing(digest) }
        let actual = try Digest.ofFile(path)
        try check(digest, actual: actual)
        return path
    }

    /// The bytes of a blob, checked (size and hash).
    public func get(_ digest: Digest) throws -> Data {
        let path = blobPath(digest.hex)
        guard let data = FileManager.default.contents(atPath: path) else { throw missing(digest) }
        try check(digest, actual: Digest.of(data))
        return data
    }

    func check(_ expected: Digest, actual: Digest) throws {
        if actual.hex != expected.hex || (expected.size >= 0 && actual.size != expected.size) {
            throw corrupt(expected, actual: actual)
        }
    }

    func missing(_ digest: Digest) -> ReproError {
        ReproError(.invalidInput, "\(digest) is not in the store at \(root); fetch, build or `repro store import` it first")
    }

    func corrupt(_ digest: Digest, actual: Digest) -> ReproError {
        ReproError(.verificationFailed,
                   "blob \(digest) in the store is corrupt (\(blobPath(digest.hex)) has \(actual.size) bytes hashing to \(actual)); "
                   + "run `repro store verify` to list every damaged blob, then `repro store gc` and rebuild or re-import")
    }
}
