import Attest
import Build
import Core
import RemoteSettings
import Foundation
import Recipe
import Store

/// What `repro store push` sends for a digest.
public enum RemoteTransfers {
    /// A tree: its manifest and files; an action: its tree, log, provenance, SBOM and
    /// archive; anything else: the blob itself.
    /// - Throws: `ReproError(.invalidInput)` for a digest the store does not have.
    public static func blobs(of digests: [Digest], in store: Store) throws -> [Digest] {
        var out: [Digest] = []
        for d in digests {
            if let a = try store.lookupAction(d) {
                out += try treeBlobs(a.tree, store)
                if let log = a.log { out.append(try full(log, store)) }
                for f in ["spdx", "cyclonedx"] {
                    if let at = try store.attestation(action: d, format: f), at.sbomFormat == f { out += [at.envelope, at.sbom] }
                }
                if let at = try store.attestation(action: d) {
                    if let (_, ar) = try BuildAttestation.archive(of: at, store: store), store.contains(ar) { out.append(try full(ar, store)) }
                }
            } else if store.contains(d) {
                let full = try full(d, store)
                if let m = try? store.manifest(tree: full) { out += m.blobDigests + [full] } else { out.append(full) }
            } else {
                throw ReproError(.invalidInput, "\(d) is not in the store at \(store.root) (neither a tree, an action nor a blob)")
            }
        }
        return out
    }

    static func treeBlobs(_ tree: Digest, _ store: Store) throws -> [Digest] {
        let t = try full(tree, store)
        return try store.manifest(tree: t).blobDigests + [t]
    }

    /// The digest with its size (records may carry size -1).
    static func full(_ d: Digest, _ store: Store) throws -> Digest {
        d.size >= 0 ? d : try Digest.ofFile(try store.path(for: d))
    }
}

/// A recipe's action, local and as a REAPI Action, for push and pull by recipe.
public struct RecipeAction: Sendable {
    public let remote: RemoteAction
    let recipeDigest: Digest

    public init(recipe: Recipe, lock: LockFile, builder: Builder) throws {
        let toolchain = Builder.toolchainID(of: lock)
        let action = try Builder.actionDigest(recipe: recipe, lock: lock, toolchain: toolchain,
                                              policy: try builder.runner.policyVersion())
        remote = try RemoteAction(recipe: recipe, lock: lock, reproAction: action, actionFormat: Builder.actionFormat)
        recipeDigest = recipe.digest
    }

    /// Uploads the local result and records it in the remote action cache.
    public func publish(_ client: RemoteClient, store: Store, signer: PublicKey) async throws -> TransferStats {
        try await RemoteResult.publish(client, store: store, action: remote, signer: signer)
    }

    /// Takes the remote result in (verified) as `repro build --remote` does on a hit.
    public func pull(_ client: RemoteClient, store: Store, trusted: [PublicKey]) async throws -> ReceivedResult {
        guard let r = try await client.getActionResult(remote.digest) else {
            throw ReproError(.invalidInput, "the remote at \(client.endpoint) has no result for this recipe (REAPI action \(remote.digest)); build it with --remote somewhere first")
        }
        return try await RemoteResult.receive(client, result: r, action: remote, recipeDigest: recipeDigest,
                                              store: store, trusted: trusted)
    }
}
