import Build
import Core
import Diff
import Foundation
import Recipe
import Store

/// `repro verify`: N builds from scratch, the first without variations and the others
/// with them (or, against a bundle, every build compared with the bundle's tree), then
/// optionally the culprit search.
public struct RebuildCheck {
    public var runs: Int
    public var variations: [Variation]
    public var findCulprit = false
    /// Compare with this tree (a bundle's) instead of the first run.
    public var against: (file: String, manifest: Manifest)?

    public init(runs: Int, variations: [Variation]) {
        self.runs = runs
        self.variations = variations
    }

    public func run(_ rebuilder: inout Rebuilder) throws -> VerifyReport {
        let started = Date()
        var notes: [String] = []
        var done: [(VerifyRun, Manifest?)] = []
        for i in 0..<runs {
            // Locally the first build is the unvaried reference; against a bundle every
            // build is compared with the bundle, so every one is varied (when asked).
            let varied = against != nil || i > 0
            let variant = against != nil ? i + 1 : i
            let r = try rebuilder.buildOrFailure(varied ? variations : [], variant: variant, label: i + 1)
            for n in r.notes where !notes.contains(n) { notes.append(n) }
            done.append((r.run, r.manifest))
        }
        // The first local build has no variations: had it failed, verify would have stopped.
        let reference = against?.manifest ?? done[0].1!
        let compared = against != nil ? done : Array(done.dropFirst())
        var differences = Rebuilder.differences(reference, compared.compactMap { d in d.1.map { (d.0.run, $0) } })
        let failedRuns = compared.filter { $0.1 == nil }.map(\.0.run)
        if !failedRuns.isEmpty {
            differences.insert(DifferingFile(path: Rebuilder.buildFails, change: "buildFailed", runs: failedRuns), at: 0)
        }
        let reproducible = differences.isEmpty && compared.allSatisfy { $0.1?.treeDigest == reference.treeDigest }
        var culprits: CulpritReport?
        if findCulprit && !reproducible {
            // The files the first varied build changed: the search explains those.
            let firstVaried = against != nil ? done[0].1 : done.count > 1 ? done[1].1 : done[0].1
            let differing = firstVaried.map { Set(ManifestDiff.compare(reference, $0).map(\.path)) } ?? [Rebuilder.buildFails]
            var finder = CulpritFinder(rebuilder: rebuilder, reference: reference)
            culprits = try finder.find(variations, differing: differing)
            rebuilder = finder.rebuilder
        }
        return VerifyReport(recipe: rebuilder.recipe.file, recipeDigest: rebuilder.recipe.digest.description,
                            variations: variations.map(\.rawValue), runs: done.map(\.0), reproducible: reproducible,
                            reference: reference.treeDigest.description, against: against?.file,
                            differences: differences, culprits: culprits, notes: notes,
                            wallSeconds: Date().timeIntervalSince(started))
    }
}
