import Core
import Diff
import Foundation
import Store

/// What `repro verify --find-culprit` found.
public struct CulpritReport: Encodable, Sendable {
    /// A variation (or, for `together`, a group that changes files only in combination)
    /// and the files it changes.
    public struct Culprit: Encodable, Sendable, Hashable {
        public var variations: [String]
        public var files: [String]
        /// True when no single variation of the group changes these files on its own.
        public var together: Bool
    }

    public var culprits: [Culprit]
    /// Files that differ between two builds with no variation at all (randomness,
    /// timestamps below a day, races): no variation is to blame.
    public var nondeterministic: [String]
    /// File -> the variations that change it.
    public var files: [String: [String]]
    /// Builds done for the search (the two of `verify` not counted).
    public var builds: Int
}

/// Culprits in the order of `Variation.allCases`.
private func order(_ c: CulpritReport.Culprit) -> [Int] {
    c.variations.map { Variation(rawValue: $0).flatMap { Variation.allCases.firstIndex(of: $0) } ?? Int.max }
}

/// Finds which variations change which files: a second build without variations
/// separates plain nondeterminism, then group testing (adaptive bisection) over the
/// variations: a group whose build matches the reference is cleared in one build, a
/// group that changes files is split in halves until single variations remain. Files
/// that change only when the halves are combined are reported for the smallest part of
/// the group that still changes them (one variation dropped at a time).
public struct CulpritFinder {
    public var rebuilder: Rebuilder
    public let reference: Manifest

    public init(rebuilder: Rebuilder, reference: Manifest) {
        self.rebuilder = rebuilder
        self.reference = reference
    }

    /// - Parameters:
    ///   - variations: the variations of the verify run.
    ///   - differing: the files that differed with all of them applied (varied run 1).
    public mutating func find(_ variations: [Variation], differing: Set<String>) throws -> CulpritReport {
        let start = rebuilder.builds
        var culprits: [CulpritReport.Culprit] = []
        let again = try rebuilder.build([], variant: 0, label: 0, keep: false)
        let nondeterministic = Set(ManifestDiff.compare(reference, again.manifest).map(\.path))
        var nondet = nondeterministic
        let targets = differing.subtracting(nondet)

        // When the fully varied build failed, which files it would change is unknown:
        // every file a group changes is a candidate then.
        let open = differing.contains(Rebuilder.buildFails)
        let fails: Set<String> = [Rebuilder.buildFails]

        // D(S): the files group S changes, restricted to those the whole set changed; a
        // file outside that set that a subgroup changes is flaky, not caused. A group
        // whose build fails "changes" the pseudo-file (the build fails) and, as far as
        // anyone can tell, everything else.
        func test(_ group: [Variation]) throws -> (changed: Set<String>, failed: Bool) {
            guard let m = try rebuilder.buildOrFailure(group, variant: 1, label: 0, keep: false).manifest else {
                return (fails.union(targets), true)
            }
            let changed = Set(ManifestDiff.compare(reference, m).map(\.path)).subtracting(nondet)
            if open { return (changed, false) }
            nondet.formUnion(changed.subtracting(targets))
            return (changed.intersection(targets), false)
        }
        func search(_ group: [Variation], _ changed: Set<String>, failed: Bool) throws {
            guard !changed.isEmpty, !group.isEmpty else { return }
            if group.count == 1 {
                let files = failed ? [Rebuilder.buildFails] : changed.sorted(by: Manifest.bytewiseLess)
                culprits.append(.init(variations: [group[0].rawValue], files: files, together: false))
                return
            }
            let half = group.count / 2
            let a = Array(group[..<half]), b = Array(group[half...])
            let ta = try test(a)
            try search(a, ta.changed, failed: ta.failed)
            let tb = try test(b)
            try search(b, tb.changed, failed: tb.failed)
            if failed || ta.failed || tb.failed {
                if failed && !ta.failed && !tb.failed {
                    culprits.append(.init(variations: group.map(\.rawValue), files: [Rebuilder.buildFails], together: true))
                }
                return
            }
            let rest = changed.subtracting(ta.changed).subtracting(tb.changed)
            if !rest.isEmpty {
                // The smallest group that still changes them: drop one variation at a
                // time and keep the drop when the files still change.
                var minimal = group
                for v in group where minimal.count > 2 {
                    let trial = minimal.filter { $0 != v }
                    let t = try test(trial)
                    if !t.failed && rest.isSubset(of: t.changed) { minimal = trial }
                }
                culprits.append(.init(variations: minimal.map(\.rawValue), files: rest.sorted(by: Manifest.bytewiseLess), together: true))
            }
        }
        try search(variations, open ? fails : targets, failed: open)
        try blameTimeInNondeterministic(variations, differing: differing, nondeterministic: nondeterministic,
                                        again: again.manifest, culprits: &culprits)

        var files: [String: [String]] = [:]
        for c in culprits { for f in c.files { files[f, default: []] += c.variations } }
        return CulpritReport(culprits: culprits.sorted { order($0).lexicographicallyPrecedes(order($1)) },
                             nondeterministic: nondet.intersection(differing.union(nondeterministic)).sorted(by: Manifest.bytewiseLess),
                             files: files, builds: rebuilder.builds - start)
    }

    /// A file that differs between two unvaried builds is nondeterministic, and group
    /// testing cannot blame a variation for it (every build changes it). It may depend
    /// on the clock as well (a date next to a random number): one build with only the
    /// `time` variation, compared line by line with the two unvaried builds, shows it.
    /// Lines equal in both unvaried builds but different with the clock moved are the
    /// clock's; then the file is named under `time` too (and stays nondeterministic).
    /// Text files of the same line count only, up to 4 MiB.
    mutating func blameTimeInNondeterministic(_ variations: [Variation], differing: Set<String>, nondeterministic: Set<String>,
                                              again: Manifest, culprits: inout [CulpritReport.Culprit]) throws {
        let candidates = nondeterministic.intersection(differing).sorted(by: Manifest.bytewiseLess)
        guard variations.contains(.time), !candidates.isEmpty else { return }
        guard let timed = try rebuilder.buildOrFailure([.time], variant: 1, label: 0, keep: false).manifest else { return }
        let store = rebuilder.builder.store
        func lines(_ m: Manifest, _ path: String) -> [Substring]? {
            guard let d = m.entries.first(where: { $0.path == path && $0.kind == .file })?.digest, d.size <= 4 << 20,
                  let data = FileManager.default.contents(atPath: store.blobPath(d.hex)),
                  let text = String(data: data, encoding: .utf8) else { return nil }
            return text.split(separator: "\n", omittingEmptySubsequences: false)
        }
        var clocked: [String] = []
        for path in candidates {
            guard let r = lines(reference, path), let a = lines(again, path), let t = lines(timed, path),
                  r.count == a.count, r.count == t.count else { continue }
            if r.indices.contains(where: { r[$0] == a[$0] && t[$0] != r[$0] }) { clocked.append(path) }
        }
        guard !clocked.isEmpty else { return }
        if let i = culprits.firstIndex(where: { $0.variations == [Variation.time.rawValue] }) {
            culprits[i].files = Array(Set(culprits[i].files).union(clocked)).sorted(by: Manifest.bytewiseLess)
        } else {
            culprits.append(.init(variations: [Variation.time.rawValue], files: clocked, together: false))
        }
    }
}
