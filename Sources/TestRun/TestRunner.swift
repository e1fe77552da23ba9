import Build
import Core
import Faults
import Fetch
import Attest
import Foundation
import Recipe
import Results
import Rank
import Sandbox
import Store

/// What `repro test` was asked to do.
public struct TestOptions: Sendable {
    /// nil: `model` once the recipe has history, else `original`.
    public var order: OrderStrategy?
    /// Only tests whose id matches (a glob with `*`/`?`, else a substring).
    public var filter: String?
    /// Run only the prefix the model picks under this budget (`repro test --select`).
    public var select: Budget?
    /// With `select`: every Nth run runs everything.
    public var fullEvery = 10
    /// Reruns of each failing test under variations, to tell flaky from broken.
    public var rerunFailures = 0
    public var failFast = false
    public var offline = false
    public var allowDegrade = false
    /// Bytes of the suite's output kept (head and tail) in the run's log.
    public var logLimit = 8 << 20
    public var signingKey: String?
    /// A fault spec for the whole suite (docs/faults.md); nil: the recipe's [test] faults.
    public var faults: String?
    /// No faults at all, not even the recipe's (the clean run of `--chaos`).
    public var faultsDisabled = false
    /// The results baseline (a results run id or label); nil: the recipe's last passed run.
    public var resultsBaseline: String?
    public var tolerances = Tolerances()
    /// Also write the signed test result (a DSSE envelope, one JSON line) here.
    public var attestationFile: String?
    /// Also restore the build's working tree (as the tests start from it) here: a new or
    /// empty directory, to look at or to run the suite by hand.
    public var keepWorktree: String?
    public init() {}
}

/// Hooks for the CLI's live display.
public protocol TestProgress: AnyObject, Sendable {
    func note(_ text: String)
    func planned(total: Int)
    func started(_ id: String)
    func finished(_ execution: TestExecutionRow)
}

/// The path of one test run (DESIGN.md): the build (a cache hit or fresh), the test
/// root, the listing, the order, the run in the sandbox with one record per test
/// committed as it arrives, reruns of failures, the signed result.
public struct TestRunner: Sendable {
    public let store: Store
    public let runner: SandboxRunner
    public let telemetry: Telemetry

    public init(store: Store, runner: SandboxRunner) throws {
        self.store = store
        self.runner = runner
        telemetry = try Telemetry(path: store.root + "/telemetry.sqlite")
    }

    /// Set by SIGINT/SIGTERM (TestSignals): the run stops and reads as `interrupted`.
    public static let interrupted = InterruptFlag()

    public func run(_ recipe: Recipe, lock: LockFile, options: TestOptions, progress: (any TestProgress)?) throws -> TestRunSummary {
        guard let test = recipe.test else {
            throw ReproError(.invalidInput, "\(recipe.file) has no [test] step; add [test] with framework = \"pytest\", \"ctest\" or \"junit\" (docs/testing.md)")
        }
        let stale = lock.changes(for: recipe, contentDigests: try Locker.pathDigests(recipe))
            .filter { $0.affectsPins || $0.kind == .testPackages }
        if !stale.isEmpty {
            throw ReproError(.invalidInput, "\(recipe.lockPath) is stale: \(stale.map(\.message).joined(separator: "; ")); run 'repro lock \(recipe.file)'")
        }

        var phases = PhaseClock()
        // The build: a cache hit never rebuilds, unless it predates the [test] step and
        // so kept no working tree.
        let builder = Builder(store: store, runner: runner)
        var buildOptions = BuildOptions()
        buildOptions.offline = options.offline
        buildOptions.allowDegrade = options.allowDegrade
        progress?.note("build: \(recipe.file)")
        var build = try builder.build(recipe, lock: lock, options: buildOptions)
        let action = try Digest.parse(build.actionDigest)
        var worktree = try store.lookupAction(Builder.worktreeKey(action))
        if worktree == nil {
            progress?.note("build: the cached build kept no working tree (it predates the [test] step); building once more to keep it")
            buildOptions.noCache = true
            build = try builder.build(recipe, lock: lock, options: buildOptions)
            worktree = try store.lookupAction(Builder.worktreeKey(try Digest.parse(build.actionDigest)))
        }
        let finalAction = try Digest.parse(build.actionDigest)
        guard let worktree, let outputs = try store.lookupAction(finalAction) else {
            throw ReproError(.internal, "the build of \(recipe.file) recorded no working tree")
        }
        let inputsTree = try store.lookupAction(Builder.inputsKey(finalAction))?.tree

        phases.mark("build")
        let root = try builder.testRoot(lock: lock, offline: options.offline, progress: false)
        phases.mark("root")
        let tmp = store.root + "/tmp/test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let dirs = (lib: tmp + "/lib", run: tmp + "/run")
        for d in [dirs.lib + "/lib", dirs.lib + "/bin", dirs.run] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        defer { try? RemoveTree.remove(tmp) }
        // A pristine copy under an overlay where the kernel allows it, else a fresh copy.
        let work = try TestWorktree.prepare(store: store, tree: worktree.tree, tmp: tmp, runner: runner)
        if let keep = options.keepWorktree { try store.restoreTree(worktree.tree, to: keep) }
        // The outputs are read-only in the sandbox: the cached copy is bound as it is.
        let outDir = try TestWorktree.pristineCopy(store: store, tree: outputs.tree)
        phases.mark("worktree")

        let epoch: Int64
        switch recipe.build.sourceDateEpoch {
        case let .seconds(s): epoch = s
        // Read from the tree as the build left it (before the suite runs), as the build did.
        case let .fromInput(name): epoch = (try? DebianSource.changelogEpoch(work.base + "/src/" + name)) ?? 0
        }
        let faults = try TestFaults.spec(options: options, test: test, recipe: recipe)
        let box = TestSandbox(recipe: recipe, test: test, root: root, work: work, out: outDir, lib: dirs.lib,
                              run: dirs.run, epoch: epoch, allowDegrade: options.allowDegrade, faults: faults)
        try box.checkRunner()

        // Telemetry: the run's row first, so a run killed from here on reads as interrupted.
        let previous = try telemetry.previousRun(recipe: recipe.name, before: nil)
        let changed = ChangedFiles.between(previous?.inputsManifest, inputsTree?.description, store: store)
        // The tree's import graph (Python suites, when something changed), kept in the
        // store so that a model retrained from telemetry sees each run's own graph.
        let imports = TestImports.graph(framework: test.framework, changed: changed, sources: work.base + "/src",
                                        progress: progress)
        let importsDigest = try imports.map { try store.put(data: try ImportGraphFile.encode($0)) }
        let graphs = ImportGraphCache(store: store)
        // The history streams through the model run by run; none of it is kept.
        let orderer = try TestOrderer.load(telemetry: telemetry, recipe: recipe.name,
                                           modelPath: store.root + "/models/\(recipe.name).json", imports: graphs)
        let strategy = options.order ?? (orderer.runs == 0 ? .original : .model)
        let lockDigest = Digest.of(lock.encoded())
        var row = TestRunRow(
            id: nil, recipe: recipe.name, recipeFile: recipe.file, recipeDigest: recipe.digest.description,
            lockDigest: lockDigest.description, buildAction: build.actionDigest, tree: build.treeDigest,
            inputsManifest: inputsTree?.description, inputDigests: lock.inputs.mapValues { "sha256:" + $0.sha256 },
            changedFiles: changed, framework: test.framework.rawValue, host: Telemetry.hostName, pid: Int64(getpid()),
            started: Date().timeIntervalSince1970, finished: nil, status: .running, orderStrategy: strategy.description,
            seed: strategy.seed.map { Int64(bitPattern: $0) }, filter: options.filter, faults: faults?.canonical,
            requestedOrder: [], attestation: nil, message: nil)
        let infraDigest = lock.infrastructureDigest.description
        row.infraDigest = infraDigest
        row.importsGraph = importsDigest?.description
        let runID = try telemetry.begin(row)
        if let importsDigest { try store.pin(importsDigest, note: "import graph of test run \(runID) of \(recipe.name)") }
        var session = TestSession(runner: runner, telemetry: telemetry, box: box, runID: runID, options: options,
                                  progress: progress, strategy: strategy, orderer: orderer, changed: changed,
                                  log: try CappedLog(path: tmp + "/suite.log", limit: options.logLimit))
        session.worktree = worktree.tree.description
        session.imports = imports
        // A source edit re-pins its path input in the lock: only the rest of the lock counts.
        session.infrastructureChanged = previous.map {
            $0.recipeDigest != recipe.digest.description
                || ($0.infraDigest.map { $0 != infraDigest } ?? ($0.lockDigest != lockDigest.description))
        } ?? false
            || TestSelection.touchesInfrastructure(changed ?? [], recipe: (recipe.file as NSString).lastPathComponent,
                                                   lock: (recipe.lockPath as NSString).lastPathComponent)
        let started = Date()
        phases.mark("setup")
        var status: TestRunStatus = .error
        var message: String?
        do {
            try session.execute()
            if session.interrupted {
                status = .interrupted
            } else {
                try session.rerunFailures()
                status = session.interrupted ? .interrupted : (session.failingTests.isEmpty && session.runnerFailure == nil ? .passed : .failed)
            }
            message = session.runnerFailure
        } catch {
            // The run row says why it ended; the suite's log stays in the store.
            session.log.close()
            let logDigest = try? store.put(file: tmp + "/suite.log")
            try? telemetry.finish(runID, status: .error, message: (error as? ReproError)?.message ?? String(describing: error))
            if let logDigest, let path = try? store.path(for: logDigest) { progress?.note("suite log: \(path)") }
            throw error
        }
        session.log.close()
        phases.mark("suite")
        let logDigest = try store.put(file: tmp + "/suite.log")
        try store.pin(logDigest, note: "log of test run \(runID) of \(recipe.name)")
        // The signed result: an in-toto test-result statement over the build's outputs,
        // signed with the key builds are signed with, kept in the store (pinned).
        var outcomes = TestOutcomes()
        for e in try telemetry.executions(run: runID) {
            // Left out by --select: skipped, as far as the statement can say.
            try outcomes.add(id: e.test, verdict: e.verdict == .notSelected ? TestVerdict.skip.rawValue : e.verdict.rawValue,
                             flaky: e.flaky)
        }
        var attested: [String: String] = [:]
        if let f = options.filter { attested["filter"] = f }
        if options.rerunFailures > 0 { attested["rerun-failures"] = String(options.rerunFailures) }
        if options.failFast { attested["fail-fast"] = "true" }
        if let b = options.select { attested["select"] = b.description }
        if let faults {
            // The faults are part of what was tested: spec, seed and faults injected per kind.
            attested["faults"] = faults.canonical
            attested["faults-seed"] = String(faults.seed)
            attested["faults-injected"] = session.faultsInjected.keys.sorted().map { "\($0)=\(session.faultsInjected[$0]!)" }.joined(separator: ",")
        }
        let statement = TestAttestation.statement(
            build: build, outcomes: outcomes,
            configuration: try TestAttestation.configuration(recipe: recipe, lock: lock, build: build,
                                                             order: strategy.description, options: attested),
            runID: String(runID), interrupted: status == .interrupted)
        let envelope = try TestAttestation.sign(statement, key: options.signingKey) { progress?.note($0) }
        let envelopeDigest = try store.put(data: envelope)
        try store.pin(envelopeDigest, note: "signed result of test run \(runID) of \(recipe.name)")
        if let path = options.attestationFile {
            do { try envelope.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw ReproError(.invalidInput, "cannot write the test result to \(path): \(error.localizedDescription)")
            }
        }
        try telemetry.finish(runID, status: status, attestation: envelopeDigest.description, message: message)
        // A selecting run that ran everything measures the selection it did not apply.
        if let kept = session.wouldSelect, let budget = options.select, status == .passed || status == .failed {
            let first = try telemetry.executions(run: runID).filter { $0.attempt == 0 && $0.verdict != .notSelected }
            let failing = Set(session.failingTests)
            try telemetry.setSelectionCheck(runID, SelectionCheck.of(budget: budget.description, kept: kept,
                executions: first.map { ($0.test, $0.wallMs / 1000, failing.contains($0.test)) }))
        }
        // The model learns from this run for the next one (only passed and failed runs
        // are history).
        if status == .passed || status == .failed {
            session.orderer.feed(try telemetry.historyRun(runID, imports: graphs))
            do { try session.orderer.saveModel() } catch { progress?.note("warning: \(error)") }
        }
        var summary = try TestRunSummary.of(run: runID, telemetry: telemetry, build: build, log: logDigest,
                                            truncatedLog: session.log.truncatedBytes, wall: Date().timeIntervalSince(started))
        summary.logPath = try? store.path(for: logDigest)
        summary.recordingMsPerExecution = session.recorded > 0 ? Double(session.recordingNanos) / 1e6 / Double(session.recorded) : nil
        if let faults {
            try telemetry.setFaultsInjected(runID, session.faultsInjected)
            var first: [String: FaultReport.Event] = [:]
            for f in summary.failures { first[f.test] = session.firstFault(before: f.test) }
            summary.faults = TestFaults.Summary(spec: faults.canonical, seed: faults.seed, injected: session.faultsInjected,
                                                firstFaults: first)
        }
        // Named results are checked on runs without faults only: a faulted run must not
        // become (or fail against) a baseline.
        if status != .interrupted && faults == nil {
            summary.results = try TestResultsCheck.run(store: store, recipe: recipe, runID: runID, passed: status == .passed,
                                                       file: box.readPath(TestSandbox.resultsFile), options: options)
        }
        phases.mark("finish")
        summary.phasesMs = phases.marks
        return summary
    }
}

/// Milliseconds between marks (`TestRunSummary.phasesMs`).
struct PhaseClock {
    private var last = DispatchTime.now().uptimeNanoseconds
    private(set) var marks: [TestRunSummary.Phase] = []
    mutating func mark(_ phase: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        marks.append(.init(phase: phase, ms: (Double(now - last) / 1e4).rounded() / 100))
        last = now
    }
}

/// A flag a signal handler may set.
public final class InterruptFlag: @unchecked Sendable {
    private var value: sig_atomic_t = 0
    public init() {}
    public var isSet: Bool { value != 0 }
    public func set() { value = 1 }
}

/// The working tree copy's file times.
enum WorkTree {
    /// Sets the access and modification time of everything under `root` (links
    /// themselves, not their targets) to `seconds` since 1970; best effort.
    static func setTimes(_ root: String, to seconds: Int) {
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        guard let walk = FileManager.default.enumerator(atPath: root) else { return }
        while let rel = walk.nextObject() as? String {
            _ = utimensat(AT_FDCWD, root + "/" + rel, &times, AT_SYMLINK_NOFOLLOW)
        }
        _ = utimensat(AT_FDCWD, root, &times, 0)
    }
}
