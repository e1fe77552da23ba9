import Core
import Foundation
import GRDB

/// What `repro store verify --repair` dropped.
public struct RepairReport: Sendable, Codable, Hashable {
    /// Corrupt blob files deleted.
    public var blobs: [String]
    /// Action results, recorded trees, attestations and pins that needed a corrupt or
    /// missing blob: forgotten, so that the next build runs (and stores) them again.
    public var actions: Int
    public var trees: Int
    public var attestations: Int
    public var pins: Int
}

extension Store {
    /// Drops what is corrupt or missing: deletes corrupt blob files, and forgets every
    /// record that needs a corrupt or missing blob (action results whose tree, manifest,
    /// log or files are affected; recorded trees; builds' trees; attestations; pins).
    /// A build of the same recipe then misses the action cache, runs again and stores
    /// whole blobs; a pinned input is fetched again.
    /// - Throws: what SQLite or the file system report.
    public func repair(_ report: VerifyReport) throws -> RepairReport {
        let bad = Set((report.corrupt + report.missing).map { String($0.dropFirst("sha256:".count)) })
        var out = RepairReport(blobs: [], actions: 0, trees: 0, attestations: 0, pins: 0)
        guard !bad.isEmpty else { return out }
        try FileLock.with(gcLockPath, exclusive: true) {
            // A tree is broken when its manifest blob is, or any file it lists.
            func broken(_ tree: String) -> Bool {
                if bad.contains(tree) { return true }
                guard let data = FileManager.default.contents(atPath: blobPath(tree)),
                      let m = try? Manifest.parse(data) else { return true }
                return m.blobDigests.contains { bad.contains($0.hex) }
            }
            try db.write { c in
                func count(_ table: String) throws -> Int { try Int.fetchOne(c, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
                let (attestationsBefore, pinsBefore) = (try count("attestations"), try count("pins"))
                defer {
                    out.attestations = attestationsBefore - ((try? count("attestations")) ?? attestationsBefore)
                    out.pins = pinsBefore - ((try? count("pins")) ?? pinsBefore)
                }
                let trees = Set(try String.fetchAll(c, sql: "SELECT tree FROM trees UNION SELECT tree FROM actions UNION SELECT manifest FROM actions UNION SELECT tree FROM builds WHERE tree IS NOT NULL"))
                let gone = trees.filter(broken)
                for row in try Row.fetchAll(c, sql: "SELECT action, tree, manifest, log FROM actions") {
                    let (action, tree, manifest, log): (String, String, String, String?) = (row[0] ?? "", row[1] ?? "", row[2] ?? "", row[3])
                    if gone.contains(tree) || gone.contains(manifest) || log.map(bad.contains) == true {
                        try c.execute(sql: "DELETE FROM actions WHERE action = ?", arguments: [action])
                        try c.execute(sql: "DELETE FROM attestations WHERE action = ?", arguments: [action])
                        out.actions += 1
                    }
                }
                for t in gone {
                    try c.execute(sql: "DELETE FROM trees WHERE tree = ?", arguments: [t])
                    try c.execute(sql: "UPDATE builds SET tree = NULL WHERE tree = ?", arguments: [t])
                    try c.execute(sql: "DELETE FROM attestations WHERE tree = ?", arguments: [t])
                    out.trees += 1
                }
                for d in bad {
                    try c.execute(sql: "DELETE FROM attestations WHERE envelope = ? OR sbom = ?", arguments: [d, d])
                    try c.execute(sql: "DELETE FROM pins WHERE digest = ?", arguments: [d])
                    try c.execute(sql: "DELETE FROM blobs WHERE digest = ?", arguments: [d])
                }
            }
            for d in report.corrupt {
                let hex = String(d.dropFirst("sha256:".count))
                if unlink(blobPath(hex)) == 0 { out.blobs.append(d) }
            }
        }
        return out
    }
}
