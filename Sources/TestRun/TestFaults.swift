import Core
import Faults
import Foundation
import Recipe
import Results
import Store

/// The fault spec of a test run: `repro test --fault` wins over the recipe's
/// `[test] faults`; a bad spec is an error naming where it came from and the column.
public enum TestFaults {
    public struct Summary: Codable, Sendable, Equatable {
        public var spec: String
        public var seed: UInt64
        /// Faults injected per kind (FAMILY:ERRNO), summed over every launch of the suite.
        public var injected: [String: UInt64]
        /// Per failing test: the first fault injected while it ran (after the previous
        /// test's result arrived), when there was one.
        public var firstFaults: [String: FaultReport.Event]

        enum CodingKeys: String, CodingKey {
            case spec, seed, injected
            case firstFaults = "first_faults"
        }
    }

    static func spec(options: TestOptions, test: Recipe.Test, recipe: Recipe) throws -> FaultSpec? {
        if options.faultsDisabled { return nil }
        if let text = options.faults {
            do { return try FaultSpec.parse(text) } catch { throw ReproError(.invalidInput, "--fault: \(error)") }
        }
        guard let text = test.faults else { return nil }
        do { return try FaultSpec.parse(text) } catch {
            throw ReproError(.invalidInput, "\(recipe.file):\(test.line): [test] faults: \(error)")
        }
    }
}

/// The named-results check after a test run (docs/results.md): the suite's
/// $REPRO_RESULTS file against the recipe's baseline, stored in the results database.
public enum TestResultsCheck {
    public struct Summary: Codable, Sendable, Equatable {
        /// The results run (in `repro results runs RECIPE`).
        public var run: Int64?
        public var baseline: Int64?
        public var compared: Int
        public var regressions: [ResultChange]
        public var missing: [String]
        public var added: [String]
        /// The exit-3 message when something regressed.
        public var error: String?
    }

    static func run(store: Store, recipe: Recipe, runID: Int64, passed: Bool, file: String?, options: TestOptions) throws -> Summary? {
        guard let file, FileManager.default.fileExists(atPath: file) else { return nil }
        let results = try ResultsFile.read(file)
        let check = try ResultCheck.check(store: ResultStore(path: ResultStore.path(storeRoot: store.root)), recipe: recipe.name,
                                          results: results, label: "test-run \(runID)", passed: passed,
                                          baseline: options.resultsBaseline, tolerances: options.tolerances)
        let c = check.comparison
        return Summary(run: check.run, baseline: check.baseline?.id, compared: c.changes.count, regressions: c.regressions,
                       missing: c.missing, added: c.added, error: check.error?.message)
    }
}
