import ArgumentParser
import Core
import Foundation
import TestRun

/// `repro test report RUN -o FILE.html`: one self-contained page for a test run.
struct TestReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page for a test run.",
        discussion: """
        The page shows the executed order as a timeline of duration bars coloured by \
        verdict, the order the model (trained on the recipe's earlier runs only) would \
        have chosen next to the optimal order in hindsight, the recipe's flaky tests and \
        each test's recent history. No scripts and no external files.
        """)

    @Argument(help: "The run id (from `repro test history`).")
    var runID: Int64
    @Option(name: .shortAndLong, help: "Where to write the page.")
    var output: String
    @OptionGroup var storeOption: TestStoreOption

    func run() throws {
        try {
            let (store, telemetry) = try storeOption.open()
            let page = try TestReportPage.load(run: runID, telemetry: telemetry, imports: ImportGraphCache(store: store))
            do {
                try Data(page.render().utf8).write(to: URL(fileURLWithPath: output))
            } catch {
                throw ReproError(.invalidInput, "\(output): cannot write the report; check the directory exists and is writable")
            }
        }()
        print("wrote \(output)")
    }
}
