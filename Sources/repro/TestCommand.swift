import ArgumentParser
import Core
import Faults
import Foundation
import Rank
import Recipe
import Results
import Sandbox
import Store
import TestRun

/// `repro test RECIPE`: the recipe's [test] step in the sandbox, per-test telemetry.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a recipe's test suite in the sandbox, in the learned order, and record every test.",
        discussion: """
        Builds the recipe first (a cache hit never rebuilds), then runs its [test] step \
        (docs/testing.md) over the build's working tree with the outputs read-only at \
        /out. Every run starts from the tree as the build left it: an overlay over a \
        cached pristine copy (REPRO_TEST_OVERLAY=0: a fresh copy per run). Each test's \
        verdict, times, CPU and peak RSS are committed to the store's telemetry as it \
        ends. The default order is the model trained on the recipe's own runs once it \
        has history (else the suite's own order).

        Examples:
          repro test recipes/sortedcontainers.toml
          repro test recipes/cjson.toml --order failed-first --rerun-failures 3
          repro test recipes/sortedcontainers.toml --filter sortedlist --json
          repro test history recipes/sortedcontainers.toml
          repro test export 12 --junit results.xml

        Exit 0 when every test passed (flaky tests are reported, not failed), 1 when a \
        test failed, 2 on bad input (no [test] step, a filter that matches nothing, a \
        stale lock), 130 when interrupted (the run is kept as `interrupted`).
        """,
        subcommands: [TestRunCommand.self, TestHistoryCommand.self, TestShowCommand.self, TestExportCommand.self,
                      TestFlakyCommand.self, TestReportCommand.self],
        defaultSubcommand: TestRunCommand.self)
}

struct TestStoreOption: ParsableArguments {
    @Option(help: "Store directory (default $REPRO_HOME or ~/.cache/repro).")
    var store: String?

    func open() throws -> (Store, Telemetry) {
        let s = try Store(root: store)
        return (s, try Telemetry(path: s.root + "/telemetry.sqlite"))
    }
}

struct TestRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the suite (the default: `repro test RECIPE` is `repro test run RECIPE`).")

    @Argument(help: "The recipe file (with a [test] step and a lock).")
    var recipe: String

    @Option(help: "original, random, random:SEED, failed-first or model (default: model once the recipe has history).")
    var order: String?

    @Option(help: "Run only tests whose id matches: a glob with * ? [ ], else a substring.")
    var filter: String?

    @Option(help: "Run only what the model picks under a budget: recall:0.95, time:30% or count:N (new tests and tests whose own file changed always run; the rest are recorded as not-selected).")
    var select: String?

    @Option(name: .customLong("full-every"), help: "With --select, run every test every Nth run (and whenever the recipe, lock or toolchain changed).")
    var fullEvery = 10

    @Option(name: .customLong("rerun-failures"), help: "Rerun each failing test up to N times under variations (reverse order, one CPU, another TZ, another seed); a test that both passed and failed is flaky.")
    var rerunFailures = 0

    @Flag(name: .customLong("fail-fast"), help: "Stop at the first failing test.")
    var failFast = false

    @Flag(help: "Fail instead of fetching anything the store lacks.")
    var offline = false

    @Flag(name: .customLong("allow-degrade"), help: "Run even when a limit cannot be enforced on this host.")
    var allowDegrade = false

    @Option(name: .customLong("log-limit"), help: "Bytes of the suite's output kept in its log, head and tail (default 8M).")
    var logLimit: String = "8M"

    @Option(help: ArgumentHelp("Inject faults into the suite, e.g. 'write:EIO@5%,path=/build;seed=3' (docs/faults.md); overrides [test] faults.", valueName: "SPEC"))
    var fault: String?

    @Option(help: ArgumentHelp("Run the suite once without faults, then N times under seeded faults from --fault-profile; classify each test robust, fault-sensitive or broken.", valueName: "N"))
    var chaos: Int?

    @Option(name: .customLong("fault-profile"), help: ArgumentHelp("The faults of --chaos: io, net, slow or default (docs/faults.md).", valueName: "NAME"))
    var faultProfile: String = "default"

    @Option(help: ArgumentHelp("Named results: compare with this results run (id or label) instead of the last passed run.", valueName: "RUN"))
    var baseline: String?

    @Option(help: ArgumentHelp("Named results: default relative tolerance (1e-10).", valueName: "REL"))
    var tolerance: String = "1e-10"

    @Option(name: .customLong("tolerance-for"), help: ArgumentHelp("Named results: a tolerance for names matching a glob (repeatable).", valueName: "PATTERN=REL"))
    var toleranceFor: [String] = []

    @Option(help: "The PEM private key that signs the test result (default: the key builds are signed with).")
    var key: String?

    @Option(help: "Also write the signed test result (in-toto test-result statement, DSSE envelope) to this file.")
    var attestation: String?

    @Option(name: .customLong("keep-worktree"), help: "Also restore the build's working tree (/build as the tests start from it) into this new or empty directory.")
    var keepWorktree: String?

    @OptionGroup var storeOption: TestStoreOption

    @Flag(help: "Print the run's summary as JSON on stdout.")
    var json = false

    func validate() throws {
        do {
            if let order { _ = try OrderStrategy.parse(order) }
            if let select { _ = try Budget.parse(select) }
        } catch let e as ReproError { throw ValidationError(e.message) }
        guard fullEvery >= 1 else { throw ValidationError("--full-every \(fullEvery): use 1 or more (1 runs every test every time)") }
        if select != nil, order != nil { throw ValidationError("--select orders by the model; drop --order") }
        if let fault { do { _ = try FaultSpec.parse(fault) } catch { throw ValidationError("--fault: \(error)") } }
        if let chaos {
            guard chaos >= 1 && chaos <= 1000 else { throw ValidationError("--chaos \(chaos): use 1 to 1000 runs") }
            guard fault == nil else { throw ValidationError("--chaos takes its faults from --fault-profile, not --fault") }
        }
        guard FaultProfile.profiles.contains(where: { $0.name == faultProfile }) else {
            throw ValidationError("--fault-profile \(faultProfile): known profiles are \(FaultProfile.profiles.map(\.name).joined(separator: ", "))")
        }
        guard Tolerances.parseValue(tolerance) != nil else { throw ValidationError("--tolerance \(tolerance): give a relative tolerance >= 0, e.g. 1e-10 or 5%") }
        for o in toleranceFor where Tolerances.parseOverride(o) == nil {
            throw ValidationError("--tolerance-for \(o): expected PATTERN=REL, e.g. 'bench.*=1e-6'")
        }
        guard rerunFailures >= 0, rerunFailures <= 100 else {
            throw ValidationError("--rerun-failures \(rerunFailures): use 0 to 100")
        }
    }

    func run() throws {
        var chaosReport: ChaosReport?
        let summary: TestRunSummary? = try {
            let r = try Recipe.load(path: recipe)
            let lock: LockFile
            do { lock = try LockFile.read(path: r.lockPath) } catch let e as ReproError where !FileManager.default.fileExists(atPath: r.lockPath) {
                throw ReproError(.invalidInput, "\(r.lockPath) does not exist; run 'repro lock \(recipe)' first", cause: e)
            }
            var options = TestOptions()
            options.order = try order.map(OrderStrategy.parse)
            options.filter = filter
            options.select = try select.map(Budget.parse)
            options.fullEvery = fullEvery
            options.rerunFailures = rerunFailures
            options.failFast = failFast
            options.offline = offline
            options.allowDegrade = allowDegrade
            options.logLimit = Int(try parseSize(logLimit, option: "--log-limit"))
            options.faults = fault
            options.resultsBaseline = baseline
            options.tolerances = Tolerances(default: Tolerances.parseValue(tolerance)!, overrides: toleranceFor.compactMap(Tolerances.parseOverride))
            options.signingKey = key
            options.attestationFile = attestation
            options.keepWorktree = keepWorktree
            let (store, _) = try storeOption.open()
            let runner = try TestRunner(store: store, runner: try SandboxRunner())
            TestSignals.install()
            let live = LiveTestLine(enabled: isatty(2) != 0 && !json)
            defer { live.clear() }
            if let chaos {
                chaosReport = try ChaosReport.run(runner, recipe: r, lock: lock, options: options, count: chaos,
                                                  profile: faultProfile, progress: live)
                return nil
            }
            return try runner.run(r, lock: lock, options: options, progress: live)
        }()
        if let chaosReport { return try TestChaosOutput.finish(chaosReport, json: json) }
        guard let summary else { return }
        if json { try printJSON(summary, pretty: true) } else { TestReport.print(summary) }
        if !json { TestOutcomeExtras.print(summary) }
        switch summary.status {
        case .passed:
            // A result that moved beyond its tolerance: not reproducible (exit 3).
            if let e = summary.results?.error {
                FileHandle.standardError.write(Data("repro: error: \(e)\n".utf8))
                throw ExitCode(ExitStatus.notReproducible)
            }
            return
        case .interrupted: throw ExitCode(130)
        default: throw ExitCode(ExitStatus.failed)
        }
    }
}

/// SIGINT/SIGTERM set TestRunner.interrupted; the run stops, keeps what it recorded and
/// reads as `interrupted`. A second SIGINT exits at once.
enum TestSignals {
    static func install() {
        // A parent may start us with these blocked (Foundation's Process does): unblock
        // them, or an interrupt would wait until the run ended.
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
        for s in [SIGINT, SIGTERM, SIGHUP] {
            signal(s) { sig in
                if TestRunner.interrupted.isSet { _exit(128 + sig) }
                TestRunner.interrupted.set()
            }
        }
        signal(SIGPIPE, SIG_IGN)
    }
}

/// The one live line on a terminal: tests done/total, failures, elapsed, ETA.
final class LiveTestLine: TestProgress, @unchecked Sendable {
    let enabled: Bool
    private let lock = NSLock()
    private var total = 0, done = 0, failures = 0
    private var current = ""
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled }

    func note(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        FileHandle.standardError.write(Data("repro: \(Escape.controls(text))\n".utf8))
    }
    func planned(total: Int) { lock.lock(); self.total = total; lock.unlock(); draw(force: true) }
    func started(_ id: String) { lock.lock(); current = id; lock.unlock(); draw(force: false) }
    func finished(_ e: TestExecutionRow) {
        lock.lock()
        if e.attempt == 0 { done += 1 }
        if e.verdict.isFailure && !e.flaky { failures += 1 }
        lock.unlock()
        if e.verdict.isFailure, enabled {
            lock.lock()
            FileHandle.standardError.write(Data("\r\u{1B}[K\(e.verdict.rawValue.uppercased()) \(Escape.controls(e.test))\n".utf8))
            lock.unlock()
        }
        draw(force: false)
    }

    func draw(force: Bool) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 && total > done ? String(format: " eta %.0fs", elapsed / Double(done) * Double(total - done)) : ""
        var line = "tests \(done)/\(total), \(failures) failed, \(String(format: "%.1f", elapsed))s\(eta)  \(Escape.controls(current))"
        if line.count > 120 { line = String(line.prefix(117)) + "..." }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    func clear() { if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}

/// Control characters in names shown to a person become escapes (a test id with a
/// newline must not forge a line of the report); JSON keeps them exact.
enum Escape {
    static func controls(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return s }
        return String(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? String(format: "\\x%02x", $0.value) : String($0) }.joined())
    }
}

/// The human summary of a run.
enum TestReport {
    static func print(_ s: TestRunSummary) {
        var out = ""
        for f in s.failures {
            out += "\(f.verdict.rawValue.uppercased()) \(Escape.controls(f.test))"
            if f.attempts > 1 { out += " (failed all \(f.attempts) attempts)" }
            out += "\n"
            if let m = f.message, !m.isEmpty {
                for line in m.split(separator: "\n").prefix(8) { out += "    \(Escape.controls(String(line)))\n" }
            }
        }
        for t in s.flaky { out += "FLAKY \(Escape.controls(t)) (passed and failed on identical inputs)\n" }
        out += "run \(s.run): \(s.status.rawValue): \(s.passed) passed, \(s.failed) failed, \(s.skipped) skipped"
        if !s.flaky.isEmpty { out += ", \(s.flaky.count) flaky" }
        if s.notRun > 0 { out += ", \(s.notRun) not run" }
        if s.notSelected > 0 { out += ", \(s.notSelected) not selected (\(s.selection ?? "--select"))" }
        out += " of \(s.tests) (order \(s.order)"
        if let c = s.changedFiles { out += ", \(c) files changed since the last run" }
        if let w = s.wallSeconds { out += String(format: ", %.2fs", w) }
        out += ")\n"
        if let c = s.selectionCheck { out += "selection check: \(c.sentence)\n" }
        if let m = s.message { out += "note: \(Escape.controls(m))\n" }
        if let l = s.logPath ?? s.log { out += "suite log: \(l)\(s.logTruncatedBytes.map { " (\($0) bytes cut from the middle)" } ?? "")\n" }
        FileHandle.standardError.write(Data(out.utf8))
    }
}
