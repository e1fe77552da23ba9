import Core
import Foundation
import GRDB

/// A row of `pins`: a blob kept through gc until unpinned.
struct PinRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "pins"
    var digest: String
    var size: Int64
    var note: String
    var added: Int64
}

extension Store {
    // MARK: pins

    /// Keeps a blob (an input, a toolchain archive) through gc until unpinned.
    public func pin(_ digest: Digest, note: String) throws {
        try db.write { db in
            try PinRow(digest: digest.hex, size: digest.size, note: note, added: FileSupport.now()).insert(db, onConflict: .replace)
        }
    }

    public func unpin(_ digest: Digest) throws {
        try db.write { db in _ = try PinRow.deleteOne(db, key: digest.hex) }
    }
}
