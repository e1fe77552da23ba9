import Core
import Foundation
import GRDB

/// One `repro build` run: its row is written when the build starts and updated when it
/// finishes or fails.
public struct BuildRecord: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable { case running, succeeded, failed }
    public var id: Int64
    public var recipe: Digest
    public var action: Digest
    public var tree: Digest?
    public var started: Int64
    public var finished: Int64?
    public var status: Status
}

/// A row of `builds`.
struct BuildRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "builds"
    var id: Int64?
    var recipe: String
    var action: String
    var tree: String?
    var started: Int64
    var finished: Int64?
    var status: String

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension Store {
    // MARK: builds

    /// Records the start of a build (status `running`); returns its id.
    public func beginBuild(recipe: Digest, action: Digest) throws -> Int64 {
        try db.write { db in
            var row = BuildRow(id: nil, recipe: recipe.hex, action: action.hex, tree: nil, started: FileSupport.now(),
                               finished: nil, status: BuildRecord.Status.running.rawValue)
            try row.insert(db)
            return row.id!
        }
    }

    /// Records the end of a build: its output tree when it succeeded, nil when it failed.
    public func finishBuild(_ id: Int64, tree: Digest?) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE builds SET tree = ?, finished = ?, status = ? WHERE id = ?",
                           arguments: [tree?.hex, FileSupport.now(),
                                       (tree == nil ? BuildRecord.Status.failed : .succeeded).rawValue, id])
        }
    }

    public func builds() throws -> [BuildRecord] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT b.id, b.recipe, b.action, b.tree, t.manifest_size, b.started, b.finished, b.status
                FROM builds b LEFT JOIN trees t ON t.tree = b.tree ORDER BY b.id
                """).map { row in
                BuildRecord(id: row[0], recipe: Digest(hex: row[1], size: -1), action: Digest(hex: row[2], size: -1),
                            tree: (row[3] as String?).map { Digest(hex: $0, size: (row[4] as Int64?) ?? -1) },
                            started: row[5], finished: row[6],
                            status: BuildRecord.Status(rawValue: row[7]) ?? .running)
            }
        }
    }
}
