import Attest
import Build
import Core
import Foundation
import Recipe
import RemoteSettings
import Sandbox
import Store

/// How `repro build` uses a remote (docs/remote.md).
public struct RemoteBuildOptions: Sendable {
    public var endpoint: RemoteEndpoint
    /// Fail when the remote cannot be reached instead of building locally.
    public var required = false
    /// Run the action on the remote's workers (Execute) on a cache miss.
    public var execute = false
    /// Skip the remote action cache (`--no-cache`).
    public var noCache = false
    /// Keys a remote result's provenance must be signed by (empty: any that verifies).
    public var trusted: [PublicKey] = []
    public init(endpoint: RemoteEndpoint) { self.endpoint = endpoint }
}

/// The two remote phases of `repro build --remote`, around the local build (which `repro`
/// runs itself, so that gRPC stays out of its binary; `repro-remote` runs these):
///
/// 1. `lookup`: the remote action cache; on a miss with `execute`, remote execution. A
///    result is taken into the local store (verified) so that the local build that
///    follows is a cache hit. Outcome `remote-hit`, `executed`, `miss` or `unavailable`.
/// 2. `publish` (after a local build on a miss): outputs, log and provenance up, then
///    UpdateActionResult. Outcome `uploaded` or `unavailable`.
public enum RemotePhases {
    struct Context {
        let action: RemoteAction
        let client: RemoteClient
        var summary: RemoteSummary
    }

    static func context(_ recipe: Recipe, lock: LockFile, runner: SandboxRunner, remote: RemoteBuildOptions) throws -> Context {
        let reproAction = try Builder.actionDigest(recipe: recipe, lock: lock, toolchain: Builder.toolchainID(of: lock),
                                                   policy: try runner.policyVersion())
        let action = try RemoteAction(recipe: recipe, lock: lock, reproAction: reproAction, actionFormat: Builder.actionFormat)
        var summary = RemoteSummary(endpoint: "grpc://\(remote.endpoint.host):\(remote.endpoint.port)",
                                    instance: remote.endpoint.instance, outcome: "miss")
        summary.reapiAction = action.digest.description
        summary.reapiActionSize = action.digest.size
        return Context(action: action, client: try RemoteClient(remote.endpoint), summary: summary)
    }

    /// A remote that cannot be reached: an error when required, else a warning and the
    /// build goes on locally.
    static func unavailable(_ e: ReproError, _ remote: RemoteBuildOptions, _ summary: inout RemoteSummary,
                            doing: String, warn: (String) -> Void) throws {
        guard e.code == .remoteUnavailable, !remote.required else { throw e }
        warn("warning: \(e.message); \(doing) (pass --remote-required to fail instead)")
        summary.outcome = "unavailable"
        summary.warning = e.message
    }

    public static func lookup(_ recipe: Recipe, lock: LockFile, store: Store, runner: SandboxRunner,
                              remote: RemoteBuildOptions, warn: (String) -> Void) throws -> RemoteSummary {
        var ctx = try context(recipe, lock: lock, runner: runner, remote: remote)
        let client = ctx.client, action = ctx.action, trusted = remote.trusted, recipeDigest = recipe.digest
        defer { client.closeBlocking() }
        var hit: REActionResult?
        do {
            if !remote.noCache {
                hit = try blocking { try await client.getActionResult(action.digest) }
            }
            if hit == nil, remote.execute {
                let noCache = remote.noCache
                hit = try blocking {
                    try await action.upload(client, store: store)
                    return try await client.execute(action.digest, skipCacheLookup: noCache).result
                }
                if let r = hit, r.exitCode != 0 {
                    var tail = ""
                    if r.hasStdoutDigest, let log = try? blocking({ try await client.fetch(r.stdoutDigest.digest) }) {
                        tail = String(decoding: log, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                            .suffix(30).joined(separator: "\n")
                    }
                    throw ReproError(.failed, "remote build of \(recipe.file) failed on a worker (exit \(r.exitCode))\(tail.isEmpty ? "" : ":\n" + tail)")
                }
                ctx.summary.outcome = "executed"
            }
        } catch let e as ReproError {
            try unavailable(e, remote, &ctx.summary, doing: "building locally", warn: warn)
            return ctx.summary
        }
        guard let r = hit else { return ctx.summary }
        let got = try blocking {
            try await RemoteResult.receive(client, result: r, action: action, recipeDigest: recipeDigest,
                                           store: store, trusted: trusted)
        }
        if ctx.summary.outcome != "executed" { ctx.summary.outcome = "remote-hit" }
        ctx.summary.downloadedBytes = got.stats.bytes
        ctx.summary.keyid = got.keyid
        return ctx.summary
    }

    public static func publish(_ recipe: Recipe, lock: LockFile, store: Store, runner: SandboxRunner,
                               remote: RemoteBuildOptions, signer: PublicKey, warn: (String) -> Void) throws -> RemoteSummary {
        var ctx = try context(recipe, lock: lock, runner: runner, remote: remote)
        let client = ctx.client, action = ctx.action
        defer { client.closeBlocking() }
        do {
            let stats = try blocking { try await RemoteResult.publish(client, store: store, action: action, signer: signer) }
            ctx.summary.outcome = "uploaded"
            ctx.summary.uploadedBytes = stats.bytes
        } catch let e as ReproError {
            try unavailable(e, remote, &ctx.summary, doing: "the result was not uploaded", warn: warn)
        }
        return ctx.summary
    }
}
