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

/// The options `repro build` hands to the two phases it runs here.
struct PhaseOptions: ParsableArguments {
    @Argument(help: "The recipe file.")
    var recipe: String
    @Option(help: "The store directory.")
    var store: String?
    @Option(help: "The REAPI server, grpc://HOST:PORT.")
    var remote: String
    @Option(help: "The remote's instance name.")
    var instance: String = ""
    @Flag(name: .customLong("remote-exec")) var remoteExec = false
    @Flag(name: .customLong("remote-required")) var remoteRequired = false
    @Flag(name: .customLong("no-cache")) var noCache = false
    @Option(name: .customLong("trusted-key")) var trustedKey: [String] = []
    @Option(help: "The signing key (publish: its public half names the signer).")
    var key: String?

    func open() throws -> (Recipe, LockFile, Store, SandboxRunner, RemoteBuildOptions) {
        let r = try Recipe.load(path: recipe)
        let lock = try LockFile.read(path: r.lockPath)
        var o = RemoteBuildOptions(endpoint: try RemoteEndpoint.parse(remote, instance: instance))
        o.required = remoteRequired; o.execute = remoteExec; o.noCache = noCache
        o.trusted = try trustedKey.map { try PublicKey(path: $0) }
        return (r, lock, try Store(root: store), try SandboxRunner(), o)
    }
}

/// Phase 1 of `repro build --remote` (RemotePhases.lookup); prints the RemoteSummary.
struct RemoteLookup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-lookup", abstract: "Internal: the remote lookup (or execution) before `repro build`.",
        shouldDisplay: false)
    @OptionGroup var options: PhaseOptions

    func run() throws {
        try reporting {
            let (recipe, lock, store, runner, remote) = try options.open()
            try printJSON(try RemotePhases.lookup(recipe, lock: lock, store: store, runner: runner, remote: remote) { warn($0) })
        }
    }
}

/// Phase 2 of `repro build --remote` (RemotePhases.publish); prints the RemoteSummary.
struct RemotePublish: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-publish", abstract: "Internal: the upload after a `repro build` that missed the remote cache.",
        shouldDisplay: false)
    @OptionGroup var options: PhaseOptions

    func run() throws {
        try reporting {
            let (recipe, lock, store, runner, remote) = try options.open()
            let signer = try BuildAttestation.signingKey(explicit: options.key) { warn($0) }
            try printJSON(try RemotePhases.publish(recipe, lock: lock, store: store, runner: runner, remote: remote,
                                                   signer: signer.publicKey) { warn($0) })
        }
    }
}
