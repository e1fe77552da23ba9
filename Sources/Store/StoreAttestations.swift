import Core
import Foundation
import GRDB

/// The signed provenance envelope and the SBOM of an action's build (docs/provenance.md).
public struct AttestationRecord: Hashable, Sendable, Codable {
    public var action: Digest
    public var tree: Digest
    /// The DSSE envelope (one line of JSON) as a blob.
    public var envelope: Digest
    public var sbom: Digest
    /// `spdx` or `cyclonedx`.
    public var sbomFormat: String
    /// The keyid of the signing key.
    public var keyid: String
    public var created: Int64

    public init(action: Digest, tree: Digest, envelope: Digest, sbom: Digest, sbomFormat: String, keyid: String,
                created: Int64 = Int64(Date().timeIntervalSince1970)) {
        self.action = action; self.tree = tree; self.envelope = envelope; self.sbom = sbom
        self.sbomFormat = sbomFormat; self.keyid = keyid; self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case action, tree, envelope, sbom, keyid, created
        case sbomFormat = "sbom_format"
    }
}

extension Store {
    /// Records the attestation of an action's build (replacing one of the same SBOM
    /// format). The envelope and SBOM blobs must be in the store; gc keeps them.
    public func recordAttestation(_ r: AttestationRecord) throws {
        try FileLock.with(gcLockPath, exclusive: false) {
            for d in [r.envelope, r.sbom] where !contains(d) { throw missing(d) }
            try db.write { db in try Store.insert(attestation: r, replacing: true, db) }
        }
    }

    static func insert(attestation r: AttestationRecord, replacing: Bool, _ db: GRDB.Database) throws {
        try db.execute(sql: """
            INSERT OR \(replacing ? "REPLACE" : "IGNORE") INTO attestations
            (action, tree, envelope, envelope_size, sbom, sbom_size, sbom_format, keyid, created)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [r.action.hex, r.tree.hex, r.envelope.hex, r.envelope.size,
                             r.sbom.hex, r.sbom.size, r.sbomFormat, r.keyid, r.created])
    }

    /// The newest attestation of an action (or of a tree), preferring `format` when
    /// given; nil when none was recorded.
    public func attestation(action: Digest? = nil, tree: Digest? = nil, format: String? = nil) throws -> AttestationRecord? {
        var clauses: [String] = [], args: [any DatabaseValueConvertible] = []
        if let action { clauses.append("action = ?"); args.append(action.hex) }
        if let tree { clauses.append("tree = ?"); args.append(tree.hex) }
        let order = format.map { f -> String in args.append(f); return "sbom_format = ? DESC, " } ?? ""
        return try db.read { db in
            try Store.attestations(db, where: clauses.isEmpty ? "1" : clauses.joined(separator: " AND "),
                                   orderBy: "\(order)created DESC LIMIT 1", StatementArguments(args)).first
        }
    }

    static func attestations(_ db: GRDB.Database, where clause: String = "1", orderBy: String = "action, sbom_format",
                             _ args: StatementArguments = []) throws -> [AttestationRecord] {
        try Row.fetchAll(db, sql: """
            SELECT action, tree, envelope, envelope_size, sbom, sbom_size, sbom_format, keyid, created
            FROM attestations WHERE \(clause) ORDER BY \(orderBy)
            """, arguments: args).map { row in
            AttestationRecord(action: Digest(hex: row[0], size: -1), tree: Digest(hex: row[1], size: -1),
                              envelope: Digest(hex: row[2], size: row[3]),
                              sbom: Digest(hex: row[4], size: row[5]), sbomFormat: row[6],
                              keyid: row[7], created: row[8])
        }
    }
}
