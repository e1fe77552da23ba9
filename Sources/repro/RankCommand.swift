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
        subcommands: [RankEval.self, RankTrain.self, RankOrder.self, RankBench.self])
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

/// Runs `body`; a `ReproError` becomes `repro: error: MESSAGE` on stderr and the
/// error's exit status.
func reportingReproErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ReproError {
        FileHandle.standardError.write(Data("repro: error: \(error.message)\n".utf8))
        throw ExitCode(error.code.exitStatus)
    }
}

/// Prints a value as canonical JSON on stdout.
func rankPrintJSON<T: Encodable>(_ value: T) throws {
    print(try CanonicalJSON.string(value, pretty: true))
}

func fixed(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
