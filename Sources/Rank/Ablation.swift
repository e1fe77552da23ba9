import Core

extension FeatureGroups {
    /// Parses `all` or a comma-separated list of group names (`FeatureGroups.named`).
    /// - Throws: `ReproError(.invalidInput)` naming the unknown group.
    public static func parse(_ text: String) throws -> FeatureGroups {
        var groups: FeatureGroups = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if part == "all" { groups.formUnion(.all); continue }
            if part == "change" { groups.formUnion(.change); continue }
            guard let g = named.first(where: { $0.name == part }) else {
                throw ReproError(.invalidInput, "unknown feature group `\(part)`; use all, change or any of \(named.map(\.name).joined(separator: ", "))")
            }
            groups.formUnion(g.group)
        }
        guard !groups.isEmpty else {
            throw ReproError(.invalidInput, "no feature group given; use all or a list such as history,similarity")
        }
        return groups
    }

    /// The names of the groups in this set.
    public var description: String {
        if self == .all { return "all" }
        if self == .change { return "change only" }
        return Self.named.filter { contains($0.group) }.map(\.name).joined(separator: ", ")
    }
}

/// The model replayed with feature groups left out: which groups carry the weight.
public enum Ablation {
    public struct Row: Codable, Sendable, Equatable {
        public var features: String
        public var apfd: Double
        public var apfdc: Double
        public var timeTo95: Double
        public var apfdSE: Double
        public var apfdcSE: Double
        public var timeTo95SE: Double
    }

    /// The variants: all features, history only, change only, and all but each group.
    public static let variants: [(String, FeatureGroups)] = {
        var v: [(String, FeatureGroups)] = [("all", .all), ("history only", .history), ("change only", .change)]
        for (name, g) in FeatureGroups.named where g != .history {
            v.append(("all without \(name)", FeatureGroups.all.subtracting(g)))
        }
        return v
    }()

    /// Replays the model once per variant; each row reports the model (by probability)
    /// and its cost-aware order's APFDc and time to 95%.
    public static func run(_ history: History, seed: UInt64, scoreFrom: Int = 0) -> [Row] {
        variants.map { name, groups in
            let report = Replay.evaluate(history, seed: seed, scoreFrom: scoreFrom, groups: groups)
            let model = report.scores.first { $0.strategy == Strategy.model.rawValue }!
            let perSecond = report.scores.first { $0.strategy == Strategy.modelPerSecond.rawValue }!
            return Row(features: name, apfd: model.apfd, apfdc: perSecond.apfdc, timeTo95: perSecond.timeTo95,
                       apfdSE: model.apfdSE, apfdcSE: perSecond.apfdcSE, timeTo95SE: perSecond.timeTo95SE)
        }
    }
}
