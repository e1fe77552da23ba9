import ArgumentParser

// Owned by the Rank work (issue 6); replaced there with `repro rank eval|train|order`.
struct RankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rank",
        abstract: "Order tests so failures surface first.")
}
