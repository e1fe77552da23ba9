import ArgumentParser
import Rank

/// `repro rank order`: rank a run (or the next run) with a saved model.
struct RankOrder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Order a run's tests with a trained model, optionally selecting which to run.",
        discussion: "With --run, ranks that run's tests from the runs before it (its own verdicts are not read). "
            + "Without --run, ranks every test seen in the history as the next run.")

    @Option(help: "The model file written by `repro rank train`.")
    var model: String
    @Option(help: "The history file.")
    var history: String
    @OptionGroup var options: RankHistoryOptions
    @Option(name: .customLong("run"), help: "Rank this run of the history instead of the next run.")
    var runID: String?
    @Option(help: ArgumentHelp("Select the tests expected to hold this share of the failing tests (0-1].",
                               discussion: "Keeps every test whose calibrated score reaches the threshold that kept this share of the failing tests of the model's training runs (as `repro test --select recall:R`), plus new tests and tests whose file changed. A model that has seen no failure sums probabilities instead."))
    var selectRecall: Double?
    @Flag(help: "Order by failure probability per expected second (for APFDc).")
    var costAware = false
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if let r = selectRecall, !(r > 0 && r <= 1) {
            throw ValidationError("--select-recall must be in (0, 1], e.g. 0.95")
        }
    }

    func run() throws {
        let ranked = try {
            let file = try ModelFile.load(path: model)
            let (state, plan) = try Ranker.prepare(try options.load(history), runID: runID)
            return Ranker.rank(plan, state: state, model: file.model, costAware: costAware, recall: selectRecall)
        }()
        if json { return try printJSON(ranked, pretty: true) }
        for (i, t) in ranked.tests.enumerated() {
            var notes: [String] = []
            if t.selected == true { notes.append("selected") }
            if t.new { notes.append("new") } else if t.mustRun { notes.append("file changed") }
            let note = notes.isEmpty ? "" : "  [\(notes.joined(separator: ", "))]"
            print("\(i + 1)\t\(fixed(t.probability, 4))\t\(fixed(t.expectedDuration, 2))\t\(t.test)\(note)")
        }
        if let s = ranked.selection {
            let rule = s.rule == "threshold" ? "threshold learned from earlier failures" : "summed probability"
            print("selected \(s.selectedTests) of \(s.totalTests) tests (\(s.forced) forced, \(rule)); estimated recall \(fixed(s.estimatedRecall)) for target \(fixed(s.recallTarget, 2)); test time saved \(fixed(s.timeSaved))")
        }
    }
}
