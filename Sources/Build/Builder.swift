import Core
import Fetch
import Foundation
import Recipe
import Sandbox
import Store

/// What `repro build` did.
public struct BuildOutcome: Codable, Sendable {
    public var recipe: String
    public var recipeDigest: String
    public var actionDigest: String
    public var treeDigest: String
    /// True when the action cache answered and no sandbox ran.
    public var cached: Bool
    public var files: Int
    public var bytes: Int64
    public var logDigest: String?
    public var wallSeconds: Double?
    public var out: String?
    public var toolchain: String
    /// The deterministic archive of the outputs, when the recipe asks for one: its
    /// file name and digest (stored in the store; written next to --out).
    public var archive: String?
    public var archiveDigest: String?
    /// The signed provenance (DSSE envelope) and the SBOM in the store, and where they
    /// were written next to --out.
    public var provenance: String?
    public var sbom: String?
    public var provenanceFile: String?
    public var sbomFile: String?
    /// The limits the sandbox ran under (the recipe's, else repro's defaults); nil on a
    /// cache hit.
    public var limits: AppliedLimits?

    public struct AppliedLimits: Codable, Sendable {
        public var memory: Int64?
        public var pids: Int?
        public var cpus: Double?
        public var cpuTime: Int?
        public var timeout: Int?
        public var outputSize: Int64?
        public var tmpfsSize: Int64?
        enum CodingKeys: String, CodingKey {
            case memory, pids, cpus, cpuTime = "cpu_time", timeout, outputSize = "output_size", tmpfsSize = "tmpfs_size"
        }
    }

    enum CodingKeys: String, CodingKey {
        case recipe, recipeDigest = "recipe_digest", actionDigest = "action_digest", treeDigest = "tree_digest"
        case cached, files, bytes, logDigest = "log_digest", wallSeconds = "wall_seconds", out, toolchain
        case archive, archiveDigest = "archive_digest"
        case provenance, sbom, provenanceFile = "provenance_file", sbomFile = "sbom_file", limits
    }
}

public struct BuildOptions: Sendable {
    public var noCache = false
    /// A varied build for `repro verify` (BuildVariant.swift): runs unrecorded.
    public var variant: BuildVariant?
    public var offline = false
    /// Copy the outputs here (a new or empty directory).
    public var outDir: String?
    public var allowDegrade = false
    /// Show the build log on stderr as it runs.
    public var showLog = false
    /// Copy the build's /build (unpacked inputs under src/, and what the build left
    /// there) to this new directory after the sandbox ends, whether it succeeded or not.
    public var keepBuild: String?
    public var progress = false
    /// The live status line on a terminal (BuildProgress), when neither verbose nor quiet.
    public var display: BuildProgress?
    /// Signing key, SBOM format, builder id and the user's parameters for provenance.
    public var attest = AttestOptions()
    public init() {}
}

/// The path of one build (DESIGN.md): pinned inputs into the store, the toolchain root,
/// the action digest, the action cache, the sandbox, the outputs into the store.
public struct Builder: Sendable {
    public let store: Store
    public let runner: SandboxRunner
    /// Changes whenever what a build means changes (layout of /build, env, mounts).
    public static let actionFormat = "repro-action-1"

    public init(store: Store, runner: SandboxRunner) {
        self.store = store
        self.runner = runner
    }

    func say(_ options: BuildOptions, _ text: String) {
        if options.progress { FileHandle.standardError.write(Data("repro: \(text)\n".utf8)) }
    }

    /// Runs the build; with `outDir`, all or nothing: when any step fails, the output
    /// directory, the provenance and SBOM beside it and the output archive are removed
    /// again (those this call created), so a failed `--out` leaves nothing behind.
    public func build(_ recipe: Recipe, lock: LockFile, options: BuildOptions) throws -> BuildOutcome {
        defer { options.display?.finish() }
        guard let outDir = options.outDir else { return try buildOnce(recipe, lock: lock, options: options) }
        let base = outDir.hasSuffix("/") ? String(outDir.dropLast()) : outDir
        let parent = (base as NSString).deletingLastPathComponent
        var placed = [base, base + ".intoto.jsonl", base + options.attest.sbomFormat.suffix]
        if let name = recipe.archiveFileName { placed.append((parent.isEmpty ? "." : parent) + "/" + name) }
        let fresh = placed.filter { p in
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { return true }
            // An empty output directory is the user's, but holds nothing to lose.
            return p == base && isDir.boolValue && (try? FileManager.default.contentsOfDirectory(atPath: p))?.isEmpty == true
        }
        do {
            return try buildOnce(recipe, lock: lock, options: options)
        } catch {
            for p in fresh { try? RemoveTree.remove(p) }
            throw error
        }
    }

    private func buildOnce(_ recipe: Recipe, lock: LockFile, options: BuildOptions) throws -> BuildOutcome {
        let stale = lock.changes(for: recipe, contentDigests: try Locker.pathDigests(recipe)).filter(\.affectsPins)
        if !stale.isEmpty {
            throw ReproError(.invalidInput, "\(recipe.lockPath) is stale: \(stale.map(\.message).joined(separator: "; ")); run 'repro lock \(recipe.file)'")
        }
        let buildStarted = Date()
        // What a build killed mid-way (kill -9, power loss) left behind.
        store.removeStaleTemporaries()
        let tmp = (options.variant?.tmpParent ?? store.root + "/tmp") + "/build-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? RemoveTree.remove(tmp) }
        let locker = Locker(store: store, progress: options.progress)
        let stager = InputStager(store: store, offline: options.offline, progress: options.progress,
                                 apt: { try locker.apt() })

        // The toolchain's id comes from the lock alone, so the action cache can answer
        // before anything is fetched or assembled.
        let pins = lock.toolchain.kind == "debian" ? lock.toolchain.packages.map(DebPin.init) : []
        let toolchainID = Self.toolchainID(of: lock)

        // The action digest: everything that decides the outputs.
        let policy = try runner.policyVersion()
        let action = try Self.actionDigest(recipe: recipe, lock: lock, toolchain: toolchainID, policy: policy)
        let base = BuildOutcome(recipe: recipe.file, recipeDigest: recipe.digest.description, actionDigest: action.description,
                                treeDigest: "", cached: false, files: 0, bytes: 0, logDigest: nil, wallSeconds: nil,
                                out: options.outDir, toolchain: toolchainID,
                                archive: nil, archiveDigest: nil, provenance: nil, sbom: nil,
                                provenanceFile: nil, sbomFile: nil, limits: nil)

        if !options.noCache, let hit = try store.lookupAction(action) {
            let manifest = try store.manifest(tree: hit.tree)
            if let out = options.outDir { try store.restoreTree(hit.tree, to: out) }
            var o = base
            o.treeDigest = hit.tree.description; o.cached = true
            o.files = manifest.files; o.bytes = manifest.bytes; o.logDigest = hit.log?.description
            // The provenance of the build that made these bits.
            if let a = try store.attestation(action: action, format: options.attest.sbomFormat.rawValue) {
                o.provenance = a.envelope.description; o.sbom = a.sbom.description
                if let out = options.outDir {
                    (o.provenanceFile, o.sbomFile) = try BuildAttestation.writeBeside(outDir: out, record: a, store: store)
                }
                // The output archive, named by the provenance and kept in the store.
                if let (name, digest) = try BuildAttestation.archive(of: a, store: store), store.contains(digest) {
                    o.archive = name; o.archiveDigest = digest.description
                    if let out = options.outDir { try Self.placeArchive(name, digest, beside: out, store: store) }
                }
            }
            return o
        }

        // The build's row: written now (running), updated when it succeeds (below) or
        // fails (whatever is thrown from here on).
        let buildID = try store.beginBuild(recipe: recipe.digest, action: action)
        var finished = false
        defer { if !finished { try? store.finishBuild(buildID, tree: nil) } }

        // Toolchain root: the locked .debs from the store (or apt, verified), assembled
        // once per id and reused.
        var root: String?
        if !pins.isEmpty {
            say(options, "toolchain: \(pins.count) packages")
            if let d = options.display {
                let missing = pins.filter { !store.contains($0.digest) }.count
                d.phase("toolchain", missing == 0 ? "\(pins.count) packages in the store" : "fetching")
                if missing > 0 { d.watch(stager.debDirectory(tmp: tmp), total: missing) }
            }
            let debs = try stager.debs(pins, tmp: tmp)
            options.display?.phase("assembling the root", "\(pins.count) packages")
            root = try ToolchainRoot.assemble(debs, cacheDir: store.root, progress: options.progress)
        }

        // Inputs.
        let work = tmp + "/build", out = tmp + "/out"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // output-size and build-size hold while the build runs: a tmpfs of that size
        // over /out and /build (SizedDirectory). Unmounted before tmp is removed.
        var sizedOut: SizedDirectory?, sizedWork: SizedDirectory?
        defer { sizedOut?.unmount(); sizedWork?.unmount() }
        if let limit = recipe.limits.outputSize {
            sizedOut = try SizedDirectory.mount(out, bytes: limit, limit: "output-size", allowDegrade: options.allowDegrade) { FileHandle.standardError.write(Data("repro: \($0)\n".utf8)) }
        }
        if let limit = recipe.limits.buildSize {
            sizedWork = try SizedDirectory.mount(work, bytes: limit, limit: "build-size", allowDegrade: options.allowDegrade) { FileHandle.standardError.write(Data("repro: \($0)\n".utf8)) }
        }
        try FileManager.default.createDirectory(atPath: work + "/src", withIntermediateDirectories: true)
        var patches: [(String, [String])] = []
        for input in recipe.inputs {
            guard let pin = lock.inputs[input.name] else {
                throw ReproError(.invalidInput, "\(recipe.lockPath) has no pin for input '\(input.name)'; run 'repro lock \(recipe.file)'")
            }
            say(options, "input \(input.name): \(input.kind) \(input.spec)")
            options.display?.phase("staging input \(input.name)", "\(input.kind) \(input.spec)")
            let p = try stager.stage(input, pin: pin, recipe: recipe, work: work, tmp: tmp)
            if !p.isEmpty { patches.append((input.name, p)) }
        }
        let epoch: Int64
        switch recipe.build.sourceDateEpoch {
        case let .seconds(s): epoch = s
        case let .fromInput(name): epoch = try DebianSource.changelogEpoch(work + "/src/" + name)
        }

        // A recipe with a [test] step keeps the manifest of its inputs as staged (the
        // base of "files changed since the previous test run") and, after the build, its
        // working tree (what the tests run in).
        var inputsTree: Digest?
        if recipe.test != nil, options.variant == nil {
            inputsTree = try store.putTree(work + "/src").treeDigest
        }

        if options.variant?.reverseDirectoryOrder == true { try BuildVariant.reverseDirectoryOrder(work) }
        var spec = try sandbox(recipe: recipe, root: root, work: work, out: out, epoch: epoch, patches: patches,
                               allowDegrade: options.allowDegrade, scriptFile: tmp + "/build.sh")
        options.variant?.apply(to: &spec)
        say(options, "build: sandbox with \(toolchainID == "host" ? "the host toolchain" : "toolchain \(toolchainID.prefix(19))…")")
        let el = Self.effectiveLimits(recipe.limits)
        let applied = BuildOutcome.AppliedLimits(memory: el.memory, pids: el.pids, cpus: el.cpus, cpuTime: el.cpuTime,
                                                 timeout: el.timeout, outputSize: el.outputSize, tmpfsSize: spec.tmpfsSize)
        let started = Date()
        // The log goes to a file as it arrives, capped (BuildLog); nothing of it is kept
        // in memory, whatever the build prints.
        let buildLog = try BuildLog(dir: tmp, cap: recipe.limits.logSize ?? Self.defaultLogSize)
        var logError: Error?
        options.display?.phase("building")
        let run = try runner.run(spec, output: .stream) { _, chunk in
            options.display?.log(chunk)
            if options.showLog { FileHandle.standardError.write(Data(chunk)) }
            if logError == nil { do { try buildLog.append(chunk) } catch { logError = error } }
        }
        if let logError { throw logError }
        try buildLog.finish()
        let logDigest = try store.put(file: buildLog.path)
        if let keep = options.keepBuild {
            try FileManager.default.copyItem(atPath: work, toPath: keep)
            FileHandle.standardError.write(Data("repro: kept /build in \(keep) (inputs under src/)\n".utf8))
        }
        if !run.result.succeeded { options.display?.finish() }
        guard run.result.succeeded else {
            if let d = sizedOut, d.isFull {
                throw ReproError(.failed, "build of \(recipe.file) failed: it filled /out, whose output-size limit is \(d.bytes) bytes; raise [limits] output-size or write less; full log: \(logDigest) in the store")
            }
            if let d = sizedWork, d.isFull {
                throw ReproError(.failed, "build of \(recipe.file) failed: it filled /build, whose build-size limit is \(d.bytes) bytes; raise [limits] build-size; full log: \(logDigest) in the store")
            }
            if !options.showLog, buildLog.total > 0 {
                let tail = buildLog.tail(lines: 30)
                FileHandle.standardError.write(Data((tail.hasSuffix("\n") ? tail : tail + "\n").utf8))
            }
            throw ReproError(.failed, "build of \(recipe.file) failed: \(run.result.summary); \(options.showLog || buildLog.total == 0 ? "" : "the log's last lines are above; ")full log (\(buildLog.total) bytes): less \(store.blobPath(logDigest.hex))  (repro store path \(logDigest) prints it)")
        }
        // A tree over the limit is rejected before anything of it is stored.
        if let limit = recipe.limits.outputSize {
            let bytes = SizedDirectory.bytes(under: out, limit: limit)
            if bytes > limit {
                throw ReproError(.failed, "outputs are over the recipe's output-size limit of \(limit) bytes (\(bytes) counted so far); nothing was stored")
            }
        }
        options.display?.phase("hashing and storing the outputs")
        let (tree, manifest) = try store.putTree(out)
        if options.variant != nil {
            // A varied build (repro verify) records nothing: its tree is only compared.
            if let outDir = options.outDir { try store.restoreTree(tree, to: outDir) }
            var o = base
            o.limits = applied
            o.treeDigest = tree.description
            o.files = manifest.files; o.bytes = manifest.bytes; o.logDigest = logDigest.description
            o.wallSeconds = Date().timeIntervalSince(started)
            return o
        }
        var archive: (name: String, digest: Digest)?
        if let format = recipe.outputs.archive, let name = recipe.archiveFileName {
            let path = tmp + "/" + name
            try OutputArchive.write(manifest, from: out, format: format.rawValue, epoch: epoch, to: path)
            archive = (name, try store.put(file: path))
            try store.pin(archive!.digest, note: "output archive \(name) of \(recipe.name)")
        }
        try store.recordAction(ActionResult(action: action, tree: tree, manifest: tree, exitCode: 0, log: logDigest))
        if let inputsTree {
            let (worktree, _) = try store.putTree(work)
            try store.recordAction(ActionResult(action: Self.worktreeKey(action), tree: worktree, manifest: worktree,
                                                exitCode: 0, log: nil))
            try store.recordAction(ActionResult(action: Self.inputsKey(action), tree: inputsTree, manifest: inputsTree,
                                                exitCode: 0, log: nil))
        }
        try store.finishBuild(buildID, tree: tree)
        finished = true
        // What the build was made from stays in the store through `repro store gc`, so
        // it can be rebuilt offline (and exported) later.
        for p in lock.toolchain.packages { try store.pin(p.digest, note: "toolchain of \(recipe.name): \(p.name)") }
        for (name, input) in lock.inputs {
            for f in input.files ?? [] where store.contains(f.digest) { try store.pin(f.digest, note: "input \(name) of \(recipe.name)") }
            if store.contains(input.digest) { try store.pin(input.digest, note: "input \(name) of \(recipe.name)") }
        }
        // Provenance and SBOM, made on the host after the sandbox is gone, signed with a
        // key the sandbox never saw.
        let facts = try BuildAttestation.facts(
            recipe: recipe, lock: lock, manifest: manifest, tree: tree, action: action, toolchain: toolchainID,
            archive: archive, epoch: epoch, policy: policy, launcher: runner.launcher, log: logDigest,
            started: buildStarted, finished: Date(), store: store, options: options.attest)
        options.display?.phase("signing provenance and writing the SBOM")
        let signer = try options.attest.signingKey ?? BuildAttestation.signingKey(explicit: nil) { say(options, $0) }
        let attestation = try BuildAttestation.make(facts, key: signer, format: options.attest.sbomFormat, store: store,
                                                    action: action, tree: tree)
        if let outDir = options.outDir { try store.restoreTree(tree, to: outDir) }
        var o = base
        o.limits = applied
        o.provenance = attestation.record.envelope.description
        o.sbom = attestation.record.sbom.description
        if let outDir = options.outDir {
            (o.provenanceFile, o.sbomFile) = try BuildAttestation.writeBeside(outDir: outDir, record: attestation.record, store: store)
        }
        o.treeDigest = tree.description
        o.files = manifest.files; o.bytes = manifest.bytes; o.logDigest = logDigest.description
        o.wallSeconds = Date().timeIntervalSince(started)
        o.archive = archive?.name
        o.archiveDigest = archive?.digest.description
        if let archive, let outDir = options.outDir { try Self.placeArchive(archive.name, archive.digest, beside: outDir, store: store) }
        return o
    }

    /// The action-cache key under which a build with a [test] step keeps its working
    /// tree as the build left it (what the tests run in).
    public static func worktreeKey(_ action: Digest) -> Digest {
        Digest.of(Data("repro-worktree-1\n\(action)".utf8))
    }

    /// The action-cache key under which a build with a [test] step keeps its inputs as
    /// staged in /build/src before the script ran (the base of changed files).
    public static func inputsKey(_ action: Digest) -> Digest {
        Digest.of(Data("repro-inputs-1\n\(action)".utf8))
    }

    /// Copies the output archive next to the output tree: --out dist/hello gives
    /// dist/hello-2.10.tar.gz.
    static func placeArchive(_ name: String, _ digest: Digest, beside outDir: String, store: Store) throws {
        let dest = ((outDir as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
        try? FileManager.default.removeItem(atPath: dest)
        try FileManager.default.copyItem(atPath: try store.path(for: digest), toPath: dest)
    }

    /// The sandbox of a build: the toolchain root read-only as /, synthesized /etc
    /// files, /build (sources under /build/src) and /out writable, nothing else.
    /// The script reaches the sandbox as a read-only file at `scriptInside`, written to
    /// `scriptFile` on the host: on the command line, a script over 128 KiB (Linux's
    /// MAX_ARG_STRLEN) made posix_spawn fail with E2BIG (exit 70).
    func sandbox(recipe: Recipe, root: String?, work: String, out: String, epoch: Int64,
                 patches: [(String, [String])], allowDegrade: Bool, scriptFile: String) throws -> SandboxSpec {
        let uid: UInt32 = recipe.build.user == .root ? 0 : 1000
        var mounts: [SandboxSpec.Mount] = root.map { Self.rootMounts($0) } ?? HostToolchain.mounts()
        mounts += SandboxView.etcFiles(uid: uid, gid: uid, home: "/build")
        mounts += SandboxView.system
        mounts += [.readWrite(host: work, inside: "/build"), .readWrite(host: out, inside: "/out")]
        let jobs = recipe.build.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        var env = SandboxView.environment(home: "/build", jobs: jobs)
        env += [("SOURCE_DATE_EPOCH", String(epoch)), ("REPRO_OUT", "/out")]
        for k in recipe.build.env.keys.sorted() { env.append((k, recipe.build.env[k]!)) }
        var script = "exec 2>&1\nset -e\n"
        for (name, list) in patches {
            script += "cd /build/src/\(name)\n"
            for p in list { script += "patch -p1 --quiet --no-backup-if-mismatch < '\(p)'\n" }
        }
        script += "cd /build\n" + recipe.build.script
        try Data(script.utf8).write(to: URL(fileURLWithPath: scriptFile))
        mounts.append(.readOnly(host: scriptFile, inside: Self.scriptInside))
        var spec = SandboxSpec(command: ["/bin/sh", Self.scriptInside], mounts: mounts, environment: env)
        spec.uid = uid; spec.gid = uid
        spec.workingDirectory = "/build"
        let l = Self.effectiveLimits(recipe.limits)
        spec.limits = .init(memory: l.memory, pids: l.pids, cpus: l.cpus, cpuSeconds: l.cpuTime)
        spec.timeout = l.timeout.map(Double.init)
        spec.tmpfsSize = SandboxDefaults.tmpfsSize
        spec.allowDegrade = allowDegrade
        return spec
    }

    /// Where the build script is inside the sandbox.
    static let scriptInside = "/.repro/build.sh"

    /// Bytes of build log kept when the recipe sets no `[limits] log-size`: 64 MiB.
    public static let defaultLogSize: Int64 = 64 << 20

    /// The recipe's limits with repro's defaults (SandboxDefaults) for memory, pids and
    /// the timeout where the recipe leaves them out. Not part of any digest.
    public static func effectiveLimits(_ l: Recipe.Limits) -> Recipe.Limits {
        var e = l
        e.memory = l.memory ?? SandboxDefaults.memory
        e.pids = l.pids ?? SandboxDefaults.pids
        e.timeout = l.timeout ?? SandboxDefaults.timeout
        return e
    }

    /// A root directory's top-level entries as read-only binds and symlinks; /etc entry
    /// by entry so that passwd, group and hosts can be synthesized.
    public static func rootMounts(_ root: String) -> [SandboxSpec.Mount] {
        let fm = FileManager.default
        let skip: Set<String> = ["proc", "dev", "tmp", "build", "out", "sys", "run"]
        var mounts: [SandboxSpec.Mount] = []
        func add(_ host: String, _ inside: String) {
            if let target = try? fm.destinationOfSymbolicLink(atPath: host) {
                mounts.append(.symlink(target: target, at: inside))
            } else {
                mounts.append(.readOnly(host: host, inside: inside))
            }
        }
        for name in ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted() where !skip.contains(name) {
            if name == "etc" {
                for e in ((try? fm.contentsOfDirectory(atPath: root + "/etc")) ?? []).sorted()
                where !["passwd", "group", "hosts"].contains(e) {
                    add(root + "/etc/" + e, "/etc/" + e)
                }
            } else {
                add(root + "/" + name, "/" + name)
            }
        }
        return mounts
    }
}
