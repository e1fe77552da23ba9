import Core
import Foundation

/// The index schema, as named migrations (docs/store.md, "Index"). Digests are stored
/// as bare lowercase hex; sizes alongside; times as Unix seconds.
enum StoreSchema {
    static var migrator: Migrator {
        var m = Migrator()
        m.register("v1-blobs-trees-actions-builds-pins", """
            CREATE TABLE blobs (
                digest TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                added INTEGER NOT NULL);
            CREATE TABLE trees (
                tree TEXT PRIMARY KEY,
                manifest TEXT NOT NULL,
                manifest_size INTEGER NOT NULL,
                files INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                added INTEGER NOT NULL);
            CREATE TABLE actions (
                action TEXT PRIMARY KEY,
                tree TEXT NOT NULL,
                manifest TEXT NOT NULL,
                manifest_size INTEGER NOT NULL,
                exit_code INTEGER NOT NULL,
                log TEXT,
                log_size INTEGER,
                created INTEGER NOT NULL);
            CREATE TABLE builds (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                recipe TEXT NOT NULL,
                action TEXT NOT NULL,
                tree TEXT,
                started INTEGER NOT NULL,
                finished INTEGER);
            CREATE INDEX builds_action ON builds (action);
            CREATE TABLE pins (
                digest TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                note TEXT NOT NULL,
                added INTEGER NOT NULL);
            """)
        m.register("v2-attestations", """
            CREATE TABLE attestations (
                action TEXT NOT NULL,
                tree TEXT NOT NULL,
                envelope TEXT NOT NULL,
                envelope_size INTEGER NOT NULL,
                sbom TEXT NOT NULL,
                sbom_size INTEGER NOT NULL,
                sbom_format TEXT NOT NULL,
                keyid TEXT NOT NULL,
                created INTEGER NOT NULL,
                PRIMARY KEY (action, sbom_format));
            CREATE INDEX attestations_tree ON attestations (tree);
            """)
        return m
    }
}

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

/// One `repro build` run.
public struct BuildRecord: Hashable, Sendable, Codable {
    public var id: Int64
    public var recipe: Digest
    public var action: Digest
    public var tree: Digest?
    public var started: Int64
    public var finished: Int64?
}

extension Store {
    // MARK: action cache

    /// Records an action result (replacing an older one for the same action). The tree,
    /// manifest and log must already be in the store.
    /// - Throws: `ReproError(.invalidInput)` when a referenced blob is missing.
    public func recordAction(_ r: ActionResult) throws {
        try FileLock.with(gcLockPath, exclusive: false) {
            for d in [r.manifest] + (r.log.map { [$0] } ?? []) where !contains(d) { throw missing(d) }
            try db.write { c in try Store.insert(action: r, c) }
        }
    }

    static func insert(action r: ActionResult, _ c: Connection) throws {
        try c.execute("""
            INSERT OR REPLACE INTO actions (action, tree, manifest, manifest_size, exit_code, log, log_size, created)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(r.action.hex), .text(r.tree.hex), .text(r.manifest.hex), .int(r.manifest.size),
                  .int(Int64(r.exitCode)), r.log.map { .text($0.hex) } ?? .null,
                  r.log.map { .int($0.size) } ?? .null, .int(r.created)])
    }

    /// The recorded result of an action, or nil (a cache miss).
    public func lookupAction(_ action: Digest) throws -> ActionResult? {
        try db.read { c in
            try Store.actions(c, where: "action = ?", [.text(action.hex)]).first
        }
    }

    static func actions(_ c: Connection, where clause: String = "1", _ args: [SQLValue] = []) throws -> [ActionResult] {
        try c.query("""
            SELECT action, tree, manifest, manifest_size, exit_code, log, log_size, created
            FROM actions WHERE \(clause) ORDER BY action
            """, args).map { row in
            ActionResult(action: Digest(hex: row[0].text!, size: -1),
                         tree: Digest(hex: row[1].text!, size: row[3].int!),
                         manifest: Digest(hex: row[2].text!, size: row[3].int!),
                         exitCode: Int32(row[4].int!),
                         log: row[5].text.map { Digest(hex: $0, size: row[6].int ?? -1) },
                         created: row[7].int!)
        }
    }

    // MARK: builds

    /// Records the start of a build; returns its id.
    public func beginBuild(recipe: Digest, action: Digest) throws -> Int64 {
        try db.write { c in
            try c.execute("INSERT INTO builds (recipe, action, started) VALUES (?, ?, ?)",
                          [.text(recipe.hex), .text(action.hex), .int(FileSupport.now())])
            return try c.query("SELECT last_insert_rowid()")[0][0].int!
        }
    }

    /// Records the end of a build and its output tree (nil when it failed).
    public func finishBuild(_ id: Int64, tree: Digest?) throws {
        try db.write { c in
            try c.execute("UPDATE builds SET tree = ?, finished = ? WHERE id = ?",
                          [tree.map { .text($0.hex) } ?? .null, .int(FileSupport.now()), .int(id)])
        }
    }

    public func builds() throws -> [BuildRecord] {
        try db.read { c in
            try c.query("""
                SELECT b.id, b.recipe, b.action, b.tree, t.manifest_size, b.started, b.finished
                FROM builds b LEFT JOIN trees t ON t.tree = b.tree ORDER BY b.id
                """).map { row in
                BuildRecord(id: row[0].int!, recipe: Digest(hex: row[1].text!, size: -1),
                            action: Digest(hex: row[2].text!, size: -1),
                            tree: row[3].text.map { Digest(hex: $0, size: row[4].int ?? -1) },
                            started: row[5].int!, finished: row[6].int)
            }
        }
    }

    // MARK: pins

    /// Keeps a blob (an input, a toolchain archive) through gc until unpinned.
    public func pin(_ digest: Digest, note: String) throws {
        try db.write { c in
            try c.execute("INSERT OR REPLACE INTO pins (digest, size, note, added) VALUES (?, ?, ?, ?)",
                          [.text(digest.hex), .int(digest.size), .text(note), .int(FileSupport.now())])
        }
    }

    public func unpin(_ digest: Digest) throws {
        try db.write { c in try c.execute("DELETE FROM pins WHERE digest = ?", [.text(digest.hex)]) }
    }
}
