import ArgumentParser
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
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let report = try reporting {
            Replay.evaluate(try history.load(replay), seed: seed)
        }
        if json { return try printJSON(report, pretty: true) }
        print("runs: \(report.runs), scored (>= 1 failure, >= 2 tests): \(report.scoredRuns), executions: \(report.executions), seed: \(report.seed)")
        print("")
        print("| strategy | APFD | APFDc | time to 95% of failures |")
        print("| --- | --- | --- | --- |")
        for score in report.scores {
            print("| \(score.title) | \(fixed(score.apfd)) | \(fixed(score.apfdc)) | \(fixed(score.timeTo95)) |")
        }
    }
}
