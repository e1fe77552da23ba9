import Build
import Core
import Fetch
import Foundation
import Recipe
import Sandbox
import Store

/// What `repro test` was asked to do.
public struct TestOptions: Sendable {
    /// nil: `model` once the recipe has history, else `original`.
    public var order: OrderStrategy?
    /// Only tests whose id matches (a glob with `*`/`?`, else a substring).
    public var filter: String?
    /// Reruns of each failing test under variations, to tell flaky from broken.
    public var rerunFailures = 0
    public var failFast = false
    public var offline = false
    public var allowDegrade = false
    /// Bytes of the suite's output kept (head and tail) in the run's log.
    public var logLimit = 8 << 20
    public var signingKey: String?
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

        let root = try builder.testRoot(lock: lock, offline: options.offline, progress: false)
        let tmp = store.root + "/tmp/test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let dirs = (work: tmp + "/build", out: tmp + "/out", lib: tmp + "/lib", run: tmp + "/run")
        for d in [dirs.lib + "/lib", dirs.lib + "/bin", dirs.run] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        defer { try? RemoveTree.remove(tmp) }
        try store.restoreTree(worktree.tree, to: dirs.work)
        try store.restoreTree(outputs.tree, to: dirs.out)

        let epoch: Int64
        switch recipe.build.sourceDateEpoch {
        case let .seconds(s): epoch = s
        case let .fromInput(name): epoch = (try? DebianSource.changelogEpoch(dirs.work + "/src/" + name)) ?? 0
        }
        let box = TestSandbox(recipe: recipe, test: test, root: root, work: dirs.work, out: dirs.out, lib: dirs.lib,
                              run: dirs.run, epoch: epoch, allowDegrade: options.allowDegrade)
        try box.checkRunner()

        // Telemetry: the run's row first, so a run killed from here on reads as interrupted.
        let previous = try telemetry.previousRun(recipe: recipe.name, before: nil)
        let changed = ChangedFiles.between(previous?.inputsManifest, inputsTree?.description, store: store)
        let history = try telemetry.history(recipe: recipe.name)
        let strategy = options.order ?? (history.isEmpty ? .original : .model)
        let lockDigest = Digest.of(lock.encoded())
        let row = TestRunRow(
            id: nil, recipe: recipe.name, recipeFile: recipe.file, recipeDigest: recipe.digest.description,
            lockDigest: lockDigest.description, buildAction: build.actionDigest, tree: build.treeDigest,
            inputsManifest: inputsTree?.description, inputDigests: lock.inputs.mapValues { "sha256:" + $0.sha256 },
            changedFiles: changed, framework: test.framework.rawValue, host: Telemetry.hostName, pid: Int64(getpid()),
            started: Date().timeIntervalSince1970, finished: nil, status: .running, orderStrategy: strategy.description,
            seed: strategy.seed.map { Int64(bitPattern: $0) }, filter: options.filter, faults: test.faults,
            requestedOrder: [], attestation: nil, message: nil)
        let runID = try telemetry.begin(row)
        let orderer = TestOrderer(history: history, modelPath: store.root + "/models/\(recipe.name).json")
        var session = TestSession(runner: runner, telemetry: telemetry, box: box, runID: runID, options: options,
                                  progress: progress, strategy: strategy, orderer: orderer, changed: changed,
                                  log: try CappedLog(path: tmp + "/suite.log", limit: options.logLimit))
        let started = Date()
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
        } catch let e as ReproError {
            session.log.close()
            let logDigest = try? store.put(file: tmp + "/suite.log")
            try? telemetry.finish(runID, status: e.code == .invalidInput ? .error : .error, message: e.message)
            if let logDigest { progress?.note("suite log: \(logDigest) (repro log \(logDigest))") }
            throw e
        }
        session.log.close()
        let logDigest = try store.put(file: tmp + "/suite.log")
        try telemetry.finish(runID, status: status, message: message)
        // The model learns from this run for the next one.
        if status != .interrupted {
            let grown = TestOrderer(history: try telemetry.history(recipe: recipe.name), modelPath: orderer.modelPath)
            _ = try? grown.model()
        }
        var summary = try TestRunSummary.of(run: runID, telemetry: telemetry, build: build, log: logDigest,
                                            truncatedLog: session.log.truncatedBytes, wall: Date().timeIntervalSince(started))
        summary.logPath = try? store.path(for: logDigest)
        return summary
    }
}

/// A flag a signal handler may set.
public final class InterruptFlag: @unchecked Sendable {
    private var value: sig_atomic_t = 0
    public init() {}
    public var isSet: Bool { value != 0 }
    public func set() { value = 1 }
}
