import CArchive
import Core
import Foundation
import GRDB

/// What `export` wrote or `import` added.
public struct TransferReport: Sendable, Codable, Hashable {
    public var blobs: Int
    public var bytes: Int64
    public var trees: Int
    public var actions: Int
    /// Provenance envelopes with their SBOMs (one per action and SBOM format).
    public var attestations: Int
}

/// The index rows an export carries (`index.json` in the archive).
struct ExportIndex: Codable {
    static let currentFormat = "repro-store-export/1"
    var format: String
    var trees: [Digest]
    var actions: [ActionResult]
    var pins: [Pin]
    /// Absent in exports made before attestations travelled.
    var attestations: [AttestationRecord]?

    struct Pin: Codable {
        var digest: Digest
        var note: String
    }
}

extension Store {
    /// Writes one deterministic tar (pax restricted; names sorted; mtime 0; uid/gid 0
    /// without names; mode 0444) carrying `blobs/sha256/<hex>` for every blob needed and
    /// `index.json` with the trees, actions and pins whose blobs are all included.
    /// - Parameter digests: trees, actions or plain blobs to carry; empty: everything.
    /// - Throws: `ReproError(.invalidInput)` for a digest the store does not have,
    ///   `ReproError(.verificationFailed)` when a blob is corrupt (nothing is written).
    @discardableResult
    public func export(to file: String, digests: [Digest] = []) throws -> TransferReport {
        var (index, hexes) = try db.read { db -> (ExportIndex, Set<String>) in
            let allTrees = try Row.fetchAll(db, sql: "SELECT tree, manifest_size FROM trees").map { Digest(hex: $0[0], size: $0[1]) }
            let allActions = try Store.actions(db)
            let allPins = try PinRow.fetchAll(db).map {
                ExportIndex.Pin(digest: Digest(hex: $0.digest, size: $0.size), note: $0.note)
            }
            let allAttestations = try Store.attestations(db)
            if digests.isEmpty {
                let blobs = Set(try String.fetchAll(db, sql: "SELECT digest FROM blobs"))
                return (ExportIndex(format: ExportIndex.currentFormat, trees: allTrees, actions: allActions, pins: allPins,
                                    attestations: allAttestations), blobs)
            }
            var index = ExportIndex(format: ExportIndex.currentFormat, trees: [], actions: [], pins: allPins, attestations: [])
            var blobs = Set<String>()
            for d in digests {
                if let a = allActions.first(where: { $0.action.hex == d.hex }) {
                    index.actions.append(a)
                    index.trees.append(allTrees.first { $0.hex == a.tree.hex } ?? a.manifest)
                    if let log = a.log { blobs.insert(log.hex) }
                    for r in allAttestations where r.action.hex == a.action.hex {
                        index.attestations?.append(r)
                        blobs.formUnion([r.envelope.hex, r.sbom.hex])
                    }
                } else if let t = allTrees.first(where: { $0.hex == d.hex }) {
                    index.trees.append(t)
                } else if FileSupport.size(blobPath(d.hex)) != nil {
                    blobs.insert(d.hex)
                } else {
                    throw missing(d)
                }
            }
            return (index, blobs)
        }
        for tree in index.trees {
            hexes.insert(tree.hex)
            hexes.formUnion(try manifest(tree: tree).blobDigests.map(\.hex))
        }
        // Rows travel only with their blobs.
        index.trees = Array(Set(index.trees.filter { hexes.contains($0.hex) })).sorted()
        index.actions = index.actions.filter { a in
            hexes.contains(a.manifest.hex) && (a.log.map { hexes.contains($0.hex) } ?? true)
        }.sorted { $0.action < $1.action }
        index.pins = index.pins.filter { hexes.contains($0.digest.hex) }.sorted { $0.digest < $1.digest }
        let trees = Set(index.trees.map(\.hex))
        index.actions = index.actions.filter { trees.contains($0.tree.hex) }
        let actions = Set(index.actions.map(\.action.hex))
        index.attestations = index.attestations?.filter {
            actions.contains($0.action.hex) && hexes.contains($0.envelope.hex) && hexes.contains($0.sbom.hex)
        }

        let tmp = "\(file).tmp.\(getpid())"
        do {
            let writer = try ArchiveWriter(path: tmp)
            var bytes: Int64 = 0
            for hex in hexes.sorted() {
                bytes += try writer.addBlob(self, hex: hex)
            }
            try writer.add(name: "index.json", data: try CanonicalJSON.encode(index, pretty: true))
            try writer.close()
            try Syscall.check("rename \(tmp) -> \(file)") { rename(tmp, file) }
            return TransferReport(blobs: hexes.count, bytes: bytes, trees: index.trees.count, actions: index.actions.count,
                                  attestations: index.attestations?.count ?? 0)
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// Reads an export: every blob is hashed before it is added (a mismatch stops the
    /// import), then the trees, actions and pins whose blobs are present are recorded.
    /// Existing action records win over imported ones.
    /// - Throws: `ReproError(.invalidInput)` for a file that is not an export,
    ///   `ReproError(.verificationFailed)` for a blob that does not match its name.
    @discardableResult
    public func `import`(from file: String) throws -> TransferReport {
        try FileLock.with(gcLockPath, exclusive: false) {
            let reader = try ArchiveReader(path: file)
            let scratch = TreeHasher.Scratch()
            var blobs: [Digest] = [], bytes: Int64 = 0
            var index: ExportIndex?
            while let (name, size) = try reader.next() {
                if name.hasPrefix("blobs/sha256/") {
                    let expected = try Digest.parse(String(name.dropFirst("blobs/sha256/".count)), size: size)
                    let d = try writeBlob(scratch: scratch, syncDirectory: false, expected: expected) { b in
                        try reader.read(into: b)
                    }
                    blobs.append(d)
                    bytes += d.size
                } else if name == "index.json" {
                    let data = try reader.readAll()
                    index = try? JSONDecoder().decode(ExportIndex.self, from: data)
                    guard index?.format == ExportIndex.currentFormat else {
                        throw ReproError(.invalidInput, "\(file): index.json is not a \(ExportIndex.currentFormat) index")
                    }
                } else {
                    throw ReproError(.invalidInput, "\(file): unexpected entry '\(name)'; not a `repro store export` archive")
                }
            }
            guard let index else {
                throw ReproError(.invalidInput, "\(file): no index.json; not a `repro store export` archive")
            }
            for shard in Set(blobs.map { $0.hex.prefix(2) }).sorted() {
                try FileSupport.syncDirectory("\(casDir)/\(shard)")
            }
            var trees: [(Digest, Manifest)] = []
            for t in index.trees {
                guard contains(t), let m = try? manifest(tree: t), m.blobDigests.allSatisfy(contains) else { continue }
                trees.append((t, m))
            }
            let treeSet = Set(trees.map { $0.0.hex })
            let actions = index.actions.filter { a in
                treeSet.contains(a.tree.hex) && (a.log.map(contains) ?? true)
            }
            let now = FileSupport.now()
            var attestations = 0
            try db.write { db in
                try Store.insert(blobs: blobs, now: now, db)
                for (t, m) in trees { try Store.insert(tree: t, manifest: m, now: now, db) }
                for a in actions where try !ActionRow.exists(db, key: a.action.hex) {
                    try Store.insert(action: a, db)
                }
                for p in index.pins where contains(p.digest) {
                    try PinRow(digest: p.digest.hex, size: p.digest.size, note: p.note, added: now).insert(db, onConflict: .ignore)
                }
                // An attestation travels with its blobs, for an action this store now has
                // (imported or its own); one already recorded wins.
                for r in index.attestations ?? [] where contains(r.envelope) && contains(r.sbom) {
                    guard try ActionRow.filter(Column("action") == r.action.hex && Column("tree") == r.tree.hex).fetchCount(db) > 0
                    else { continue }
                    try Store.insert(attestation: r, replacing: false, db)
                    attestations += db.changesCount
                }
            }
            return TransferReport(blobs: blobs.count, bytes: bytes, trees: trees.count, actions: actions.count,
                                  attestations: attestations)
        }
    }
}

/// A deterministic tar written with libarchive (archive_write_*).
private final class ArchiveWriter {
    private let a: OpaquePointer
    private let path: String
    private var closed = false

    init(path: String) throws {
        a = archive_write_new()
        self.path = path
        archive_write_set_format_pax_restricted(a)
        archive_write_add_filter_none(a)
        archive_write_set_bytes_in_last_block(a, 1)
        guard archive_write_open_filename(a, path) == ARCHIVE_OK else { throw failure("archive_write_open_filename") }
    }

    deinit {
        if !closed { archive_write_close(a) }
        archive_write_free(a)
    }

    private func failure(_ call: String) -> ReproError {
        ReproError(.system, "\(call) \(path): \(archive_error_string(a).map { String(cString: $0) } ?? "unknown error")")
    }

    private func header(_ name: String, size: Int64) throws {
        let e = archive_entry_new()
        defer { archive_entry_free(e) }
        archive_entry_set_pathname(e, name)
        archive_entry_set_size(e, size)
        archive_entry_set_filetype(e, 0o100000)
        archive_entry_set_perm(e, 0o444)
        archive_entry_set_mtime(e, 0, 0)
        archive_entry_set_uid(e, 0)
        archive_entry_set_gid(e, 0)
        guard archive_write_header(a, e) == ARCHIVE_OK else { throw failure("archive_write_header") }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        guard archive_write_data(a, bytes.baseAddress, bytes.count) == bytes.count else { throw failure("archive_write_data") }
    }

    func add(name: String, data: Data) throws {
        try header(name, size: Int64(data.count))
        try data.withUnsafeBytes { try write($0) }
    }

    /// Streams a blob in, checking its hash on the way; returns its size.
    func addBlob(_ store: Store, hex: String) throws -> Int64 {
        let path = store.blobPath(hex)
        guard let size = FileSupport.size(path) else { throw store.missing(Digest(hex: hex, size: -1)) }
        try header("blobs/sha256/\(hex)", size: size)
        let fd = try Syscall.check("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { Glibc.close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: TreeHasher.chunk, alignment: 64)
        defer { buffer.deallocate() }
        let h = SHA256Stream()
        var total: Int64 = 0
        while total < size {
            let n = try Syscall.check("read \(path)") { read(fd, buffer.baseAddress, min(buffer.count, Int(size - total))) }
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            h.update(chunk)
            try write(chunk)
            total += Int64(n)
        }
        try store.check(Digest(hex: hex, size: size), actual: h.finish())
        return size
    }

    func close() throws {
        closed = true
        guard archive_write_close(a) == ARCHIVE_OK else { throw failure("archive_write_close") }
    }
}

/// Reads tar entries with libarchive (archive_read_*).
private final class ArchiveReader {
    private let a: OpaquePointer
    private let path: String

    init(path: String) throws {
        a = archive_read_new()
        self.path = path
        archive_read_support_format_tar(a)
        archive_read_support_filter_all(a)
        guard archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK else {
            let why = archive_error_string(a).map { String(cString: $0) } ?? "cannot open"
            throw ReproError(.invalidInput, "\(path): \(why)")
        }
    }

    deinit { archive_read_free(a) }

    private func failure(_ call: String) -> ReproError {
        ReproError(.invalidInput, "\(path): \(call): \(archive_error_string(a).map { String(cString: $0) } ?? "unknown error")")
    }

    /// The next regular file's name and size, or nil at the end.
    func next() throws -> (String, Int64)? {
        var entry: OpaquePointer?
        let rc = archive_read_next_header(a, &entry)
        if rc == ARCHIVE_EOF { return nil }
        guard rc == ARCHIVE_OK, let entry else { throw failure("archive_read_next_header") }
        guard let name = archive_entry_pathname(entry).map({ String(cString: $0) }) else {
            throw ReproError(.invalidInput, "\(path): an entry has no name")
        }
        guard archive_entry_filetype(entry) == 0o100000 else {
            throw ReproError(.invalidInput, "\(path): '\(name)' is not a regular file; not a `repro store export` archive")
        }
        return (name, archive_entry_size(entry))
    }

    /// Reads the current entry's data (archive_read_data); 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = archive_read_data(a, buffer.baseAddress, buffer.count)
        guard n >= 0 else { throw failure("archive_read_data") }
        return n
    }

    func readAll() throws -> Data {
        var out = Data()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try read(into: buffer)
            if n == 0 { return out }
            out.append(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: n)
        }
    }
}
