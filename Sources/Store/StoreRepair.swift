import Core
import Foundation

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
                func count(_ table: String) throws -> Int { Int(try c.query("SELECT COUNT(*) FROM \(table)").first?[0].int ?? 0) }
                let (attestationsBefore, pinsBefore) = (try count("attestations"), try count("pins"))
                defer {
                    out.attestations = attestationsBefore - ((try? count("attestations")) ?? attestationsBefore)
                    out.pins = pinsBefore - ((try? count("pins")) ?? pinsBefore)
                }
                let trees = Set(try c.query("SELECT tree FROM trees UNION SELECT tree FROM actions UNION SELECT manifest FROM actions UNION SELECT tree FROM builds WHERE tree IS NOT NULL").compactMap { $0[0].text })
                let gone = trees.filter(broken)
                for row in try c.query("SELECT action, tree, manifest, log FROM actions") {
                    let (action, tree, manifest, log) = (row[0].text ?? "", row[1].text ?? "", row[2].text ?? "", row[3].text)
                    if gone.contains(tree) || gone.contains(manifest) || log.map(bad.contains) == true {
                        try c.execute("DELETE FROM actions WHERE action = ?", [.text(action)])
                        try c.execute("DELETE FROM attestations WHERE action = ?", [.text(action)])
                        out.actions += 1
                    }
                }
                for t in gone {
                    try c.execute("DELETE FROM trees WHERE tree = ?", [.text(t)])
                    try c.execute("UPDATE builds SET tree = NULL WHERE tree = ?", [.text(t)])
                    try c.execute("DELETE FROM attestations WHERE tree = ?", [.text(t)])
                    out.trees += 1
                }
                for d in bad {
                    try c.execute("DELETE FROM attestations WHERE envelope = ? OR sbom = ?", [.text(d), .text(d)])
                    try c.execute("DELETE FROM pins WHERE digest = ?", [.text(d)])
                    try c.execute("DELETE FROM blobs WHERE digest = ?", [.text(d)])
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
