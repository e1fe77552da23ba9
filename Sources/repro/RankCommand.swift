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
        subcommands: [RankEval.self, RankTrain.self, RankOrder.self, RankExplain.self])
}

extension HistoryFormat: ExpressibleByArgument {}

/// The history file and its format, shared by the rank subcommands.
struct RankHistoryOptions: ParsableArguments {
    @Option(help: "History format: retecs (CSV) or jsonl.")
    var format: HistoryFormat

    func load(_ path: String) throws -> History {
        try HistoryImporter.load(path: path, format: format)
    }
}

func fixed(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
