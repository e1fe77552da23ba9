import ArgumentParser
import Rank

/// `repro rank train`: learn a model from a whole history and save it.
struct RankTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the model on a history, run by run, and write the model file.")

    @Option(help: "The history file to learn from.")
    var history: String
    @OptionGroup var options: RankHistoryOptions
    @Option(name: .shortAndLong, help: "Where to write the model (JSON).")
    var output: String
    @Option(help: "Seed for the training order.")
    var seed: UInt64 = 1
    @Flag(help: "Print a JSON summary.")
    var json = false

    func run() throws {
        let file = try reportingReproErrors {
            let file = Trainer.train(try options.load(history), seed: seed)
            try file.write(to: output)
            return file
        }
        struct Summary: Encodable { var model: String; var runs: Int; var executions: Int; var seed: UInt64 }
        let summary = Summary(model: output, runs: file.trainedRuns, executions: file.trainedExecutions, seed: seed)
        if json { return try rankPrintJSON(summary) }
        print("trained on \(summary.runs) runs, \(summary.executions) executions; wrote \(output)")
    }
}
