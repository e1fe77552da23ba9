import Attest
import Build
import Core
import Foundation
import Recipe
import Store

/// How `repro build` uses a remote (docs/remote.md).
public struct RemoteBuildOptions: Sendable {
    public var endpoint: RemoteEndpoint
    /// Fail when the remote cannot be reached instead of building locally.
    public var required = false
    /// Run the action on the remote's workers (Execute) on a cache miss.
    public var execute = false
    /// Keys a remote result's provenance must be signed by (empty: any that verifies).
    public var trusted: [PublicKey] = []
    public init(endpoint: RemoteEndpoint) { self.endpoint = endpoint }
}

/// What the remote did for a build (the `remote` object of `repro build --json`).
public struct RemoteSummary: Codable, Sendable {
    public var endpoint: String
    public var instance: String
    /// The REAPI Action digest the result is cached under.
    public var reapiAction: String?
    public var reapiActionSize: Int64?
    /// `local-hit`, `remote-hit`, `uploaded`, `executed` or `unavailable`.
    public var outcome: String
    public var downloadedBytes: Int64 = 0
    public var uploadedBytes: Int64 = 0
    /// The keyid that signed a remote result's provenance.
    public var keyid: String?
    public var warning: String?

    enum CodingKeys: String, CodingKey {
        case endpoint, instance, outcome, keyid, warning
        case reapiAction = "reapi_action", reapiActionSize = "reapi_action_size", downloadedBytes = "downloaded_bytes", uploadedBytes = "uploaded_bytes"
    }
}

/// `repro build --remote`: look the action up in the remote action cache; on a hit,
/// take the outputs, log and signed provenance into the local store (verified) and
/// finish as a local cache hit; on a miss, build locally (or on the remote's workers
/// with `execute`) and publish the result.
public struct RemoteBuilder: Sendable {
    public let builder: Builder
    public init(builder: Builder) { self.builder = builder }

    public func build(_ recipe: Recipe, lock: LockFile, options: BuildOptions, remote: RemoteBuildOptions,
                      warn: @Sendable (String) -> Void) throws -> (BuildOutcome, RemoteSummary) {
        let store = builder.store
        var summary = RemoteSummary(endpoint: "grpc://\(remote.endpoint.host):\(remote.endpoint.port)",
                                    instance: remote.endpoint.instance, outcome: "local-hit")
        let toolchain = Builder.toolchainID(of: lock)
        let reproAction = try Builder.actionDigest(recipe: recipe, lock: lock, toolchain: toolchain,
                                                   policy: try builder.runner.policyVersion())
        if !options.noCache, try store.lookupAction(reproAction) != nil {
            return (try builder.build(recipe, lock: lock, options: options), summary)
        }
        let action = try RemoteAction(recipe: recipe, lock: lock, reproAction: reproAction, actionFormat: Builder.actionFormat)
        summary.reapiAction = action.digest.description
        summary.reapiActionSize = action.digest.size
        let client = try RemoteClient(remote.endpoint, retries: 4)
        defer { client.closeBlocking() }
        let trusted = remote.trusted
        let recipeDigest = recipe.digest

        /// A remote that cannot be reached: an error when required, else a warning and
        /// the build goes on locally.
        func unavailable(_ e: ReproError) throws {
            guard e.code == .remoteUnavailable, !remote.required else { throw e }
            warn("warning: \(e.message); building locally (pass --remote-required to fail instead)")
            summary.outcome = "unavailable"
            summary.warning = e.message
        }

        // 1. The remote action cache.
        var hit: REActionResult?
        if !options.noCache {
            do {
                hit = try blocking { try await client.getActionResult(action.digest) }
            } catch let e as ReproError {
                try unavailable(e)
                return (try builder.build(recipe, lock: lock, options: options), summary)
            }
        }
        // 2. Remote execution on a miss.
        if hit == nil, remote.execute {
            do {
                hit = try blocking {
                    try await action.upload(client, store: store)
                    let resp = try await client.execute(action.digest, skipCacheLookup: options.noCache)
                    return resp.result
                }
            } catch let e as ReproError {
                try unavailable(e)
                return (try builder.build(recipe, lock: lock, options: options), summary)
            }
            if let r = hit, r.exitCode != 0 {
                var tail = ""
                if r.hasStdoutDigest, let log = try? blocking({ try await client.fetch(r.stdoutDigest.digest) }) {
                    tail = String(decoding: log, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                        .suffix(30).joined(separator: "\n")
                }
                throw ReproError(.failed, "remote build of \(recipe.file) failed on a worker (exit \(r.exitCode))\(tail.isEmpty ? "" : ":\n" + tail)")
            }
            summary.outcome = "executed"
        }
        if let r = hit {
            let got = try blocking {
                try await RemoteResult.receive(client, result: r, action: action, recipeDigest: recipeDigest,
                                               store: store, trusted: trusted)
            }
            if summary.outcome != "executed" { summary.outcome = "remote-hit" }
            summary.downloadedBytes = got.stats.bytes
            summary.keyid = got.keyid
            var local = options
            local.noCache = false
            var outcome = try builder.build(recipe, lock: lock, options: local)
            outcome.cached = summary.outcome == "remote-hit"
            return (outcome, summary)
        }
        // 3. A miss: build here, then publish.
        let outcome = try builder.build(recipe, lock: lock, options: options)
        guard let key = options.attest.signingKey else { return (outcome, summary) }
        do {
            let stats = try blocking {
                try await RemoteResult.publish(client, store: store, action: action, signer: key.publicKey)
            }
            summary.outcome = "uploaded"
            summary.uploadedBytes = stats.bytes
        } catch let e as ReproError where e.code == .remoteUnavailable && !remote.required {
            warn("warning: the result was not uploaded: \(e.message)")
            summary.outcome = "unavailable"
            summary.warning = e.message
        }
        return (outcome, summary)
    }
}
