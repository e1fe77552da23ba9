import Core
import Foundation
import GRDB
import Synchronization

/// A recorded tree: its digest (= the manifest blob's digest) and totals.
public struct TreeRecord: Hashable, Sendable, Codable {
    public var tree: Digest
    public var files: Int64
    public var bytes: Int64
}

extension Store {
    /// Stores every file of `dir` and its manifest, and records the tree, reading each
    /// file once (hash and copy together, in parallel across cores).
    /// - Returns: the tree digest and the manifest.
    /// - Throws: `ReproError(.invalidInput)` for what an output cannot carry (see
    ///   `TreeHasher`), `ReproError(.system)` on I/O errors.
    @discardableResult
    public func putTree(_ dir: String) throws -> (treeDigest: Digest, manifest: Manifest) {
        try FileLock.with(gcLockPath, exclusive: false) {
            // Every file is copied to a temporary file, then one syncfs(2) makes them all
            // durable before any takes its blob name: the same guarantee as an fsync
            // each, without a journal commit per file (20,000 output files: 20,264
            // fsyncs, most of a 10 s build).
            let pending = Mutex<[(tmp: String, digest: Digest)]>([])
            let manifest: Manifest
            do {
                manifest = try TreeHasher.manifest(of: dir, workers: nil) { file, scratch in
                    let (digest, tmp) = try self.writeTemporary(fromFile: file, scratch: scratch, sync: false)
                    pending.withLock { $0.append((tmp, digest)) }
                    return digest
                }
                try FileSupport.syncFileSystem(of: tmpDir)
                for p in pending.withLock({ $0 }) { try commit(p.tmp, as: p.digest, syncDirectory: false) }
            } catch {
                for p in pending.withLock({ $0 }) { unlink(p.tmp) }
                throw error
            }
            var offset = 0
            let data = manifest.data
            let tree = try writeBlob(scratch: TreeHasher.Scratch(), syncDirectory: false) { b in
                let n = min(b.count, data.count - offset)
                data.copyBytes(to: b.bindMemory(to: UInt8.self), from: offset..<(offset + n))
                offset += n
                return n
            }
            let blobs = manifest.blobDigests + [tree]
            for shard in Set(blobs.map { $0.hex.prefix(2) }).sorted() {
                try FileSupport.syncDirectory("\(casDir)/\(shard)")
            }
            let now = FileSupport.now()
            try db.write { db in
                try Store.insert(blobs: blobs, now: now, db)
                try Store.insert(tree: tree, manifest: manifest, now: now, db)
            }
            return (tree, manifest)
        }
    }

    static func insert(tree: Digest, manifest: Manifest, now: Int64, _ db: GRDB.Database) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO trees (tree, manifest, manifest_size, files, bytes, added)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [tree.hex, tree.hex, tree.size, Int64(manifest.files), manifest.bytes, now])
    }

    /// Recorded trees, sorted by digest.
    public func trees() throws -> [TreeRecord] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT tree, manifest_size, files, bytes FROM trees ORDER BY tree").map {
                TreeRecord(tree: Digest(hex: $0[0], size: $0[1]), files: $0[2], bytes: $0[3])
            }
        }
    }

    /// The manifest of a stored tree, checked against the tree digest.
    public func manifest(tree: Digest) throws -> Manifest {
        let data = try get(tree)
        let manifest = try Manifest.parse(data)
        guard manifest.data == data else {
            throw ReproError(.verificationFailed, "manifest \(tree) in the store is not canonical; run `repro store verify`")
        }
        return manifest
    }

    /// Recreates a stored tree at `dir` (which must not exist, or be empty): directories
    /// 0755, files 0644/0755, symbolic links as recorded. Each file is checked against its
    /// digest while it is copied. All or nothing: the tree is restored into a hidden
    /// sibling of `dir` and renamed onto it at the end; on any failure nothing is left.
    /// - Throws: `ReproError(.invalidInput)` when `dir` is not empty or the tree is not
    ///   in the store, `ReproError(.verificationFailed)` when a blob is missing or corrupt.
    public func restoreTree(_ tree: Digest, to dir: String) throws {
        let manifest = try manifest(tree: tree)
        var isDir: ObjCBool = false
        let existed = FileManager.default.fileExists(atPath: dir, isDirectory: &isDir)
        if existed {
            guard isDir.boolValue, (try? FileManager.default.contentsOfDirectory(atPath: dir))?.isEmpty == true else {
                throw ReproError(.invalidInput, "\(dir) already exists and is not empty; give a new or empty directory (outputs are never written over other files)")
            }
        }
        let parent = (dir as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent.isEmpty ? "." : parent, withIntermediateDirectories: true)
        let staging = (parent.isEmpty ? "." : parent) + "/.\((dir as NSString).lastPathComponent).repro-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try Syscall.check("mkdir \(staging)") { mkdir(staging, 0o755) }
            try restoreEntries(manifest, into: staging)
            if existed { try Syscall.check("rmdir \(dir)") { rmdir(dir) } }
            try Syscall.check("rename \(staging) -> \(dir)") { rename(staging, dir) }
        } catch {
            try? RemoveTree.remove(staging)
            throw error
        }
    }

    private func restoreEntries(_ manifest: Manifest, into dir: String) throws {
        for e in manifest.entries where e.kind == .dir {
            let path = dir + "/" + e.path
            try Syscall.check("mkdir \(path)") { mkdir(path, 0o755) }
            try Syscall.check("chmod \(path)") { chmod(path, 0o755) }
        }
        let files = manifest.entries.filter { $0.kind == .file }
        _ = try TreeHasher.parallel(files, workers: nil) { e, scratch in
            try self.copyBlob(e.digest!, to: dir + "/" + e.path, mode: mode_t(e.mode), scratch: scratch)
        }
        for e in manifest.entries where e.kind == .symlink {
            let path = dir + "/" + e.path
            try Syscall.check("symlink \(path)") { symlink(e.target!, path) }
        }
    }

    /// Copies a blob to a new file, hashing as it goes.
    func copyBlob(_ digest: Digest, to path: String, mode: mode_t, scratch: TreeHasher.Scratch) throws -> Digest {
        let buffer = scratch.buffer, h = scratch.sha
        h.reset()
        let source = blobPath(digest.hex)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            throw ReproError(.verificationFailed, "blob \(digest) is missing from the store at \(root); run `repro store verify`")
        }
        defer { close(input) }
        let output = try Syscall.check("open \(path)") { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        defer { close(output) }
        while true {
            let n = try Syscall.check("read \(source)") { read(input, buffer.baseAddress, buffer.count) }
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            h.update(chunk)
            try FileSupport.writeAll(output, chunk, path: path)
        }
        let actual = h.finish()
        do {
            try check(digest, actual: actual)
        } catch {
            unlink(path)
            throw error
        }
        try Syscall.check("fchmod \(path)") { fchmod(output, mode) }
        return actual
    }
}
