import Core
import Store

/// One difference between two manifests, at one path.
public struct ManifestChange: Hashable, Sendable, Encodable {
    public enum Kind: String, Hashable, Sendable, Encodable, CaseIterable {
        /// Only in B.
        case added
        /// Only in A.
        case removed
        /// Both regular files with the same mode, different contents.
        case changed
        /// Same type; only the normalised mode differs (a file's contents may also differ:
        /// then `contentChanged` is true).
        case modeChanged
        /// A file in one, a directory or link in the other (or any other pair of types).
        case typeChanged
        /// Both symbolic links, different targets.
        case targetChanged
    }

    public var path: String
    public var kind: Kind
    /// The entry in A (nil when added).
    public var a: ManifestEntry?
    /// The entry in B (nil when removed).
    public var b: ManifestEntry?

    public init(path: String, kind: Kind, a: ManifestEntry?, b: ManifestEntry?) {
        self.path = path
        self.kind = kind
        self.a = a
        self.b = b
    }

    /// True when both sides are regular files whose digests differ (also for `modeChanged`).
    public var contentChanged: Bool {
        guard let a, let b, a.kind == .file, b.kind == .file else { return false }
        return a.digest != b.digest
    }
}

/// Compares two manifests entry by entry (both are sorted bytewise by path, so this is
/// one merge pass). Paths present in both with equal entries are not reported.
public enum ManifestDiff {
    public static func compare(_ a: Manifest, _ b: Manifest) -> [ManifestChange] {
        var out: [ManifestChange] = []
        let ea = a.entries, eb = b.entries
        var i = 0, j = 0
        while i < ea.count || j < eb.count {
            if j == eb.count || (i < ea.count && Manifest.bytewiseLess(ea[i].path, eb[j].path)) {
                out.append(ManifestChange(path: ea[i].path, kind: .removed, a: ea[i], b: nil))
                i += 1
            } else if i == ea.count || ea[i].path != eb[j].path {
                out.append(ManifestChange(path: eb[j].path, kind: .added, a: nil, b: eb[j]))
                j += 1
            } else {
                if let kind = difference(ea[i], eb[j]) {
                    out.append(ManifestChange(path: ea[i].path, kind: kind, a: ea[i], b: eb[j]))
                }
                i += 1
                j += 1
            }
        }
        return out
    }

    /// How two entries at the same path differ, or nil when they are equal.
    public static func difference(_ x: ManifestEntry, _ y: ManifestEntry) -> ManifestChange.Kind? {
        if x.kind != y.kind { return .typeChanged }
        if x.mode != y.mode { return .modeChanged }
        switch x.kind {
        case .file: return x.digest == y.digest ? nil : .changed
        case .symlink: return x.target == y.target ? nil : .targetChanged
        case .dir: return nil
        }
    }
}
