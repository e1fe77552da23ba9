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

/// The RETECS CSV family (Spieker et al. 2017; the coleman4hcs data sets): one row per
/// execution, columns found by header name in any order, `;`-separated (or `,` when the
/// header has no `;`), fields optionally in double quotes.
///
/// Only `Name`, `Duration`, `Verdict` and `Cycle` are read; every other column (`Id`,
/// `BuildId`, `CalcPrio`, `LastRun`, `LastResults`, `NumRan`, ...) is ignored. `LastRun`
/// is the execution's own timestamp and `LastResults` holds verdicts of the same cycle
/// (see docs/ranking.md), so history is rebuilt from earlier cycles instead.
enum RetecsImporter {
    static let required = ["Name", "Duration", "Verdict", "Cycle"]

    static func parse(_ text: String, name: String) throws -> History {
        let lines = HistoryImporter.lines(text)
        guard let header = lines.first else {
            throw ReproError(.invalidInput, "\(name):1: empty file; expected a RETECS header with \(required.joined(separator: ";"))")
        }
        let separator: Character = header.text.contains(";") ? ";" : ","
        let names = split(header.text, by: separator).map { $0.trimmingCharacters(in: .whitespaces) }
        var column: [String: Int] = [:]
        for (i, n) in names.enumerated() where column[n.lowercased()] == nil { column[n.lowercased()] = i }
        let missing = required.filter { column[$0.lowercased()] == nil }
        guard missing.isEmpty else {
            throw ReproError(.invalidInput, "\(name):1: the header lacks \(missing.joined(separator: ", ")) (a RETECS CSV needs \(required.joined(separator: ", ")) in any order); use --format jsonl for JSON lines")
        }
        let nameAt = column["name"]!, durationAt = column["duration"]!, verdictAt = column["verdict"]!, cycleAt = column["cycle"]!
        var byCycle: [Int: [Execution]] = [:]
        for (number, line) in lines.dropFirst() {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = split(line, by: separator)
            func fail(_ what: String) -> ReproError {
                ReproError(.invalidInput, "\(name):\(number): \(what); fix or remove the row")
            }
            guard fields.count == names.count else {
                throw fail("expected \(names.count) `\(separator)`-separated fields as in the header, found \(fields.count)")
            }
            let test = fields[nameAt].trimmingCharacters(in: .whitespaces)
            guard !test.isEmpty else { throw fail("empty Name") }
            guard let duration = Double(fields[durationAt].trimmingCharacters(in: .whitespaces)), duration.isFinite, duration >= 0 else {
                throw fail("Duration `\(fields[durationAt])` is not a non-negative number")
            }
            let verdict: Verdict
            switch fields[verdictAt].trimmingCharacters(in: .whitespaces) {
            case "0": verdict = .pass
            case "1": verdict = .fail
            default: throw fail("Verdict `\(fields[verdictAt])` is not 0 (passed) or 1 (failed)")
            }
            guard let cycle = Int(fields[cycleAt].trimmingCharacters(in: .whitespaces)) else {
                throw fail("Cycle `\(fields[cycleAt])` is not an integer")
            }
            byCycle[cycle, default: []].append(Execution(test: test, verdict: verdict, duration: duration))
        }
        let runs = byCycle.keys.sorted().map { Run(id: String($0), executions: byCycle[$0]!) }
        return History(runs: runs)
    }

    /// Splits a CSV line at `separator` outside double quotes; quotes are removed and
    /// `""` inside quotes is a quote. Hand-written because Rank depends on Core only.
    static func split(_ line: Substring, by separator: Character) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else {
                            quoted = false
                            if next == separator { fields.append(current); current = "" } else { current.append(next) }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == separator {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
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
