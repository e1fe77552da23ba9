import Core
import Foundation
import GRDB

/// What a finished action produced: the action cache entry.
public struct ActionResult: Hashable, Sendable, Codable {
    public var action: Digest
    /// The tree digest of /out (equal to `manifest`: the manifest blob's digest).
    public var tree: Digest
    public var manifest: Digest
    public var exitCode: Int32
    public var log: Digest?
    /// Unix seconds.
    public var created: Int64

    public init(action: Digest, tree: Digest, manifest: Digest, exitCode: Int32, log: Digest?, created: Int64 = Int64(Date().timeIntervalSince1970)) {
        self.action = action
        self.tree = tree
        self.manifest = manifest
        self.exitCode = exitCode
        self.log = log
        self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case action, tree, manifest, log, created
        case exitCode = "exit_code"
    }
}

/// A row of `actions`.
struct ActionRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "actions"
    var action: String
    var tree: String
    var manifest: String
    var manifestSize: Int64
    var exitCode: Int64
    var log: String?
    var logSize: Int64?
    var created: Int64

    enum CodingKeys: String, CodingKey {
        case action, tree, manifest, log, created
        case manifestSize = "manifest_size", exitCode = "exit_code", logSize = "log_size"
    }

    init(_ r: ActionResult) {
        action = r.action.hex; tree = r.tree.hex; manifest = r.manifest.hex; manifestSize = r.manifest.size
        exitCode = Int64(r.exitCode); log = r.log?.hex; logSize = r.log?.size; created = r.created
    }

    var result: ActionResult {
        ActionResult(action: Digest(hex: action, size: -1), tree: Digest(hex: tree, size: manifestSize),
                     manifest: Digest(hex: manifest, size: manifestSize), exitCode: Int32(exitCode),
                     log: log.map { Digest(hex: $0, size: logSize ?? -1) }, created: created)
    }
}

extension Store {
    // MARK: action cache

    /// Records an action result (replacing an older one for the same action). The tree,
    /// manifest and log must already be in the store.
    /// - Throws: `ReproError(.invalidInput)` when a referenced blob is missing.
    public func recordAction(_ r: ActionResult) throws {
        try FileLock.with(gcLockPath, exclusive: false) {
            for d in [r.manifest] + (r.log.map { [$0] } ?? []) where !contains(d) { throw missing(d) }
            try db.write { db in try Store.insert(action: r, db) }
        }
    }

    static func insert(action r: ActionResult, _ db: GRDB.Database) throws {
        try ActionRow(r).insert(db, onConflict: .replace)
    }

    /// The recorded result of an action, or nil (a cache miss).
    public func lookupAction(_ action: Digest) throws -> ActionResult? {
        try db.read { db in try ActionRow.fetchOne(db, key: action.hex)?.result }
    }

    /// Every recorded action, by action digest.
    static func actions(_ db: GRDB.Database) throws -> [ActionResult] {
        try ActionRow.order(Column("action")).fetchAll(db).map(\.result)
    }
}
