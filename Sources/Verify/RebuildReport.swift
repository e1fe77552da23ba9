import Core
import Foundation

/// What `repro verify` found (its `--json`).
public struct VerifyReport: Encodable, Sendable {
    public var recipe: String
    public var recipeDigest: String
    public var variations: [String]
    public var runs: [VerifyRun]
    /// True when every run (and the bundle, with --against) gave the same tree digest.
    public var reproducible: Bool
    /// The reference every run is compared with: the first run's tree, or the bundle's.
    public var reference: String
    /// With --against: the bundle file.
    public var against: String?
    public var differences: [DifferingFile]
    public var culprits: CulpritReport?
    /// What could not be varied on this host, and why.
    public var notes: [String]
    /// With --against and --key: the checked provenance of the bundle.
    public var provenance: String?
    public var wallSeconds: Double

    public init(recipe: String, recipeDigest: String, variations: [String], runs: [VerifyRun], reproducible: Bool,
                reference: String, against: String?, differences: [DifferingFile], culprits: CulpritReport?,
                notes: [String], wallSeconds: Double) {
        self.recipe = recipe; self.recipeDigest = recipeDigest; self.variations = variations; self.runs = runs
        self.reproducible = reproducible; self.reference = reference; self.against = against
        self.differences = differences; self.culprits = culprits; self.notes = notes; self.wallSeconds = wallSeconds
    }

    enum CodingKeys: String, CodingKey {
        case recipe, recipeDigest = "recipe_digest", variations, runs, reproducible, reference, against
        case differences, culprits, notes, wallSeconds = "wall_seconds", provenance
    }

    /// The report for people.
    public var text: String {
        var s = ""
        for r in runs {
            let what = r.variations.isEmpty ? "no variations" : r.variations.joined(separator: ",")
            let time = r.wallSeconds.map { String(format: " %.1f s", $0) } ?? ""
            s += "run \(r.run) (\(what)): \(r.treeDigest ?? "FAILED: " + (r.failed ?? ""))\(time)\(r.out.map { "  kept in \($0)" } ?? "")\n"
        }
        if let against { s += "bundle \(against): \(reference)\n" }
        if let provenance { s += "provenance: \(provenance)\n" }
        if reproducible {
            s += "reproducible: every \(against == nil ? "run" : "rebuild") gave \(reference)\n"
        } else {
            s += "NOT reproducible: \(differences.count) \(differences.count == 1 ? "path differs" : "paths differ") from \(against == nil ? "run 1" : "the bundle")\n"
            for d in differences { s += "  \(d.change.padding(toLength: 13, withPad: " ", startingAt: 0)) \(Printable.escape(d.path))  (run \(d.runs.map(String.init).joined(separator: ",")))\n" }
            let kept = runs.compactMap(\.out)
            if differences.allSatisfy({ $0.path == Rebuilder.buildFails }) {
                // Nothing to diff: the varied builds made no tree.
            } else if against == nil, kept.count > 1, let other = runs.first(where: { $0.out != nil && $0.treeDigest != runs[0].treeDigest })?.out {
                s += "look closer: repro diff \(kept[0]) \(other)\n"
            } else if let against, let k = kept.first {
                s += "look closer: repro diff \(against) \(k)  (file contents when the bundle has --with-outputs)\n"
            } else if kept.isEmpty {
                s += "look closer: run again with --keep, then repro diff the kept trees\n"
            }
        }
        if let c = culprits {
            s += "culprits (\(c.builds) more builds):\n"
            if c.culprits.isEmpty && c.nondeterministic.isEmpty { s += "  none found: no single variation or group reproduces the difference\n" }
            for x in c.culprits {
                s += "  \(x.variations.joined(separator: "+"))\(x.together ? " (only together)" : ""): \(x.files.map(Printable.escape).joined(separator: ", "))\n"
            }
            if !c.nondeterministic.isEmpty {
                s += "  nondeterministic (differ between two builds without variations): \(c.nondeterministic.map(Printable.escape).joined(separator: ", "))\n"
            }
        }
        for n in notes { s += "note: \(n)\n" }
        return s
    }
}
