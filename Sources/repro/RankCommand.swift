import ArgumentParser
import Core
import Foundation
import Rank

/// `repro rank`: replay, train and order with the learned test-ordering engine.
struct RankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Order tests so failures surface first.",
        discussion: "History files: RETECS CSV or JSON lines (docs/ranking.md).",
        subcommands: [RankEval.self, RankTrain.self, RankOrder.self, RankExplain.self, RankImports.self])
}

extension HistoryFormat: ExpressibleByArgument {}

/// The history file and its format, shared by the rank subcommands.
struct RankHistoryOptions: ParsableArguments {
    @Option(help: "History format: retecs (CSV) or jsonl.")
    var format: HistoryFormat
    @Option(help: ArgumentHelp("The source tree's import graph, written by `repro rank imports DIR -o FILE`: a change then also ties the tests whose file imports a changed file. Used for every run of the history.", valueName: "FILE"))
    var imports: String?

    func load(_ path: String) throws -> History {
        let history = try HistoryImporter.load(path: path, format: format)
        guard let imports else { return history }
        return history.with(imports: try ImportGraphFile.load(path: imports))
    }
}

func fixed(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
