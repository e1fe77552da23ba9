import ArgumentParser
import Attest
import Build
import Core
import Foundation
import Recipe
import RemoteSettings
import Sandbox
import Store

/// `repro build RECIPE`: the main job.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a recipe in the sandbox from its pinned inputs and print the tree digest of /out.",
        discussion: "Needs the recipe's lock (repro lock). Inputs missing from the store are fetched and verified; the toolchain root is assembled from the locked .debs and cached. The same recipe, lock and sandbox policy give the same action digest: a second build is answered from the action cache without starting a sandbox (--no-cache forces a run). Exit 0 ok, 1 the build failed (the log's tail is shown), 2 bad recipe or stale lock, 4 a fetched file did not match its pin."
    )

    @Argument(help: "The recipe file.")
    var recipe: String

    @Option(help: "Copy the outputs to this new or empty directory.")
    var out: String?

    @Flag(name: .customLong("no-cache"), help: "Run the build even when the action cache has a result.")
    var noCache = false

    @Option(name: .customLong("keep-build"), help: ArgumentHelp("Copy the build's /build to this new directory when the sandbox ends (also on failure): the unpacked inputs under src/ and what the build left; implies --no-cache.", valueName: "DIR"))
    var keepBuild: String?

    @Flag(help: "Fail instead of fetching anything the store lacks.")
    var offline = false

    @Flag(name: .customLong("allow-degrade"), help: "Run even when a recipe limit cannot be enforced on this host.")
    var allowDegrade = false

    @Flag(help: "Show the build log as it runs even when stderr is not a terminal (its tail is always shown on failure).")
    var log = false

    @Flag(name: .shortAndLong, help: "Stream everything (apt's output, each step, the whole build log) instead of the one-line status a terminal gets; like --log.")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Print only the tree digest (errors still go to stderr).")
    var quiet = false

    @Option(help: "Store directory (default $REPRO_HOME or ~/.cache/repro).")
    var store: String?

    @Option(help: "The PEM private key that signs the provenance (default $REPRO_SIGNING_KEY, else ~/.config/repro/keys/signing.pem, generated on first use).")
    var key: String?

    @Option(name: .customLong("sbom-format"), help: "SBOM format: spdx (SPDX 2.3 JSON) or cyclonedx (CycloneDX 1.6 JSON).")
    var sbomFormat: SBOMFormat = .spdx

    @Option(name: .customLong("builder-id"), help: "The builder id recorded in the provenance (default $REPRO_BUILDER_ID, else \(BuildAttestation.defaultBuilderID)).")
    var builderId: String?

    @Option(help: "A REAPI v2 remote cache, grpc://HOST:PORT (default $REPRO_REMOTE, else [remote] url in ~/.config/repro/config.toml; docs/remote.md).")
    var remote: String?

    @Option(help: "The remote's instance name (default $REPRO_REMOTE_INSTANCE, else the config's, else none).")
    var instance: String?

    @Flag(name: .customLong("remote-exec"), help: "On a remote cache miss, run the build on the remote's workers (repro worker) instead of here.")
    var remoteExec = false

    @Flag(name: .customLong("remote-required"), help: "Fail when the remote cannot be reached, instead of building locally with a warning.")
    var remoteRequired = false

    @Option(name: .customLong("trusted-key"), help: "A PEM public key a remote result's provenance may be signed by (repeatable; default the config's trusted-keys, else any key whose signature verifies).")
    var trustedKey: [String] = []

    @Flag(help: "Print the outcome as JSON on stdout.")
    var json = false

    func run() throws {
        do {
            let r = try Recipe.load(path: recipe)
            let lock: LockFile
            do { lock = try LockFile.read(path: r.lockPath) } catch let e as ReproError where !FileManager.default.fileExists(atPath: r.lockPath) {
                _ = e
                throw ReproError(.invalidInput, "\(r.lockPath) does not exist; run 'repro lock \(recipe)' first to pin the toolchain and inputs")
            }
            var options = BuildOptions()
            options.noCache = noCache || keepBuild != nil; options.offline = offline; options.outDir = out
            if let keepBuild {
                guard !FileManager.default.fileExists(atPath: keepBuild) else {
                    throw ReproError(.invalidInput, "--keep-build \(keepBuild) already exists; give a new directory")
                }
                options.keepBuild = keepBuild
            }
            options.allowDegrade = allowDegrade
            // On a terminal: one live status line (BuildProgress). --verbose/--log: every
            // step, apt's output and the whole log stream, as before. Not a terminal:
            // nothing but the result lines; the log's tail on failure.
            let terminal = isatty(2) != 0
            if verbose && quiet { throw ValidationError("--verbose and --quiet contradict each other; give one") }
            options.showLog = (log || verbose) && !quiet
            options.progress = options.showLog
            if terminal && !options.showLog && !quiet { options.display = BuildProgress() }
            options.attest = try attestOptions(progress: options.progress)
            let remoteSetting = try remoteEndpoint()   // a bad remote is bad input before anything opens
            let builder = Builder(store: try Store(root: store), runner: try SandboxRunner())
            let outcome: BuildOutcome, summary: RemoteSummary?
            if let remote = remoteSetting {
                (outcome, summary) = try buildWithRemote(r, lock: lock, options: options, builder: builder, remote: remote)
            } else {
                (outcome, summary) = (try builder.build(r, lock: lock, options: options), nil)
            }
            if json { try printJSON(RemoteBuildOutput(outcome: outcome, remote: summary)) } else if quiet { print(outcome.treeDigest) } else {
                print(outcome.treeDigest)
                // On a terminal the summary also gives the time (output to files keeps
                // its shape).
                let took = options.display == nil ? "" : outcome.wallSeconds.map { String(format: " in %.1f s", $0) } ?? ""
                warn("\(outcome.cached ? "cached" : "built")\(took): \(outcome.files) files, \(outcome.bytes) bytes; action \(outcome.actionDigest)")
                if let summary { warn("remote \(summary.endpoint): \(summary.outcome)" + (summary.keyid.map { "; provenance signed by keyid \($0)" } ?? "")) }
                if let p = outcome.provenanceFile, let s = outcome.sbomFile { warn("provenance: \(p); sbom: \(s)") }
                if outcome.provenance != nil, let k = options.attest.signingKey {
                    warn("signed with key \(k.publicKey.keyID) (\(key ?? Keys.signingKeyPath(explicit: nil)), shared by every REPRO_HOME of this user)")
                }
            }
        }
    }

    /// The remote to use, from the flags, $REPRO_REMOTE or the config file; nil: none.
    func remoteEndpoint() throws -> (RemoteEndpoint, RemoteConfig)? {
        let config = try RemoteConfig.load()
        guard let endpoint = try config.endpoint(flag: remote, instance: instance) else {
            if remoteExec || remoteRequired || !trustedKey.isEmpty {
                throw ReproError(.invalidInput, "--remote-exec, --remote-required and --trusted-key need a remote: pass --remote grpc://HOST:PORT, set $REPRO_REMOTE, or [remote] url in \(RemoteConfig.defaultPath)")
            }
            return nil
        }
        return (endpoint, config)
    }

    /// The build with a remote (docs/remote.md): a local cache hit needs none; else
    /// `repro-remote build-lookup` takes a remote hit (or a remote execution) into the
    /// store, the build runs here (a cache hit then), and on a miss `repro-remote
    /// build-publish` uploads the result. gRPC runs only in repro-remote.
    func buildWithRemote(_ r: Recipe, lock: LockFile, options: BuildOptions, builder: Builder,
                         remote: (RemoteEndpoint, RemoteConfig)) throws -> (BuildOutcome, RemoteSummary) {
        let (endpoint, config) = remote
        let url = "grpc://\(endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host):\(endpoint.port)"
        let action = try Builder.actionDigest(recipe: r, lock: lock, toolchain: Builder.toolchainID(of: lock),
                                              policy: try builder.runner.policyVersion())
        if !noCache, try builder.store.lookupAction(action) != nil {
            return (try builder.build(r, lock: lock, options: options), RemoteSummary(endpoint: url, instance: endpoint.instance, outcome: "local-hit"))
        }
        var args = [recipe, "--store", builder.store.root, "--remote", url, "--instance", endpoint.instance]
        if remoteExec || config.execute { args.append("--remote-exec") }
        if remoteRequired || config.required { args.append("--remote-required") }
        if noCache { args.append("--no-cache") }
        for k in trustedKey.isEmpty ? config.trustedKeys : trustedKey { args += ["--trusted-key", k] }
        if let key { args += ["--key", key] }
        func phase(_ name: String) throws -> RemoteSummary {
            let (status, out) = try RemoteTool.run([name] + args)
            guard status == 0 else { throw ExitCode(status) }
            do { return try JSONDecoder().decode(RemoteSummary.self, from: out) } catch {
                throw ReproError(.internal, "repro-remote \(name) printed no summary: \(String(decoding: out, as: UTF8.self))")
            }
        }
        var summary = try phase("build-lookup")
        var local = options
        if summary.outcome == "remote-hit" || summary.outcome == "executed" { local.noCache = false }
        var outcome = try builder.build(r, lock: lock, options: local)
        if summary.outcome == "remote-hit" { outcome.cached = true }
        if summary.outcome == "miss" {
            let up = try phase("build-publish")
            summary.outcome = up.outcome
            summary.uploadedBytes = up.uploadedBytes
            summary.warning = up.warning
        }
        return (outcome, summary)
    }

    /// The signing key (loaded before anything is built, so a bad key fails first) and
    /// the parameters the user passed, as the provenance records them.
    func attestOptions(progress: Bool) throws -> AttestOptions {
        var a = AttestOptions()
        a.signingKey = try BuildAttestation.signingKey(explicit: key) { if !quiet { warn($0) } }
        a.sbomFormat = sbomFormat
        let env = ProcessInfo.processInfo.environment["REPRO_BUILDER_ID"]
        if let id = builderId ?? env {
            guard id.contains(":"), !id.contains(" ") else {
                throw ReproError(.invalidInput, "builder id '\(id)' is not a URI; use e.g. urn:repro:builder:ci-main or https://ci.example/builders/1")
            }
            a.builderID = id
        }
        var p: [String: String] = ["recipe": recipe, "sbom-format": sbomFormat.rawValue]
        if let out { p["out"] = out }
        if noCache { p["no-cache"] = "true" }
        if offline { p["offline"] = "true" }
        if allowDegrade { p["allow-degrade"] = "true" }
        if let id = builderId { p["builder-id"] = id }
        a.parameters = p
        return a
    }
}

/// `repro build --json`: the outcome, with a `remote` object when a remote was used.
struct RemoteBuildOutput: Encodable {
    let outcome: BuildOutcome
    let remote: RemoteSummary?
    enum Key: String, CodingKey { case remote }
    func encode(to encoder: any Encoder) throws {
        try outcome.encode(to: encoder)
        var c = encoder.container(keyedBy: Key.self)
        try c.encodeIfPresent(remote, forKey: .remote)
    }
}
