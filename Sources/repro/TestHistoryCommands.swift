import ArgumentParser
import Core
import Foundation
import Recipe
import Store
import TestRun

/// `repro test history RECIPE`: the recipe's runs, newest first.
struct TestHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "List a recipe's test runs, newest first.")

    @Argument(help: "The recipe file, or a recipe name.")
    var recipe: String
    @Option(help: "At most this many runs.")
    var limit = 20
    @OptionGroup var storeOption: TestStoreOption
    @Flag(help: "Print JSON on stdout.")
    var json = false

    func run() throws {
        do {
            let (_, telemetry) = try storeOption.open()
            let name = try TestRecipeName.resolve(recipe)
            let runs = try telemetry.runs(recipe: name, limit: limit)
            let summaries = try runs.map { try TestRunSummary.of(run: $0.id!, telemetry: telemetry) }
            if json { return try printJSON(summaries, pretty: true) }
            if runs.isEmpty { print("no test runs of \(name) in this store; run `repro test \(recipe)`"); return }
            print("run  status       tests  pass  fail  skip  flaky  order          started                  selection")
            let f = DateFormatter()
            f.dateFormat = "yyyy-MM-dd HH:mm:ss"
            f.timeZone = TimeZone(identifier: "UTC")
            for (r, s) in zip(runs, summaries) {
                let line = [String(r.id!).padding(toLength: 4, withPad: " ", startingAt: 0),
                            s.status.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0),
                            String(s.tests).padding(toLength: 6, withPad: " ", startingAt: 0),
                            String(s.passed).padding(toLength: 5, withPad: " ", startingAt: 0),
                            String(s.failed).padding(toLength: 5, withPad: " ", startingAt: 0),
                            String(s.skipped).padding(toLength: 5, withPad: " ", startingAt: 0),
                            String(s.flaky.count).padding(toLength: 6, withPad: " ", startingAt: 0),
                            s.order.padding(toLength: 14, withPad: " ", startingAt: 0),
                            f.string(from: Date(timeIntervalSince1970: r.started)) + " UTC ",
                            Self.selectionText(s)]
                print(line.joined(separator: " "))
            }
            if let total = Self.checksSentence(summaries) { print(total) }
        }
    }

    /// The run's selection: `-` without `--select`; the budget and how many tests it
    /// left out; or `full` and, when the run checked it, what the budget would have done.
    static func selectionText(_ s: TestRunSummary) -> String {
        guard let selection = s.selection else { return "-" }
        guard selection.hasPrefix("full") else { return "\(selection), \(s.notSelected) left out" }
        guard let c = s.selectionCheck else { return "full" }
        return "full; \(c.budget) would keep \(c.kept)/\(c.tests) (\(String(format: "%.0f%%", c.timeShare * 100)) of the time), catch \(c.caught)/\(c.failing) failing"
    }

    /// Over the listed runs that checked their selection: does it keep its promise?
    /// nil when none did.
    static func checksSentence(_ summaries: [TestRunSummary]) -> String? {
        let checks = summaries.compactMap(\.selectionCheck)
        guard !checks.isEmpty else { return nil }
        let share = checks.reduce(0) { $0 + $1.timeShare } / Double(checks.count)
        let failingRuns = checks.filter { $0.failing > 0 }
        let caughtRuns = failingRuns.filter { $0.caught > 0 }.count
        let failing = checks.reduce(0) { $0 + $1.failing }, caught = checks.reduce(0) { $0 + $1.caught }
        var text = "selection checks (\(checks.count) listed run\(checks.count == 1 ? "" : "s") that ran everything): the budget would have kept \(String(format: "%.0f%%", share * 100)) of the test time on average"
        text += failingRuns.isEmpty ? "; no test failed in them" : " and caught a failure in \(caughtRuns) of \(failingRuns.count) run\(failingRuns.count == 1 ? "" : "s") with failures (\(caught) of \(failing) failing tests)"
        return text
    }
}

/// A recipe file's name (`name = ...`), or the argument itself when it is no file.
enum TestRecipeName {
    static func resolve(_ arg: String) throws -> String {
        if FileManager.default.fileExists(atPath: arg) { return try Recipe.load(path: arg).name }
        guard RecipeSyntax.isName(arg) else {
            throw ReproError(.invalidInput, "\(arg): no such recipe file, and not a recipe name")
        }
        return arg
    }
}

/// `repro test show RUN`: one run, test by test in executed order.
struct TestShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one test run: each test's verdict, times, CPU and peak RSS.")

    @Argument(help: "The run id (from `repro test history`).")
    var runID: Int64
    @OptionGroup var storeOption: TestStoreOption
    @Flag(help: "Print JSON on stdout (the run row and every execution).")
    var json = false

    func run() throws {
        do {
            let (_, telemetry) = try storeOption.open()
            let summary = try TestRunSummary.of(run: runID, telemetry: telemetry)
            let row = try telemetry.run(runID)!
            let execs = try telemetry.executions(run: runID)
            if json {
                struct Show: Encodable { var run: TestRunRow; var summary: TestRunSummary; var executions: [TestExecutionRow] }
                return try printJSON(Show(run: row, summary: summary, executions: execs), pretty: true)
            }
            print("run \(runID) of \(row.recipe) (\(row.recipeFile)): \(row.status.rawValue), framework \(row.framework), order \(row.orderStrategy)")
            print("build action \(row.buildAction), outputs \(row.tree)")
            if let c = row.changedFiles {
                print("\(c.count) files changed since the previous run\(c.isEmpty ? "" : ": " + c.prefix(10).map(Escape.controls).joined(separator: ", ") + (c.count > 10 ? ", ..." : ""))")
            }
            if let f = row.faults { print("faults: \(f)") }
            print("pos  req  attempt  verdict  flaky  wall ms    cpu ms   rss KiB  test")
            for e in execs {
                let cpu = (e.userMs ?? 0) + (e.sysMs ?? 0)
                let executed: String = e.executedPos.map { String($0) } ?? "-"
                let req: String = e.requestedPos.map { String($0) } ?? "-"
                let variation: String = e.variation.map { "(" + $0 + ")" } ?? ""
                let rss: String = e.maxRssKb.map { String($0) } ?? "-"
                let cols: [String] = [executed, req, String(e.attempt) + variation, e.verdict.rawValue,
                                      e.flaky ? "yes" : "", String(format: "%.1f", e.wallMs), String(format: "%.1f", cpu), rss]
                let widths = [4, 4, 8, 8, 5, 10, 8, 8]
                let text = zip(cols, widths).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }
                print(text.joined(separator: " ") + " " + Escape.controls(e.test))
            }
            TestReport.print(summary)
        }
    }
}

/// `repro test export RUN --junit FILE | --jsonl FILE`.
struct TestExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run as JUnit XML or as the JSON lines `repro rank eval --format jsonl` reads.",
        discussion: "With --jsonl and --all, every run of the run's recipe, oldest first (a history to evaluate rankings on).")

    @Argument(help: "The run id.")
    var runID: Int64
    @Option(help: "Write JUnit XML (Jenkins/Ant schema) here.")
    var junit: String?
    @Option(help: "Write JSON lines here.")
    var jsonl: String?
    @Flag(help: "With --jsonl: every finished run of the recipe, not just this one.")
    var all = false
    @OptionGroup var storeOption: TestStoreOption

    func validate() throws {
        if (junit == nil) == (jsonl == nil) { throw ValidationError("give exactly one of --junit FILE and --jsonl FILE") }
        if all && jsonl == nil { throw ValidationError("--all goes with --jsonl") }
    }

    func run() throws {
        do {
            let (_, telemetry) = try storeOption.open()
            guard let row = try telemetry.run(runID) else {
                throw ReproError(.invalidInput, "no test run \(runID) in this store; `repro test history RECIPE` lists runs")
            }
            let data: Data
            if let _ = junit {
                data = TestExport.junit(row, try telemetry.executions(run: runID))
            } else {
                let runs = all ? try telemetry.history(recipe: row.recipe) : [(row, try telemetry.executions(run: runID).filter { $0.attempt == 0 })]
                data = try TestExport.jsonl(runs)
            }
            let path = junit ?? jsonl!
            do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw ReproError(.invalidInput, "cannot write \(path): \(error.localizedDescription)")
            }
        }
    }
}

/// `repro test flaky RECIPE`.
struct TestFlakyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flaky", abstract: "List a recipe's flaky tests (passed and failed on identical inputs) with counts.")
    @Argument(help: "The recipe file, or a recipe name.")
    var recipe: String
    @OptionGroup var storeOption: TestStoreOption
    @Flag(help: "Print JSON on stdout.")
    var json = false

    func run() throws {
        do {
            let (_, telemetry) = try storeOption.open()
            let list = try telemetry.flaky(recipe: try TestRecipeName.resolve(recipe))
            if json { return try printJSON(list, pretty: true) }
            if list.isEmpty { print("no flaky tests recorded (rerun failures with --rerun-failures N to find them)"); return }
            print("runs  executions  passes  failures  test")
            for f in list {
                print("\(String(f.runs).padding(toLength: 5, withPad: " ", startingAt: 0)) \(String(f.executions).padding(toLength: 11, withPad: " ", startingAt: 0)) \(String(f.passes).padding(toLength: 7, withPad: " ", startingAt: 0)) \(String(f.failures).padding(toLength: 9, withPad: " ", startingAt: 0)) \(Escape.controls(f.test))")
            }
        }
    }
}
