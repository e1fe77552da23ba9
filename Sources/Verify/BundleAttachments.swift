import Core
import Store

/// The provenance and SBOM of a build, for its bundle, when the store has them.
public enum BundleAttachments {
    public static func entries(store: Store, action: Digest, tree: Digest) throws -> [String: Bundle.Entry] {
        [:]
    }
}
