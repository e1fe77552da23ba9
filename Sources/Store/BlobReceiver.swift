import Core
import Foundation
import Synchronization

/// Takes many blobs into the store (a download) with one durability barrier instead of
/// one per batch: each blob is written to `tmp/` and checked against its digest as it
/// arrives (`add`, from any thread), and `commit` makes them all durable and visible at
/// once: one syncfs, the renames into `cas/`, one fsync per shard directory, one index
/// transaction. Nothing reaches `cas/` before `commit`; `abandon` (or dropping the
/// receiver) removes what was staged. The store's gc lock is held (shared) from creation
/// to the end, so gc never removes staged files.
///
/// `putBlobs` pays that barrier per call: pulling a 524 MB tree of 2,465 blobs through
/// it made ~100 syncfs and ~1,800 directory fsyncs.
public final class BlobReceiver: @unchecked Sendable {
    private let store: Store
    private let gcLock: FileLock
    private let staged = Mutex<[(tmp: String, digest: Digest)]>([])
    /// Hashing buffers, reused across blobs and threads.
    private var scratches: [TreeHasher.Scratch] = []
    private let scratchLock = NSLock()
    private let done = Mutex(false)

    init(store: Store) throws {
        self.store = store
        gcLock = try FileLock(store.gcLockPath, exclusive: false)
    }

    deinit { abandon() }

    /// Writes one blob to `tmp/`, checked against `digest`; a blob the store has is
    /// skipped.
    /// - Throws: `ReproError(.verificationFailed)` when the bytes do not match `digest`
    ///   (nothing of it is kept), `.system` on I/O errors.
    public func add(_ digest: Digest, _ data: Data) throws {
        if store.contains(digest) { return }
        let scratch = scratchLock.withLock { scratches.popLast() } ?? TreeHasher.Scratch()
        defer { scratchLock.withLock { scratches.append(scratch) } }
        var offset = 0
        // Writeback starts as each blob is written, so the one syncfs at the end waits
        // for little more than the last blobs (pull of a 524 MB tree: see docs/remote.md).
        let (d, tmp) = try store.writeTemporary(scratch: scratch, sync: false, startWriteback: true, expected: digest) { b in
            let n = min(b.count, data.count - offset)
            data.copyBytes(to: b.bindMemory(to: UInt8.self), from: offset..<(offset + n))
            offset += n
            return n
        }
        staged.withLock { $0.append((tmp, d)) }
    }

    /// Makes every added blob durable and part of the store.
    /// - Throws: `ReproError(.system)` on I/O errors (the staged files are removed).
    public func commit() throws {
        let items = staged.withLock { s in defer { s = [] }; return s }
        defer { finish() }
        guard !items.isEmpty else { return }
        do {
            try FileSupport.syncFileSystem(of: store.tmpDir)
            for p in items { try store.commit(p.tmp, as: p.digest, syncDirectory: false) }
        } catch {
            for p in items { unlink(p.tmp) }
            throw error
        }
        for shard in Set(items.map { $0.digest.hex.prefix(2) }).sorted() {
            try FileSupport.syncDirectory("\(store.casDir)/\(shard)")
        }
        try store.index(blobs: items.map(\.digest))
    }

    /// Removes what was staged and not committed.
    public func abandon() {
        for p in staged.withLock({ s in defer { s = [] }; return s }) { unlink(p.tmp) }
        finish()
    }

    private func finish() {
        if done.withLock({ d in defer { d = true }; return !d }) { gcLock.unlock() }
    }
}

extension Store {
    /// A receiver for many blobs with one durability barrier (`BlobReceiver`).
    public func blobReceiver() throws -> BlobReceiver { try BlobReceiver(store: self) }
}
