import Attest
import Build
import Core
import RemoteSettings
import Foundation
import Recipe
import RemoteAPI
import Store

/// What `repro store push` sends for a digest.
public enum RemoteTransfers {
    /// A tree: its manifest and files; an action: its tree, log, provenance, SBOM and
    /// archive; anything else: the blob itself.
    /// - Throws: `ReproError(.invalidInput)` for a digest the store does not have.
    public static func blobs(of digests: [Digest], in store: Store) throws -> (blobs: [Digest], trees: [Digest]) {
        var out: [Digest] = [], trees: [Digest] = []
        for d in digests {
            if let a = try store.lookupAction(d) {
                out += try treeBlobs(a.tree, store)
                trees.append(try full(a.tree, store))
                if let log = a.log { out.append(try full(log, store)) }
                for f in ["spdx", "cyclonedx"] {
                    if let at = try store.attestation(action: d, format: f), at.sbomFormat == f { out += [at.envelope, at.sbom] }
                }
                if let at = try store.attestation(action: d) {
                    if let (_, ar) = try BuildAttestation.archive(of: at, store: store), store.contains(ar) { out.append(try full(ar, store)) }
                }
            } else if store.contains(d) {
                let full = try full(d, store)
                if let m = try? store.manifest(tree: full) {
                    out += m.blobDigests + [full]
                    trees.append(full)
                } else {
                    out.append(full)
                }
            } else {
                throw ReproError(.invalidInput, "\(d) is not in the store at \(store.root) (neither a tree, an action nor a blob)")
            }
        }
        return (out, trees)
    }

    /// `sha256:HEX/SIZE` as given; `sha256:HEX` through the tree pointer `push` records.
    /// - Throws: `ReproError(.invalidInput)` when the remote has no tree of that digest.
    public static func resolve(_ text: String, client: RemoteClient) throws -> Digest {
        if let slash = text.lastIndex(of: "/"), let size = Int64(text[text.index(after: slash)...]) {
            return try Digest.parse(String(text[..<slash]), size: size)
        }
        let d = try Digest.parse(text)
        guard let tree = try blocking({ try await TreePointer.resolve(client, hex: d.hex) }) else {
            throw ReproError(.invalidInput, "the remote at \(client.endpoint) has no tree \(d) (push it with `repro store push`); for a plain blob give its size: \(d)/SIZE")
        }
        return tree
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

/// How a tree is found by its digest alone: REAPI names blobs by hash *and* size, and a
/// tree digest (`sha256:HEX`, as repro prints it) has no size. `repro store push`
/// records, for every tree it sends, an action result under the Action
/// `{command: ["repro-tree", "sha256:HEX"], input_root: empty}` whose output file
/// `.repro/manifest` is the manifest with its size; `pull` looks it up.
public enum TreePointer {
    static func action(_ hex: String) throws -> (digest: Digest, messages: [(Digest, Data)]) {
        var command = Build_Bazel_Remote_Execution_V2_Command()
        command.arguments = ["repro-tree", "sha256:" + hex]
        let commandBytes: Data = try command.serializedBytes()
        let empty = Data()
        var action = Build_Bazel_Remote_Execution_V2_Action()
        action.commandDigest = RE(Digest.of(commandBytes))
        action.inputRootDigest = RE(Digest.of(empty))
        let actionBytes: Data = try action.serializedBytes()
        return (Digest.of(actionBytes), [(Digest.of(actionBytes), actionBytes), (Digest.of(commandBytes), commandBytes),
                                         (Digest.of(empty), empty)])
    }

    public static func publish(_ client: RemoteClient, tree: Digest) async throws {
        let (digest, messages) = try action(tree.hex)
        try await client.put(messages)
        var r = Build_Bazel_Remote_Execution_V2_ActionResult()
        var f = Build_Bazel_Remote_Execution_V2_OutputFile()
        f.path = ResultFiles.manifest
        f.digest = RE(tree)
        r.outputFiles = [f]
        try await client.updateActionResult(digest, r)
    }

    /// The tree's digest with its size, or nil when the remote has no pointer.
    public static func resolve(_ client: RemoteClient, hex: String) async throws -> Digest? {
        guard let r = try await client.getActionResult(try action(hex).digest) else { return nil }
        return r.outputFiles.first { $0.path == ResultFiles.manifest && $0.digest.hash == hex }?.digest.digest
    }
}
