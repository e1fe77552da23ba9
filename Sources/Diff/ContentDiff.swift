import Core
import Foundation

/// Compares the contents of one changed file or archive member, choosing the comparer by
/// content (never by name): archives member by member (recursively), ELF objects section
/// by section, text as a bounded unified diff (or numerically, with a tolerance), and
/// anything else as bytes.
struct ContentDiff {
    let options: DiffOptions

    /// `entry` arrives with its path, status and sides set; the result is that entry,
    /// completed, followed by the differences inside it (archive members).
    func compare(path: String, _ a: Data, _ b: Data, depth: Int, entry: DiffEntry) -> [DiffEntry] {
        var entry = entry
        if depth < options.maxArchiveDepth,
           let ma = ArchiveRead.members(of: a, limit: options.maxContentBytes),
           let mb = ArchiveRead.members(of: b, limit: options.maxContentBytes) {
            entry.content = "archive"
            var notes: [String] = []
            for (side, listing) in [("A", ma), ("B", mb)] {
                if let why = listing.error {
                    notes.append("\(side): the archive is damaged after \(listing.members.count) members (\(why)); the rest is not compared")
                }
            }
            let inner = ArchiveDiff(content: self).compare(prefix: path, ma.members, mb.members, depth: depth + 1, notes: &notes)
            entry.notes += notes
            if inner.isEmpty, notes.isEmpty {
                entry.notes.append("all members and their metadata are equal; the archive bytes differ "
                                   + "elsewhere (compression level or header, padding, format details)")
            } else if notes.isEmpty, entry.status == .changed, !inner.isEmpty,
                      inner.allSatisfy({ $0.status == .equalWithinTolerance }) {
                entry.status = .equalWithinTolerance
            }
            return [entry] + inner
        }
        if let ea = ELFFile(a), let eb = ELFFile(b) {
            entry.content = "elf"
            let (sections, notes) = ELFDiff.compare(ea, eb)
            entry.sections = sections
            entry.notes += notes
            return [entry]
        }
        if let ta = TextDiff.text(a), let tb = TextDiff.text(b) {
            entry.content = "text"
            if let tolerance = options.numericTolerance, entry.status == .changed,
               let largest = NumericCompare.equalWithin(tolerance, ta, tb) {
                entry.status = .equalWithinTolerance
                entry.notes.append("numbers differ by at most \(NumericCompare.format(largest)) "
                                   + "(tolerance \(NumericCompare.format(tolerance)), the text around them is equal)")
                return [entry]
            }
            let diff = TextDiff.unified(ta, tb, labelA: "a/\(path)", labelB: "b/\(path)", maxLines: options.maxDiffLines)
            entry.textDiff = diff.text
            entry.truncated = diff.truncated
            if let why = diff.note { entry.notes.append(why) }
            return [entry]
        }
        entry.content = "binary"
        entry.firstDifference = Self.firstDifference(a, b)
        return [entry]
    }

    /// Offset of the first byte that differs (or the length of the shorter one).
    static func firstDifference(_ a: Data, _ b: Data) -> Int64 {
        a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                let n = min(pa.count, pb.count)
                var i = 0
                // Word-sized steps first, then bytes.
                while i + 8 <= n, pa.loadUnaligned(fromByteOffset: i, as: UInt64.self) == pb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                    i += 8
                }
                while i < n, pa[i] == pb[i] { i += 1 }
                return Int64(i)
            }
        }
    }
}
