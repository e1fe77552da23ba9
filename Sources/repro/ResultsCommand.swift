import ArgumentParser
import Core
import Foundation
import Results
import Store

/// `repro results ...`: named numeric results per recipe, checked against a baseline
/// (docs/results.md).
struct ResultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Record named numeric results, check them against a baseline, show their history.",
        discussion: """
        A test or build step writes one JSON object per line to the file $REPRO_RESULTS names: {"name": "energy", "value": -75.98, "unit": "hartree"}; pytest-benchmark's --benchmark-json output is read too. A result regresses when |now - baseline| / |baseline| exceeds its relative tolerance (default 1e-10); the command then exits 3 naming it, both values and the relative change.
        """,
        subcommands: [Record.self, Compare.self, History.self, Runs.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The store directory (default: $REPRO_HOME, else ~/.cache/repro).")
        var store: String?

        @Flag(help: "Print one JSON object on stdout.")
        var json = false

        func open() throws -> ResultStore {
            var root = store ?? Store.defaultRoot
            while root.count > 1, root.hasSuffix("/") { root.removeLast() }
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            return try ResultStore(path: ResultStore.path(storeRoot: root))
        }
    }

    struct Check: ParsableArguments {
        @Argument(help: "The recipe the results belong to (its name).")
        var recipe: String

        @Argument(help: "Results files: JSON lines, or pytest-benchmark JSON.")
        var files: [String]

        @Option(help: ArgumentHelp("The baseline: a run id (#12) or label; default: the recipe's latest passed run.", valueName: "RUN"))
        var baseline: String?

        @Option(help: ArgumentHelp("Default relative tolerance, e.g. 1e-10 or 5%.", valueName: "REL"))
        var tolerance: String = "1e-10"

        @Option(name: .customLong("tolerance-for"), help: ArgumentHelp("A tolerance for results matching a glob, e.g. '*:mean=5%' (repeatable).", valueName: "PATTERN=REL"))
        var toleranceFor: [String] = []

        func validate() throws {
            guard Tolerances.parseValue(tolerance) != nil else { throw ValidationError("--tolerance \(tolerance): give a relative tolerance >= 0, e.g. 1e-10 or 5%") }
            for o in toleranceFor where Tolerances.parseOverride(o) == nil {
                throw ValidationError("--tolerance-for \(o): expected PATTERN=REL, e.g. 'bench.*=1e-6' or '*:mean=5%'")
            }
            if files.isEmpty { throw ValidationError("name at least one results file") }
        }

        var tolerances: Tolerances {
            Tolerances(default: Tolerances.parseValue(tolerance)!, overrides: toleranceFor.compactMap(Tolerances.parseOverride))
        }

        func read() throws -> [NamedResult] {
            var all: [NamedResult] = []
            for f in files {
                for r in try ResultsFile.read(f) {
                    if all.contains(where: { $0.name == r.name }) { throw ReproError(.invalidInput, "\(f): result \(r.name) is also in an earlier file") }
                    all.append(r)
                }
            }
            return all
        }
    }

    static func report(_ check: ResultCheck, json: Bool, recorded: Bool) throws {
        if json {
            struct Out: Encodable {
                var run: Int64?
                var baseline: ResultStore.Run?
                var comparison: ResultComparison
                var regressed: Bool
            }
            try printJSON(Out(run: check.run, baseline: check.baseline, comparison: check.comparison, regressed: !check.comparison.regressions.isEmpty))
        } else {
            let c = check.comparison
            if let run = check.run { print("recorded run #\(run)") }
            if check.baseline == nil { print("no baseline yet: nothing to compare") } else {
                print("compared \(c.changes.count) result\(c.changes.count == 1 ? "" : "s") with \(check.baselineLabel): \(c.regressions.count) regressed")
            }
            for r in c.regressions { print("  REGRESSED " + r.description) }
            if !c.missing.isEmpty { print("  missing now: \(c.missing.joined(separator: ", "))") }
            if !c.added.isEmpty { print("  new: \(c.added.joined(separator: ", "))") }
        }
        if let e = check.error {
            FileHandle.standardError.write(Data("repro: error: \(e.description)\n".utf8))
            throw ExitCode(e.code.exitStatus)
        }
    }

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a run's results and compare them with the baseline (exit 3 on a regression).")
        @OptionGroup var options: Options
        @OptionGroup var check: Check

        @Option(help: "A label for this run, e.g. a commit or CI job id.")
        var label: String?

        @Flag(help: "The run's tests failed: store its results, never use them as a baseline.")
        var failed = false

        func run() throws {
            let c = try {
                try ResultCheck.check(store: try options.open(), recipe: check.recipe, results: try check.read(), label: label,
                                      passed: !failed, baseline: check.baseline, tolerances: check.tolerances)
            }()
            try ResultsCommand.report(c, json: options.json, recorded: true)
        }
    }

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare results with the baseline without storing them (exit 3 on a regression).")
        @OptionGroup var options: Options
        @OptionGroup var check: Check

        func run() throws {
            let c = try {
                try ResultCheck.check(store: try options.open(), recipe: check.recipe, results: try check.read(), label: nil,
                                      passed: true, baseline: check.baseline, tolerances: check.tolerances, record: false)
            }()
            try ResultsCommand.report(c, json: options.json, recorded: false)
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one result's values over the recipe's runs; --plot draws them as SVG.")
        @OptionGroup var options: Options

        @Argument(help: "The recipe.")
        var recipe: String

        @Argument(help: "The result's name.")
        var name: String

        @Option(help: ArgumentHelp("Also draw the series into this SVG file.", valueName: "FILE.svg"))
        var plot: String?

        func run() throws {
            try {
                let points = try options.open().history(recipe: recipe, name: name)
                if points.isEmpty { throw ReproError(.invalidInput, "no result \(name) recorded for recipe \(recipe)") }
                if let plot {
                    let svg = ResultPlot.svg(recipe: recipe, name: name, points: points)
                    do { try svg.write(toFile: plot, atomically: true, encoding: .utf8) } catch {
                        throw ReproError(.invalidInput, "--plot \(plot): cannot write: \(error.localizedDescription)")
                    }
                }
                if options.json { try printJSON(points.map(PointOut.init)); return }
                print("run    status     value\(points.last?.unit.map { " (\($0))" } ?? "")")
                for p in points {
                    let run = "#\(p.run)".padding(toLength: 7, withPad: " ", startingAt: 0)
                    let status = p.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                    print("\(run)\(status)\(String(format: "%.17g", p.value))\(p.label.map { "  " + $0 } ?? "")")
                }
            }()
        }

        /// Non-finite values as strings in JSON.
        struct PointOut: Encodable {
            var run: Int64, label: String?, status: String, created: Double, value: String, unit: String?
            init(_ p: ResultStore.Point) {
                run = p.run; label = p.label; status = p.status.rawValue; created = p.created; unit = p.unit
                value = String(format: "%.17g", p.value)
            }
        }
    }

    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the recipe's result runs (id, status, label).")
        @OptionGroup var options: Options

        @Argument(help: "The recipe.")
        var recipe: String

        func run() throws {
            try {
                let runs = try options.open().runs(recipe: recipe)
                if options.json { try printJSON(runs); return }
                for r in runs { print("#\(r.id)  \(r.status.rawValue)\(r.label.map { "  " + $0 } ?? "")") }
            }()
        }
    }
}
