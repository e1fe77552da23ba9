import ArgumentParser
import Core
import Rank

/// `repro rank eval`: replay a history and score every strategy.
struct RankEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Replay a history and compare the model with simple heuristics.",
        discussion: """
        For each run with at least one failure and two tests, every strategy orders the
        run using only earlier runs; the model is trained on earlier runs only. Prints the
        mean APFD, APFDc and share of test time until 95% of the failures ran.
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
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if scoreFrom < 0 { throw ValidationError("--score-from must be 0 or more, e.g. 160") }
    }

    func run() throws {
        let report = try reporting {
            let runs = try history.load(replay)
            guard scoreFrom < runs.runs.count else {
                throw ReproError(.invalidInput, "\(replay): --score-from \(scoreFrom) is past the last run (the history has \(runs.runs.count) runs); pass a smaller position")
            }
            return Replay.evaluate(runs, seed: seed, scoreFrom: scoreFrom, hindsight: hindsight)
        }
        if json { return try printJSON(report, pretty: true) }
        let from = report.scoreFrom > 0 ? ", scoring from run position \(report.scoreFrom)" : ""
        print("runs: \(report.runs), scored (>= 1 failure, >= 2 tests): \(report.scoredRuns), executions: \(report.executions), seed: \(report.seed)\(from)")
        print("")
        print("| strategy | APFD | APFDc | time to 95% of failures |")
        print("| --- | --- | --- | --- |")
        for score in report.scores {
            print("| \(score.title) | \(fixed(score.apfd)) | \(fixed(score.apfdc)) | \(fixed(score.timeTo95)) |")
        }
    }
}
