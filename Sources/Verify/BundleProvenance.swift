import Attest
import Core
import Foundation
import Store

/// Checks the provenance a bundle carries with a pinned public key: the DSSE signature,
/// the in-toto/SLSA statement, that its subjects are exactly the files of the bundle's
/// manifest and its tree subject the bundle's tree digest, and that it names the
/// bundle's recipe digest (Attest's `ProvenanceVerifier`, as `repro attest verify`).
public enum BundleProvenance {
    /// - Returns: a one-line summary (key id, builder id, tree).
    /// - Throws: `ReproError(.verificationFailed)` saying what did not match, also when
    ///   the bundle carries no provenance; `.invalidInput` for an unreadable key.
    public static func verify(_ bundle: BundleContents, bundleFile: String, keyPath: String) throws -> String {
        let key = try PublicKey(path: keyPath)
        guard let path = bundle.provenancePath else {
            throw ReproError(.verificationFailed, "\(bundleFile) carries no provenance.intoto.jsonl to check with --key")
        }
        let envelope = try DSSEEnvelope.parse(try Data(contentsOf: URL(fileURLWithPath: path)), source: bundleFile + ": provenance.intoto.jsonl")
        var expect = ProvenanceExpectations()
        expect.recipeDigest = bundle.info.recipeDigest
        var files: [String: String] = [:]
        for e in bundle.manifest.entries where e.kind == .file { files[e.path] = e.digest?.hex }
        expect.directory = (bundleFile + ": manifest", files, bundle.manifest.treeDigest.hex)
        let statement = try ProvenanceVerifier.verify(envelope, key: key, expect: expect)
        return "signed by key \(key.keyID.prefix(16))…, builder \(statement.predicate.runDetails.builder.id), describes tree \(bundle.info.treeDigest)"
    }
}
