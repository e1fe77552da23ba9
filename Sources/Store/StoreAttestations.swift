import Core
import Foundation

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
            try db.write { c in try Store.insert(attestation: r, replacing: true, c) }
        }
    }

    static func insert(attestation r: AttestationRecord, replacing: Bool, _ c: Connection) throws {
        try c.execute("""
            INSERT OR \(replacing ? "REPLACE" : "IGNORE") INTO attestations
            (action, tree, envelope, envelope_size, sbom, sbom_size, sbom_format, keyid, created)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(r.action.hex), .text(r.tree.hex), .text(r.envelope.hex), .int(r.envelope.size),
                  .text(r.sbom.hex), .int(r.sbom.size), .text(r.sbomFormat), .text(r.keyid), .int(r.created)])
    }

    /// The newest attestation of an action (or of a tree), preferring `format` when
    /// given; nil when none was recorded.
    public func attestation(action: Digest? = nil, tree: Digest? = nil, format: String? = nil) throws -> AttestationRecord? {
        var clauses: [String] = [], args: [SQLValue] = []
        if let action { clauses.append("action = ?"); args.append(.text(action.hex)) }
        if let tree { clauses.append("tree = ?"); args.append(.text(tree.hex)) }
        let order = format.map { f -> String in args.append(.text(f)); return "sbom_format = ? DESC, " } ?? ""
        return try db.read { c in
            try Store.attestations(c, where: clauses.isEmpty ? "1" : clauses.joined(separator: " AND "),
                                   orderBy: "\(order)created DESC LIMIT 1", args).first
        }
    }

    static func attestations(_ c: Connection, where clause: String = "1", orderBy: String = "action, sbom_format",
                             _ args: [SQLValue] = []) throws -> [AttestationRecord] {
        try c.query("""
            SELECT action, tree, envelope, envelope_size, sbom, sbom_size, sbom_format, keyid, created
            FROM attestations WHERE \(clause) ORDER BY \(orderBy)
            """, args).map { row in
            AttestationRecord(action: Digest(hex: row[0].text!, size: -1), tree: Digest(hex: row[1].text!, size: -1),
                              envelope: Digest(hex: row[2].text!, size: row[3].int!),
                              sbom: Digest(hex: row[4].text!, size: row[5].int!), sbomFormat: row[6].text!,
                              keyid: row[7].text!, created: row[8].int!)
        }
    }
}
