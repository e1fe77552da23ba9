import Core
import Foundation
import Store

/// `repro diff A B`: the manifests of both sides are compared first (one merge pass);
/// files whose contents differ are then compared by content where both sides have it
/// (`ContentDiff`), and by digest only where a side is just a manifest.
public enum Diff {
    /// Compares two sides.
    /// - Throws: `ReproError(.invalidInput)` when one side is a single file and the other
    ///   a tree; I/O errors reading a side's files.
    public static func compare(_ a: DiffSource, _ b: DiffSource, options: DiffOptions) throws -> DiffReport {
        if (a.kind == .file) != (b.kind == .file) {
            let (file, tree) = a.kind == .file ? (a, b) : (b, a)
            throw ReproError(.invalidInput, "\(file.input) is a single file but \(tree.input) is a \(tree.kind.rawValue); "
                             + "give two files, or two of: \(DiffSource.accepted)")
        }
        var mb = b.manifest
        if a.kind == .file, var only = mb.entries.first, let name = a.manifest.entries.first?.path {
            // Two single files: compare them under A's name whatever B is called.
            only.path = name
            mb = Manifest(entries: [only])
        }

        var notes: [String] = []
        for side in [("A", a), ("B", b)] where !side.1.hasContents {
            notes.append("\(side.0) (\(side.1.kind.rawValue) \(side.1.input)) has no file contents: "
                         + "changed files are reported by digest only")
        }
        let content = ContentDiff(options: options)
        var differences: [DiffEntry] = []
        for change in ManifestDiff.compare(a.manifest, mb) {
            var entry = DiffEntry(path: change.path, status: DiffStatus(change.kind),
                                  a: change.a.map(DiffEntryInfo.init), b: change.b.map(DiffEntryInfo.init))
            guard change.contentChanged else {
                differences.append(entry)
                continue
            }
            guard let openA = a.contentPath, let openB = b.contentPath else {
                entry.content = "digest_only"
                differences.append(entry)
                continue
            }
            let pa = try openA(change.a!), pb = try openB(change.b!)
            if let exe = options.diffoscope {
                let report = Diffoscope.run(exe, pa, pb, maxBytes: 256 << 10)
                entry.diffoscope = report.text
                if report.truncated { entry.truncated = true }
            }
            let limit = options.maxContentBytes
            guard change.a!.digest!.size <= limit, change.b!.digest!.size <= limit else {
                entry.content = "digest_only"
                entry.notes.append("larger than \(limit) bytes: compared by digest only")
                differences.append(entry)
                continue
            }
            differences += content.compare(path: change.path, try load(pa), try load(pb), depth: 0, entry: entry)
        }

        var summary: [String: Int] = [:]
        for d in differences { summary[d.status.rawValue, default: 0] += 1 }
        return DiffReport(a: a.info, b: b.info, identical: a.manifest.treeDigest == mb.treeDigest,
                          equal: differences.allSatisfy { !$0.status.differs }, tolerance: options.numericTolerance,
                          summary: summary, differences: differences, notes: notes)
    }

    /// The bytes of a file, mapped.
    static func load(_ path: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw ReproError(.invalidInput, "\(path): cannot read it: \(error.localizedDescription)")
        }
    }
}
