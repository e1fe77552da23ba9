import ArgumentParser
import Rank

/// `repro rank explain`: the features and contributions behind one test's position.
struct RankExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show the features and their contributions behind a test's position in a run.",
        discussion: """
        Ranks RUN from the runs before it, as the replay does (with --model, that model \
        instead of one trained on the earlier runs), and prints the test's position, \
        probability, change-evidence tier and every feature with its contribution to \
        the log-odds (weight x standardized value), largest first.
        """)

    @Option(help: "The history file.")
    var history: String
    @OptionGroup var options: RankHistoryOptions
    @Argument(help: "The run id.")
    var runID: String
    @Argument(help: "The test id.")
    var test: String
    @Option(help: "A model file from `repro rank train` (default: train on the runs before RUN).")
    var model: String?
    @Option(help: "How many features to print (all with --json).")
    var top = 12
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let e = try {
            let runs = try options.load(history)
            return try Explainer.explain(runs, runID: runID, test: test, model: try model.map { try ModelFile.load(path: $0).model })
        }()
        if json { return try printJSON(e, pretty: true) }
        print("\(e.test) in run \(e.run): position \(e.position) of \(e.tests), p = \(fixed(e.probability, 4)), tier \(Self.tierText(e.tier))")
        print("bias \(fixed(e.bias))")
        print("")
        print("| feature | value | contribution (log-odds) |")
        print("| --- | --- | --- |")
        for f in e.features.prefix(top) {
            print("| \(f.name) | \(fixed(f.value, 4)) | \(f.contribution >= 0 ? "+" : "")\(fixed(f.contribution)) |")
        }
    }

    static func tierText(_ tier: Double) -> String {
        if tier >= 1 { return "1 (strong change evidence: ranked before the other tiers)" }
        if tier > 0 { return "0.5 (tied to a file changed since the last run without failures: ranked before tier 0)" }
        return "0"
    }
}
