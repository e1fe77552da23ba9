import Core
import Foundation

/// Reads history files. Errors are `ReproError(.invalidInput, "FILE:LINE: what; what to do")`.
public enum HistoryImporter {
    /// Reads `path` in `format`.
    /// - Throws: `ReproError(.invalidInput)` if the file cannot be read or a row is malformed.
    public static func load(path: String, format: HistoryFormat) throws -> History {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ReproError(.invalidInput, "\(path): cannot read the history file; check the path and that it is UTF-8 text")
        }
        return try parse(text, format: format, name: path)
    }

    /// Parses `text`; `name` is the file name used in error messages.
    public static func parse(_ text: String, format: HistoryFormat, name: String) throws -> History {
        switch format {
        case .retecs: return try RetecsImporter.parse(text, name: name)
        case .jsonl: return try JSONLinesImporter.parse(text, name: name)
        }
    }

    /// Lines with their 1-based numbers; a trailing `\r` is dropped.
    static func lines(_ text: String) -> [(number: Int, text: Substring)] {
        var result: [(Int, Substring)] = []
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            result.append((number, line.hasSuffix("\r") ? line.dropLast() : line))
        }
        return result
    }
}

/// The RETECS CSV format (Spieker et al. 2017): `;`-separated,
/// `Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle`, one row per execution.
///
/// Only `Name`, `Duration`, `Verdict` and `Cycle` are read. `LastRun` is the execution's
/// own timestamp and `LastResults` sometimes already contains the current verdict
/// (see docs/ranking.md), so both are ignored: history is rebuilt from earlier cycles.
enum RetecsImporter {
    static let columns = ["Id", "Name", "Duration", "CalcPrio", "LastRun", "LastResults", "Verdict", "Cycle"]

    static func parse(_ text: String, name: String) throws -> History {
        let lines = HistoryImporter.lines(text)
        guard let header = lines.first,
              header.text.split(separator: ";", omittingEmptySubsequences: false).map(String.init) == columns else {
            throw ReproError(.invalidInput, "\(name):1: expected the RETECS header \(columns.joined(separator: ";")); use --format jsonl for JSON lines")
        }
        var byCycle: [Int: [Execution]] = [:]
        for (number, line) in lines.dropFirst() {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ";", omittingEmptySubsequences: false)
            func fail(_ what: String) -> ReproError {
                ReproError(.invalidInput, "\(name):\(number): \(what); fix or remove the row")
            }
            guard fields.count == columns.count else {
                throw fail("expected \(columns.count) `;`-separated fields, found \(fields.count)")
            }
            let test = fields[1].trimmingCharacters(in: .whitespaces)
            guard !test.isEmpty else { throw fail("empty Name") }
            guard let duration = Double(fields[2].trimmingCharacters(in: .whitespaces)), duration.isFinite, duration >= 0 else {
                throw fail("Duration `\(fields[2])` is not a non-negative number")
            }
            let verdict: Verdict
            switch fields[6].trimmingCharacters(in: .whitespaces) {
            case "0": verdict = .pass
            case "1": verdict = .fail
            default: throw fail("Verdict `\(fields[6])` is not 0 (passed) or 1 (failed)")
            }
            guard let cycle = Int(fields[7].trimmingCharacters(in: .whitespaces)) else {
                throw fail("Cycle `\(fields[7])` is not an integer")
            }
            byCycle[cycle, default: []].append(Execution(test: test, verdict: verdict, duration: duration))
        }
        let runs = byCycle.keys.sorted().map { Run(id: String($0), executions: byCycle[$0]!) }
        return History(runs: runs)
    }
}

/// JSON lines: one object per execution, runs in order of first appearance.
///
/// `{"run": "123", "test": "Suite/testA", "verdict": "fail", "duration": 1.5,
///   "changed_files": ["src/a.swift"], "test_file": "Tests/SuiteTests.swift"}`
///
/// `changed_files` and `test_file` are optional; a run's changed files are the union
/// over its executions. Blank lines are ignored.
enum JSONLinesImporter {
    struct Line: Decodable {
        var run: String
        var test: String
        var verdict: String
        var duration: Double
        var changed_files: [String]?
        var test_file: String?
    }

    static func parse(_ text: String, name: String) throws -> History {
        var order: [String] = []
        var executions: [String: [Execution]] = [:]
        var changed: [String: [String]] = [:]
        var changedSeen: [String: Set<String>] = [:]
        let decoder = JSONDecoder()
        for (number, line) in HistoryImporter.lines(text) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            func fail(_ what: String) -> ReproError {
                ReproError(.invalidInput, "\(name):\(number): \(what); see docs/ranking.md for the JSON lines format")
            }
            let row: Line
            do {
                row = try decoder.decode(Line.self, from: Data(line.utf8))
            } catch DecodingError.keyNotFound(let key, _) {
                throw fail("missing key `\(key.stringValue)`")
            } catch DecodingError.typeMismatch(_, let context) {
                throw fail("wrong type for `\(context.codingPath.map(\.stringValue).joined(separator: "."))`")
            } catch {
                throw fail("not a JSON object")
            }
            guard let verdict = Verdict(rawValue: row.verdict) else {
                throw fail("verdict `\(row.verdict)` is not one of pass, fail, error, skip")
            }
            guard row.duration.isFinite, row.duration >= 0 else { throw fail("duration must be a non-negative number") }
            guard !row.test.isEmpty else { throw fail("empty test") }
            if executions[row.run] == nil {
                order.append(row.run)
                executions[row.run] = []
            }
            executions[row.run]!.append(Execution(test: row.test, verdict: verdict, duration: row.duration, testFile: row.test_file))
            if let files = row.changed_files {
                var seen = changedSeen[row.run, default: []]
                var list = changed[row.run, default: []]
                for file in files where seen.insert(file).inserted { list.append(file) }
                changedSeen[row.run] = seen
                changed[row.run] = list
            }
        }
        return History(runs: order.map { Run(id: $0, executions: executions[$0]!, changedFiles: changed[$0]) })
    }
}
