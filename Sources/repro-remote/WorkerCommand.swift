import ArgumentParser
import Attest
import Build
import Core
import Foundation
import Remote
import RemoteSettings
import Sandbox
import Store

/// `repro worker`: runs remote actions from a REAPI server's Bots API (docs/remote.md).
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run builds for a REAPI server (BuildGrid) as a Bots API worker.",
        discussion: "Holds a bot session with the server's Bots service and runs each leased action as `repro build` of the recipe and lock in the action's input root, in this host's store and sandbox, exactly as a local build; uploads outputs, log and signed provenance and completes the lease. Runs until stopped (SIGTERM/SIGINT); a lease in progress is then requeued by the server. Exit 2 bad options, 70 the server cannot be reached at start.")

    @Option(help: "The REAPI server, grpc://HOST:PORT (default $REPRO_REMOTE, else the config file's).")
    var remote: String?

    @Option(help: "The server's instance name.")
    var instance: String?

    @Option(help: "How many actions to run at once.")
    var jobs = 1

    @Option(help: "The store directory (default: $REPRO_HOME, else ~/.cache/repro).")
    var store: String?

    @Option(help: "The PEM private key that signs the provenance (default: as repro build).")
    var key: String?

    @Option(name: .customLong("builder-id"), help: "The builder id recorded in the provenance (default $REPRO_BUILDER_ID, else urn:repro:builder:worker).")
    var builderId: String?

    @Flag(name: .customLong("allow-degrade"), help: "Run even when a recipe limit cannot be enforced on this host.")
    var allowDegrade = false

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    func run() throws {
        // SIGTERM and SIGINT stop the worker (the server requeues a lease in progress),
        // even when the parent started it with them blocked (a test runner's threads
        // do); unblocked before any thread exists, so every thread inherits the mask.
        var stop = sigset_t()
        sigemptyset(&stop)
        sigaddset(&stop, SIGTERM)
        sigaddset(&stop, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &stop, nil)
        try reporting {
            guard let endpoint = try RemoteConfig.load().endpoint(flag: remote, instance: instance) else {
                throw ReproError(.invalidInput, "no remote: pass --remote grpc://HOST:PORT, set $REPRO_REMOTE, or [remote] url in \(RemoteConfig.defaultPath)")
            }
            var o = Worker.Options()
            o.jobs = jobs
            o.allowDegrade = allowDegrade
            o.attest.signingKey = try BuildAttestation.signingKey(explicit: key) { warn($0) }
            o.attest.builderID = builderId ?? ProcessInfo.processInfo.environment["REPRO_BUILDER_ID"] ?? "urn:repro:builder:worker"
            let client = try RemoteClient(endpoint)
            let worker = Worker(client: client, builder: Builder(store: try Store(root: store), runner: try SandboxRunner()), options: o)
            try blocking { try await worker.run() }
        }
    }
}
