import Core
import Foundation

extension Store {
    /// Adds blobs that arrived from elsewhere (a remote CAS): each is hashed and checked
    /// against its expected digest before it takes its name, then one syncfs makes them
    /// all durable before any is renamed into `cas/` (as `putTree`). Nothing of a batch
    /// is stored when one blob does not match.
    /// - Throws: `ReproError(.verificationFailed)` naming the blob whose bytes do not
    ///   match, `ReproError(.system)` on I/O errors.
    public func putBlobs(_ blobs: [(digest: Digest, data: Data)]) throws {
        guard !blobs.isEmpty else { return }
        try FileLock.with(gcLockPath, exclusive: false) {
            let scratch = TreeHasher.Scratch()
            var pending: [(tmp: String, digest: Digest)] = []
            do {
                for (expected, data) in blobs where !contains(expected) {
                    var offset = 0
                    let (d, tmp) = try writeTemporary(scratch: scratch, sync: false, expected: expected) { b in
                        let n = min(b.count, data.count - offset)
                        data.copyBytes(to: b.bindMemory(to: UInt8.self), from: offset..<(offset + n))
                        offset += n
                        return n
                    }
                    pending.append((tmp, d))
                }
                if !pending.isEmpty { try FileSupport.syncFileSystem(of: tmpDir) }
                for p in pending { try commit(p.tmp, as: p.digest, syncDirectory: false) }
            } catch {
                for p in pending { unlink(p.tmp) }
                throw error
            }
            for shard in Set(pending.map { $0.digest.hex.prefix(2) }).sorted() {
                try FileSupport.syncDirectory("\(casDir)/\(shard)")
            }
            try index(blobs: blobs.map(\.digest))
        }
    }

    /// Records a tree whose manifest and every blob are already in the store (after
    /// `putBlobs`); returns its manifest.
    /// - Throws: `ReproError(.verificationFailed)` when the manifest is not canonical or
    ///   a blob it names is missing.
    @discardableResult
    public func recordTree(_ tree: Digest) throws -> Manifest {
        try FileLock.with(gcLockPath, exclusive: false) {
            let m = try manifest(tree: tree)
            for d in m.blobDigests where !contains(d) {
                throw ReproError(.verificationFailed, "tree \(tree) names blob \(d), which is not in the store; not recorded")
            }
            let now = FileSupport.now()
            try db.write { c in try Store.insert(tree: tree, manifest: m, now: now, c) }
            return m
        }
    }
}
