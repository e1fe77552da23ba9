import ArgumentParser
import Core
import Foundation
import Rank

/// `repro rank eval`: replay a history and score every strategy.
struct RankEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Replay a history and compare the model with simple heuristics.",
        discussion: """
        For each run with at least one failure and two tests, every strategy orders the \
        run using only earlier runs; the model is trained on earlier runs only. Prints the \
        mean APFD, APFDc and share of test time until 95% of the failures ran, each with \
        the standard error of the mean. With --select, also the selection under that \
        budget; with --ablation, the model without each feature group; with --plot, an \
        SVG of the mean share of failures found against the share of test time.
        """)

    @Option(help: "The history file to replay.")
    var replay: String
    @OptionGroup var history: RankHistoryOptions
    @Option(help: "Seed for the model and the random order.")
    var seed: UInt64 = 1
    @Option(help: "Score only runs at this 0-based position or later (earlier runs are still learned from); for held-out reporting.")
    var scoreFrom = 0
    @Flag(help: "Also score the model trained on the whole history, scored runs included: a bound on what the features allow, not a strategy.")
    var hindsight = false
    @Option(help: "Feature groups the model may use, comma-separated: all, or any of \(FeatureGroups.named.map(\.name).joined(separator: ", ")).")
    var features = "all"
    @Flag(help: "Also replay the model without each feature group (and with history or change features only).")
    var ablation = false
    @Option(help: "Selection budget to evaluate: recall:0.95, time:30% or count:N.")
    var select: String?
    @Option(name: .customLong("full-every"), help: "With --select, the closed-loop row runs every test every Nth run, as `repro test --select --full-every N` does.")
    var fullEvery = 10
    @Option(help: "Write an SVG plot of the mean share of failures found against the share of test time.")
    var plot: String?
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if scoreFrom < 0 { throw ValidationError("--score-from must be 0 or more, e.g. 160") }
        if fullEvery < 1 { throw ValidationError("--full-every \(fullEvery): use 1 or more (1 runs every test every time)") }
        _ = try parsedGroups()
        if let select {
            do { _ = try Budget.parse(select) } catch let error as ReproError { throw ValidationError(error.message) }
        }
    }

    func parsedGroups() throws -> FeatureGroups {
        do {
            return try FeatureGroups.parse(features)
        } catch let error as ReproError {
            throw ValidationError(error.message)
        }
    }

    struct Output: Encodable {
        var report: Replay.Report
        var ablation: [Ablation.Row]?
        var selection: SelectionReplay.Report?
    }

    func run() throws {
        let groups = try parsedGroups()
        let output = try {
            let runs = try history.load(replay)
            guard scoreFrom < runs.runs.count else {
                throw ReproError(.invalidInput, "\(replay): --score-from \(scoreFrom) is past the last run (the history has \(runs.runs.count) runs); pass a smaller position")
            }
            let report = Replay.evaluate(runs, seed: seed, scoreFrom: scoreFrom, hindsight: hindsight,
                                         groups: groups, curves: plot != nil)
            let rows = ablation ? Ablation.run(runs, seed: seed, scoreFrom: scoreFrom) : nil
            let selection = try select.map {
                SelectionReplay.evaluate(runs, budget: try Budget.parse($0), seed: seed, scoreFrom: scoreFrom, groups: groups,
                                         fullEvery: fullEvery)
            }
            if let plot {
                try write(Data(EvalPlot.svg(report.curves, title: (replay as NSString).lastPathComponent).utf8), to: plot)
            }
            return Output(report: report, ablation: rows, selection: selection)
        }()
        if json { return try printJSON(output, pretty: true) }
        let report = output.report
        let from = report.scoreFrom > 0 ? ", scoring from run position \(report.scoreFrom)" : ""
        print("runs: \(report.runs), scored (>= 1 failure, >= 2 tests): \(report.scoredRuns), executions: \(report.executions), seed: \(report.seed)\(from)")
        print("")
        print("| strategy | APFD | APFDc | time to 95% of failures |")
        print("| --- | --- | --- | --- |")
        for s in report.scores {
            print("| \(s.title) | \(fixed(s.apfd)) ± \(fixed(s.apfdSE)) | \(fixed(s.apfdc)) ± \(fixed(s.apfdcSE)) | \(fixed(s.timeTo95)) ± \(fixed(s.timeTo95SE)) |")
        }
        print("")
        print("± is the standard error of the mean over the scored runs.")
        if let rows = output.ablation {
            print("")
            print("| model features | APFD | APFDc | time to 95% of failures |")
            print("| --- | --- | --- | --- |")
            for r in rows {
                print("| \(r.features) | \(fixed(r.apfd)) ± \(fixed(r.apfdSE)) | \(fixed(r.apfdc)) ± \(fixed(r.apfdcSE)) | \(fixed(r.timeTo95)) ± \(fixed(r.timeTo95SE)) |")
            }
        }
        if let s = output.selection {
            print("")
            print("selection at \(s.budget): \(s.selectingRuns) runs replayed, \(s.runsWithFailures) with failures; the last row ran everything in \(s.fullRuns) of them")
            print("")
            print("| strategy | recall of failing tests | share of test time | runs with a failure caught |")
            print("| --- | --- | --- | --- |")
            for r in s.rows {
                print("| \(r.title) | \(fixed(r.recall)) ± \(fixed(r.recallSE)) | \(fixed(r.timeShare)) ± \(fixed(r.timeShareSE)) | \(fixed(r.caught)) |")
            }
            print("")
            print("the last row over the \(s.selectingRuns - s.fullRuns) runs it did not run in full: \(fixed(s.closedLoopSelectingTimeShare)) ± \(fixed(s.closedLoopSelectingTimeShareSE)) of the test time")
        }
        if let plot { print("\nwrote \(plot)") }
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw ReproError(.invalidInput, "\(path): cannot write the plot; check the directory exists and is writable")
        }
    }
}
