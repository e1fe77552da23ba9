import ArgumentParser
import Core
import Foundation
import Rank

struct RankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rank",
        abstract: "Order tests so failures surface first.",
        subcommands: [RankEval.self])
}

struct RankEval: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval")
    @Option var replay: String
    @Option var format: String = "retecs"
    @Option var seed: UInt64 = 1
    func run() throws {
        let h = try HistoryImporter.load(path: replay, format: HistoryFormat(rawValue: format)!)
        let r = Replay.evaluate(h, seed: seed)
        for s in r.scores { print(s.title, String(format: "%.3f %.3f %.3f", s.apfd, s.apfdc, s.timeTo95)) }
    }
}
