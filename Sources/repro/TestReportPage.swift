import Core
import Foundation
import Plot
import Rank
import TestRun

/// The self-contained HTML page of `repro test report RUN`: the executed order as a
/// timeline of duration bars coloured by verdict, the order the model chose against
/// the optimal order in hindsight, flaky tests, and each test's recent history. Built
/// with Plot's HTML DSL (escaping by the library); inline CSS, no scripts, no links.
struct TestReportPage {
    struct Test {
        var id: String
        var verdict: String
        var flaky: Bool
        var seconds: Double
    }

    var run: TestRunRow
    /// First attempts, in executed order.
    var executed: [Test]
    /// Test ids in the model's order (trained on the recipe's earlier runs only).
    var modelOrder: [String]
    var flaky: [FlakyTest]
    /// Per test: verdicts in the recipe's earlier runs, oldest first (at most 10).
    var recent: [String: [String]]

    /// Reads everything the page shows from telemetry.
    static func load(run id: Int64, telemetry: Telemetry, imports: ImportGraphCache? = nil) throws -> TestReportPage {
        guard let run = try telemetry.run(id) else {
            throw ReproError(.invalidInput, "test run \(id) is not in the telemetry; `repro test history RECIPE` lists the runs")
        }
        let executions = try telemetry.executions(run: id).filter { $0.attempt == 0 }
            .sorted { ($0.executedPos ?? Int.max, $0.id ?? 0) < ($1.executedPos ?? Int.max, $1.id ?? 0) }
        let executed = executions.map { Test(id: $0.test, verdict: $0.verdict.rawValue, flaky: $0.flaky, seconds: $0.wallMs / 1000) }
        // The model trained on the earlier runs only, streamed from telemetry; the last
        // ten of them kept for the per-test verdicts.
        var learner = Learner(seed: 1)
        var lastRuns: [Run] = []
        try telemetry.forEachHistoryRun(recipe: run.recipe, before: id, imports: imports) { r in
            learner.feed(r)
            lastRuns.append(r)
            if lastRuns.count > 10 { lastRuns.removeFirst() }
        }
        let plan = RunPlan(id: String(id), tests: executions.map { PlannedTest(test: $0.test, testFile: $0.file) },
                           changedFiles: run.changedFiles, imports: run.importsGraph.flatMap { imports?.graph($0) })
        let ranked = Ranker.rank(plan, state: learner.state, model: learner.model, costAware: false, recall: nil)
        var recent: [String: [String]] = [:]
        for r in lastRuns {
            for e in r.executions { recent[e.test, default: []].append(e.verdict.rawValue) }
        }
        return TestReportPage(run: run, executed: executed, modelOrder: ranked.tests.map(\.test),
                              flaky: try telemetry.flaky(recipe: run.recipe), recent: recent)
    }

    /// Failing first, shortest first: the best order in hindsight.
    var optimalOrder: [Test] {
        executed.sorted { a, b in
            let fa = Self.fails(a), fb = Self.fails(b)
            if fa != fb { return fa }
            return a.seconds < b.seconds
        }
    }

    static func fails(_ t: Test) -> Bool { t.flaky || !(t.verdict == "pass" || t.verdict == "skip") }

    func apfd(_ order: [Test]) -> String {
        Metrics.apfd(order.map(Self.fails)).map { String(format: "%.3f", $0) } ?? "n/a (no failure)"
    }

    static let css = """
    body { font-family: sans-serif; margin: 24px; color: #222; }
    h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
    .timeline { display: flex; height: 28px; border: 1px solid #ccc; }
    .bar { min-width: 2px; height: 100%; border-right: 1px solid white; box-sizing: border-box; }
    .v-pass { background: #59a14f; } .v-fail, .v-error, .v-timeout, .v-crashed { background: #e15759; }
    .v-skip { background: #bab0ac; } .v-flaky { background: #b07aa1; }
    table { border-collapse: collapse; font-size: 13px; } td, th { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; }
    .cell { display: inline-block; width: 10px; height: 10px; margin-right: 2px; }
    .legend span { margin-right: 12px; } .muted { color: #777; }
    """

    func verdictClass(_ t: Test) -> String { t.flaky ? "v-flaky" : "v-\(t.verdict)" }

    func render() -> String {
        let byID = Dictionary(executed.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let model = modelOrder.compactMap { byID[$0] }
        let optimal = optimalOrder
        let failing = executed.filter(Self.fails).count
        let total = executed.reduce(0) { $0 + $1.seconds }
        let html = HTML(
            .head(
                .title("repro test report: run \(run.id ?? 0) of \(run.recipe)"),
                .meta(.charset(.utf8)),
                .style(Self.css)
            ),
            .body(
                .h1("Test run \(run.id ?? 0) of \(run.recipe)"),
                .p(.id("summary"), .text("\(run.status.rawValue): \(executed.count) tests, \(failing) failing, \(String(format: "%.2f", total)) s of test time; order \(run.orderStrategy)")),
                .p(.class("muted"), .text("changed files: " + (run.changedFiles.map { $0.isEmpty ? "none" : $0.prefix(20).joined(separator: ", ") } ?? "unknown"))),
                .h2("Executed order"),
                .div(.class("legend"),
                     .span(.span(.class("cell v-pass")), "pass"), .span(.span(.class("cell v-fail")), "fail / error"),
                     .span(.span(.class("cell v-flaky")), "flaky"), .span(.span(.class("cell v-skip")), "skip")),
                .div(.id("timeline"), .class("timeline"), .forEach(executed) { t in
                    .div(.class("bar \(verdictClass(t))"),
                         .attribute(named: "style", value: String(format: "flex: %.4f 0 0", total > 0 ? 100 * t.seconds / total : 1)),
                         .title("\(t.id): \(t.verdict)\(t.flaky ? " (flaky)" : ""), \(String(format: "%.3f", t.seconds)) s"),
                         .data(named: "test", value: t.id))
                }),
                .p(.class("muted"), .text("Bar width is the test's share of the run's test time; hover for the test.")),
                .h2("Order: executed, model, optimal in hindsight"),
                .p(.id("apfd"), .text("APFD executed \(apfd(executed)), model \(apfd(model)), optimal \(apfd(optimal))")),
                .table(.id("orders"),
                    .tr(.th("#"), .th("executed"), .th("model (earlier runs only)"), .th("optimal in hindsight")),
                    .forEach(executed.indices) { i in
                        .tr(.td(.text(String(i + 1))), cell(executed[i]), cell(i < model.count ? model[i] : nil), cell(optimal[i]))
                    }
                ),
                .h2("Flaky tests"),
                flaky.isEmpty ? .p(.id("flaky"), .text("No test of this recipe has been flaky.")) :
                    .table(.id("flaky"), .tr(.th("test"), .th("passes"), .th("failures"), .th("runs"), .th("last run")),
                           .forEach(flaky) { f in
                               .tr(.td(.text(f.test)), .td(.text(String(f.passes))), .td(.text(String(f.failures))),
                                   .td(.text(String(f.runs))), .td(.text(String(f.lastRun))))
                           }),
                .h2("Recent history"),
                .table(.id("history"), .tr(.th("test"), .th("earlier runs (oldest first)"), .th("this run")),
                       .forEach(executed) { t in
                           .tr(.td(.text(t.id)),
                               .td(.forEach(recent[t.id] ?? []) { v in .span(.class("cell v-\(v)"), .title(v)) }),
                               .td(.span(.class("cell \(verdictClass(t))"), .title(t.verdict)), .text(" \(t.verdict)")))
                       })
            )
        )
        return html.render(indentedBy: .spaces(1))
    }

    func cell(_ t: Test?) -> Node<HTML.TableRowContext> {
        guard let t else { return .td() }
        return .td(.span(.class("cell \(verdictClass(t))")), .text(" \(t.id)"))
    }
}
