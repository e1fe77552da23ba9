import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Relative tolerances: a default (1e-10), overrides by name or glob pattern (`*`, `?`,
/// as fnmatch(3)), and a result's own `tolerance` field, which wins over both.
public struct Tolerances: Sendable, Equatable {
    public var defaultTolerance: Double
    /// (pattern, tolerance), first match wins.
    public var overrides: [(pattern: String, tolerance: Double)]

    public init(default d: Double = 1e-10, overrides: [(pattern: String, tolerance: Double)] = []) {
        defaultTolerance = d
        self.overrides = overrides
    }

    public static func == (a: Tolerances, b: Tolerances) -> Bool {
        a.defaultTolerance == b.defaultTolerance && a.overrides.map(\.pattern) == b.overrides.map(\.pattern)
            && a.overrides.map(\.tolerance) == b.overrides.map(\.tolerance)
    }

    public func tolerance(for r: NamedResult) -> Double {
        if let t = r.tolerance { return t }
        for o in overrides where fnmatch(o.pattern, r.name, 0) == 0 { return o.tolerance }
        return defaultTolerance
    }

    /// "1e-6" or "5%".
    public static func parseValue(_ s: String) -> Double? {
        var text = s, scale = 1.0
        if text.hasSuffix("%") { text.removeLast(); scale = 100 }
        guard let v = Double(text), v.isFinite, v >= 0 else { return nil }
        return v / scale
    }

    /// "PATTERN=TOL" (the CLI's --tolerance-for).
    public static func parseOverride(_ s: String) -> (pattern: String, tolerance: Double)? {
        guard let eq = s.lastIndex(of: "="), eq != s.startIndex, let t = parseValue(String(s[s.index(after: eq)...])) else { return nil }
        return (String(s[..<eq]), t)
    }
}

/// One result compared with its baseline.
public struct ResultChange: Sendable, Equatable, Codable {
    public var name: String
    public var unit: String?
    public var baseline: Double
    public var current: Double
    /// (current - baseline) / |baseline|; ±infinity when the baseline is 0 and the value
    /// is not; 0 when both are equal (NaN equals NaN here).
    public var relativeChange: Double
    public var tolerance: Double
    public var regressed: Bool

    enum CodingKeys: String, CodingKey {
        case name, unit, baseline, current, tolerance, regressed
        case relativeChange = "relative_change"
    }

    /// Encodes non-finite numbers as strings ("nan", "inf"): JSON has no literal for them.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(unit, forKey: .unit)
        for (v, k) in [(baseline, CodingKeys.baseline), (current, .current), (relativeChange, .relativeChange)] {
            if v.isFinite { try c.encode(v, forKey: k) } else { try c.encode(ResultChange.text(v), forKey: k) }
        }
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(regressed, forKey: .regressed)
    }

    static func text(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        return String(format: "%.17g", v)
    }

    /// "energy: baseline -75.98 hartree, now -75.980000001 hartree (relative change +1.3e-11, tolerance 1e-10)"
    public var description: String {
        let u = unit.map { " " + $0 } ?? ""
        let rel = relativeChange.isFinite ? String(format: "%+.3g", relativeChange) : ResultChange.text(relativeChange)
        return "\(name): baseline \(ResultChange.text(baseline))\(u), now \(ResultChange.text(current))\(u) (relative change \(rel), tolerance \(String(format: "%g", tolerance)))"
    }
}

/// A run's results against a baseline's: what changed beyond its tolerance, what the run
/// lacks, what is new. `repro results` and `repro test` both call `compare`.
public struct ResultComparison: Sendable, Equatable, Codable {
    public var changes: [ResultChange]
    /// In the baseline, not in this run.
    public var missing: [String]
    /// In this run, not in the baseline.
    public var added: [String]

    public var regressions: [ResultChange] { changes.filter(\.regressed) }

    public static func compare(baseline: [NamedResult], current: [NamedResult], tolerances: Tolerances = Tolerances()) -> ResultComparison {
        let base = Dictionary(baseline.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
        let names = Set(current.map(\.name))
        var changes: [ResultChange] = []
        for r in current {
            guard let b = base[r.name] else { continue }
            let tol = tolerances.tolerance(for: r)
            let rel = relative(b.value, r.value)
            changes.append(ResultChange(name: r.name, unit: r.unit ?? b.unit, baseline: b.value, current: r.value,
                                        relativeChange: rel, tolerance: tol, regressed: !(abs(rel) <= tol)))
        }
        return ResultComparison(changes: changes,
                                missing: baseline.map(\.name).filter { !names.contains($0) },
                                added: current.map(\.name).filter { base[$0] == nil })
    }

    static func relative(_ b: Double, _ c: Double) -> Double {
        if b.isNaN || c.isNaN { return b.isNaN && c.isNaN ? 0 : .nan }
        if b == c { return 0 }
        if b == 0 || b.isInfinite { return c > b ? .infinity : -.infinity }
        return (c - b) / abs(b)
    }

    /// The exit-3 error naming every regression, or nil when there is none.
    public func error(baselineLabel: String) -> ReproError? {
        let r = regressions
        guard !r.isEmpty else { return nil }
        let lines = r.map { "  " + $0.description }.joined(separator: "\n")
        return ReproError(.notReproducible, "\(r.count) result\(r.count == 1 ? "" : "s") changed beyond tolerance against \(baselineLabel):\n\(lines)")
    }
}
