import Core
import Store

/// The signed provenance and the SBOM of a build, for its bundle, when the store
/// recorded them (every `repro build` does, docs/provenance.md).
public enum BundleAttachments {
    /// `provenance.intoto.jsonl` (the DSSE envelope, one JSON line) and
    /// `sbom.spdx.json` or `sbom.cdx.json`, by bundle entry name; empty when the store
    /// has no attestation of this action and tree.
    public static func entries(store: Store, action: Digest, tree: Digest) throws -> [String: BundleFile.Entry] {
        guard let a = try store.attestation(action: action, tree: tree, format: "spdx") else { return [:] }
        var envelope = try store.get(a.envelope)
        if envelope.last != UInt8(ascii: "\n") { envelope.append(UInt8(ascii: "\n")) }
        let sbomName = a.sbomFormat == "cyclonedx" ? "sbom.cdx.json" : "sbom.spdx.json"
        return ["provenance.intoto.jsonl": .data(envelope), sbomName: .data(try store.get(a.sbom))]
    }
}
