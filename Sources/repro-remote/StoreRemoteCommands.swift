import ArgumentParser
import Attest
import Build
import Core
import Foundation
import Recipe
import Remote
import RemoteSettings
import Sandbox
import Store

/// `repro store push` / `repro store pull`: trees, blobs and recipe results between the
/// local store and a REAPI v2 CAS and action cache (docs/remote.md).
struct RemoteStoreOptions: ParsableArguments {
    @Option(help: "The REAPI server, grpc://HOST:PORT (default $REPRO_REMOTE, else the config file's).")
    var remote: String?

    @Option(help: "The remote's instance name.")
    var instance: String?

    @Option(help: "Also move this recipe's action result (looked up by its REAPI Action; its lock must be current).")
    var recipe: String?

    @Flag(help: "Print one JSON object on stdout.")
    var json = false

    @Option(help: "The store directory (default: $REPRO_HOME, else ~/.cache/repro).")
    var store: String?

    func client() throws -> RemoteClient {
        guard let endpoint = try RemoteConfig.load().endpoint(flag: remote, instance: instance) else {
            throw ReproError(.invalidInput, "no remote: pass --remote grpc://HOST:PORT, set $REPRO_REMOTE, or [remote] url in \(RemoteConfig.defaultPath)")
        }
        return try RemoteClient(endpoint)
    }

    /// The recipe, its lock and its action, as `repro build` computes them.
    func recipeAction(_ builder: Builder) throws -> RecipeAction? {
        guard let recipe else { return nil }
        let r = try Recipe.load(path: recipe)
        let lock = try LockFile.read(path: r.lockPath)
        return try RecipeAction(recipe: r, lock: lock, builder: builder)
    }
}

struct StorePush: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload trees, action results or blobs from the local store to a remote CAS.",
        discussion: "Each DIGEST is a tree (its manifest and every file), a repro action (its tree, log, provenance, SBOM and archive) or a plain blob; only what the server lacks is sent. With --recipe, the recipe's build result is also recorded in the remote action cache, so that `repro build --remote` elsewhere is a cache hit. Exit 0 ok, 2 a digest the store lacks, 70 the server cannot be reached.")

    @OptionGroup var options: RemoteStoreOptions

    @Option(help: "The PEM private key whose public half the pushed provenance names (default: as repro build).")
    var key: String?

    @Argument(help: "Digests (sha256:HEX) of trees, actions or blobs.")
    var digests: [String] = []

    func validate() throws {
        if digests.isEmpty && options.recipe == nil { throw ValidationError("give at least one DIGEST, or --recipe") }
    }

    func run() throws {
        try reporting {
            let store = try Store(root: options.store)
            let client = try options.client()
            defer { client.closeBlocking() }
            let (wanted, trees) = try RemoteTransfers.blobs(of: try digests.map { try Digest.parse($0) }, in: store)
            var stats = try blocking {
                let s = try await client.upload(wanted, from: store)
                for t in trees { try await TreePointer.publish(client, tree: t) }
                return s
            }
            var reapi: String?
            if let action = try options.recipeAction(Builder(store: store, runner: try SandboxRunner())) {
                let signer = try BuildAttestation.signingKey(explicit: key) { warn($0) }
                let s = try blocking { try await action.publish(client, store: store, signer: signer.publicKey) }
                stats.blobs += s.blobs; stats.bytes += s.bytes
                reapi = action.remote.digest.description
            }
            if options.json {
                try printJSON(TransferOutput(remote: "\(client.endpoint)", blobs: stats.blobs, bytes: stats.bytes, reapiAction: reapi))
            } else {
                print("pushed \(stats.blobs) blobs, \(stats.bytes) bytes to \(client.endpoint)" + (reapi.map { "; action result under \($0)" } ?? ""))
            }
        }
    }
}

struct StorePull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download trees or blobs from a remote CAS into the local store, each checked against its digest.",
        discussion: "Each DIGEST is a tree (its manifest, then every file it names; the tree is recorded) or a plain blob. With --recipe, the recipe's result in the remote action cache is taken in as by `repro build --remote`: outputs, log and provenance, which must verify (exit 4 otherwise). Exit 0 ok, 2 not on the server, 4 a blob or provenance did not verify, 70 the server cannot be reached.")

    @OptionGroup var options: RemoteStoreOptions

    @Option(name: .customLong("trusted-key"), help: "A PEM public key the pulled provenance may be signed by (repeatable).")
    var trustedKey: [String] = []

    @Argument(help: "Digests of trees (sha256:HEX, found through the pointer push records) or blobs (sha256:HEX/SIZE).")
    var digests: [String] = []

    func validate() throws {
        if digests.isEmpty && options.recipe == nil { throw ValidationError("give at least one DIGEST, or --recipe") }
    }

    func run() throws {
        try reporting {
            let store = try Store(root: options.store)
            let client = try options.client()
            defer { client.closeBlocking() }
            var stats = TransferStats()
            for text in digests {
                let d = try RemoteTransfers.resolve(text, client: client)
                let s = try blocking { try await client.download([d], into: store) }
                stats.blobs += s.blobs; stats.bytes += s.bytes
                // A manifest names a tree: take its files too and record it.
                if let m = try? store.manifest(tree: d) {
                    let s = try blocking { try await client.download(m.blobDigests, into: store) }
                    stats.blobs += s.blobs; stats.bytes += s.bytes
                    try store.recordTree(d)
                }
            }
            var tree: String?
            if let action = try options.recipeAction(Builder(store: store, runner: try SandboxRunner())) {
                let trusted = try trustedKey.map { try PublicKey(path: $0) }
                let got = try blocking { try await action.pull(client, store: store, trusted: trusted) }
                stats.blobs += got.stats.blobs; stats.bytes += got.stats.bytes
                tree = got.tree.description
            }
            if options.json {
                try printJSON(TransferOutput(remote: "\(client.endpoint)", blobs: stats.blobs, bytes: stats.bytes, tree: tree))
            } else {
                print("pulled \(stats.blobs) blobs, \(stats.bytes) bytes from \(client.endpoint)" + (tree.map { "; tree \($0)" } ?? ""))
            }
        }
    }
}

struct TransferOutput: Encodable {
    var remote: String
    var blobs: Int
    var bytes: Int64
    var reapiAction: String?
    var tree: String?
    enum CodingKeys: String, CodingKey { case remote, blobs, bytes, tree, reapiAction = "reapi_action" }
}
