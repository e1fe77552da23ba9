import ArgumentParser
import Rank

/// `repro rank train`: learn a model from a whole history and save it.
struct RankTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the model on a history, run by run, and write the model file.",
        discussion: """
        With --resume, continues a model on the runs it has not seen yet (the history \
        must start with the runs it was trained on); the result equals training on the \
        whole history at once.
        """)

    @Option(help: "The history file to learn from.")
    var history: String
    @OptionGroup var options: RankHistoryOptions
    @Option(name: .shortAndLong, help: "Where to write the model (JSON).")
    var output: String
    @Option(help: "Seed for the training order (ignored with --resume: the model's own).")
    var seed: UInt64 = 1
    @Option(help: "A model file to continue training.")
    var resume: String?
    @Flag(help: "Print a JSON summary.")
    var json = false

    func run() throws {
        let file = try {
            let runs = try options.load(history)
            let file = try resume.map { try Trainer.resume(try ModelFile.load(path: $0), on: runs, path: $0) }
                ?? Trainer.train(runs, seed: seed)
            try file.write(to: output)
            return file
        }()
        struct Summary: Encodable { var model: String; var runs: Int; var executions: Int; var seed: UInt64 }
        let summary = Summary(model: output, runs: file.trainedRuns, executions: file.trainedExecutions, seed: file.seed)
        if json { return try printJSON(summary, pretty: true) }
        print("trained on \(summary.runs) runs, \(summary.executions) executions; wrote \(output)")
    }
}
