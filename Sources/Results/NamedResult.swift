import Core
import Foundation

/// One named numeric result of a run: what a test or a build step writes, one JSON
/// object per line, to the file `$REPRO_RESULTS` names:
///
///     {"name": "solver.residual", "value": 1.25e-12, "unit": "1"}
///     {"name": "energy", "value": -75.98, "unit": "hartree", "tolerance": 1e-8}
///
/// `unit` and `tolerance` (a relative tolerance for this result alone) may be left out.
public struct NamedResult: Sendable, Equatable, Codable {
    public var name: String
    public var value: Double
    public var unit: String?
    public var tolerance: Double?

    public init(name: String, value: Double, unit: String? = nil, tolerance: Double? = nil) {
        self.name = name; self.value = value; self.unit = unit; self.tolerance = tolerance
    }
}

public enum ResultsFile {
    /// Reads a results file: pytest-benchmark's JSON (an object with "benchmarks") or
    /// JSON lines.
    /// - Throws: `ReproError(.invalidInput)` naming FILE:LINE and what is wrong.
    public static func read(_ path: String) throws -> [NamedResult] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReproError(.invalidInput, "\(path): cannot read the results file")
        }
        let text = String(decoding: data, as: UTF8.self)
        if let first = text.first(where: { !$0.isWhitespace }), first == "{",
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["benchmarks"] != nil {
            return try PytestBenchmark.results(object, file: path)
        }
        return try parseLines(text, file: path)
    }

    /// JSON lines: one object per line with name, value and optionally unit and tolerance.
    public static func parseLines(_ text: String, file: String) throws -> [NamedResult] {
        struct Line: Decodable {
            var name: String
            var value: Number
            var unit: String?
            var tolerance: Number?
        }
        var out: [NamedResult] = []
        var seen: [String: Int] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let place = "\(file):\(i + 1)"
            let l: Line
            do {
                l = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            } catch {
                throw ReproError(.invalidInput, "\(place): expected {\"name\": \"x\", \"value\": 1.5, \"unit\": \"s\"} (value a number, or \"nan\"/\"inf\"/\"-inf\"): \(Self.reason(error))")
            }
            guard !l.name.isEmpty else { throw ReproError(.invalidInput, "\(place): \"name\" is empty") }
            if let t = l.tolerance?.value, !(t >= 0 && t.isFinite) {
                throw ReproError(.invalidInput, "\(place): \"tolerance\" of \(l.name) must be a relative tolerance >= 0, e.g. 1e-6")
            }
            if let earlier = seen[l.name] {
                throw ReproError(.invalidInput, "\(place): result \(l.name) was already given at line \(earlier); names must be unique in a run")
            }
            seen[l.name] = i + 1
            out.append(NamedResult(name: l.name, value: l.value.value, unit: l.unit, tolerance: l.tolerance?.value))
        }
        return out
    }

    static func reason(_ error: Error) -> String {
        switch error as? DecodingError {
        case let .keyNotFound(key, _)?: return "\"\(key.stringValue)\" is missing"
        case let .typeMismatch(_, c)?, let .valueNotFound(_, c)?:
            return "\"\(c.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        case let .dataCorrupted(c)?: return c.codingPath.isEmpty ? "not JSON" : "\"\(c.codingPath.map(\.stringValue).joined(separator: "."))\" is invalid"
        default: return "\(error)"
        }
    }

    /// A JSON number, or the strings nan/inf/-inf (JSON has no literals for them).
    struct Number: Decodable {
        var value: Double
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { value = d; return }
            let s = try c.decode(String.self)
            guard let v = ResultsFile.special(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a number")
            }
            value = v
        }
    }

    static func special(_ s: String) -> Double? {
        switch s.lowercased() {
        case "nan": return .nan
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return nil
        }
    }

    static func number(_ v: Any?) -> Double? {
        if let n = v as? NSNumber { return n.doubleValue }
        return (v as? String).flatMap(special)
    }

    /// The JSON line for `r` (what a test would write).
    public static func line(_ r: NamedResult) -> String {
        let data = (try? CanonicalJSON.encode(r)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// pytest-benchmark's JSON (`pytest --benchmark-json FILE`): per benchmark its timing
/// statistics as `FULLNAME:mean` (and min, max, median, stddev, in seconds; ops in 1/s)
/// and every number in its extra_info as `FULLNAME:KEY`. Timings differ between runs:
/// give them a tolerance (`--tolerance-for '*:mean=5%'`).
public enum PytestBenchmark {
    static let stats: [(String, String)] = [("min", "s"), ("max", "s"), ("mean", "s"), ("median", "s"), ("stddev", "s"), ("ops", "1/s")]

    public static func results(_ object: [String: Any], file: String) throws -> [NamedResult] {
        guard let benchmarks = object["benchmarks"] as? [[String: Any]] else {
            throw ReproError(.invalidInput, "\(file): \"benchmarks\" is not a list of objects (is this pytest-benchmark's --benchmark-json output?)")
        }
        var out: [NamedResult] = []
        for (i, b) in benchmarks.enumerated() {
            guard let name = (b["fullname"] as? String) ?? (b["name"] as? String) else {
                throw ReproError(.invalidInput, "\(file): benchmark #\(i + 1) has no fullname or name")
            }
            guard let s = b["stats"] as? [String: Any] else {
                throw ReproError(.invalidInput, "\(file): benchmark \(name) has no stats")
            }
            for (key, unit) in stats {
                if let v = ResultsFile.number(s[key]) { out.append(NamedResult(name: "\(name):\(key)", value: v, unit: unit)) }
            }
            if let extra = b["extra_info"] as? [String: Any] {
                for key in extra.keys.sorted() {
                    if let v = ResultsFile.number(extra[key]) { out.append(NamedResult(name: "\(name):\(key)", value: v)) }
                }
            }
        }
        return out
    }
}
