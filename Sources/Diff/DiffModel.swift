import Core
import Store

/// What `repro diff` reports (docs/reproducibility.md, "Reading a diff"). Encoded as JSON
/// with `--json`; the keys and values here are the documented schema `repro-diff-1`.
public struct DiffReport: Sendable, Encodable {
    public static let format = "repro-diff-1"

    public var format = DiffReport.format
    public var a: DiffSideInfo
    public var b: DiffSideInfo
    /// The tree digests are equal: the two sides hold the same bits.
    public var identical: Bool
    /// No difference other than `equal_within_tolerance` ones (exit 0 when true).
    public var equal: Bool
    /// `--numeric-tolerance`, when given.
    public var tolerance: Double?
    /// Count of differences per status (top-level paths and archive members alike).
    public var summary: [String: Int]
    /// Differences in path order; archive members follow their archive.
    public var differences: [DiffEntry]
    /// Remarks about the whole comparison (a side without file contents, ...).
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case format, a, b, identical, equal, tolerance, summary, differences, notes
    }
}

/// One side of a diff: what was given and what was found.
public struct DiffSideInfo: Sendable, Encodable {
    /// The argument as given.
    public var input: String
    /// `directory`, `manifest`, `store`, `bundle` or `file`.
    public var kind: String
    /// The tree digest (sha256 of the canonical manifest); for `file`, the file's digest.
    public var treeDigest: String
    /// Whether file contents are available (false for manifests, bundles without outputs).
    public var contents: Bool

    enum CodingKeys: String, CodingKey {
        case input, kind, contents
        case treeDigest = "tree_digest"
    }
}

/// How a path or archive member differs.
public enum DiffStatus: String, Sendable, Encodable, CaseIterable {
    case added, removed, changed
    case modeChanged = "mode_changed"
    case typeChanged = "type_changed"
    case targetChanged = "target_changed"
    /// Archive members only: same type, mode, content and target; owner or time differ.
    case metadataChanged = "metadata_changed"
    /// Text, CSV or JSON whose numbers differ only within `--numeric-tolerance`.
    case equalWithinTolerance = "equal_within_tolerance"

    /// Counts as a difference for the exit status.
    public var differs: Bool { self != .equalWithinTolerance }

    init(_ kind: ManifestChange.Kind) {
        switch kind {
        case .added: self = .added
        case .removed: self = .removed
        case .changed: self = .changed
        case .modeChanged: self = .modeChanged
        case .typeChanged: self = .typeChanged
        case .targetChanged: self = .targetChanged
        }
    }
}

/// An entry (tree path or archive member) as one side has it.
public struct DiffEntryInfo: Sendable, Encodable, Equatable {
    /// `file`, `dir`, `symlink`, `hardlink` or `other`.
    public var type: String
    /// Four octal digits; normalised for trees (0644/0755/0777), as stored for members.
    public var mode: String
    public var size: Int64?
    /// Lowercase hex of the content (files only).
    public var sha256: String?
    /// Link target (symlinks and hard links).
    public var target: String?
    /// Archive members: modification time (Unix seconds), owner ids and names.
    public var mtime: Int64?
    public var uid: Int64?
    public var gid: Int64?
    public var uname: String?
    public var gname: String?

    public init(type: String, mode: String, size: Int64? = nil, sha256: String? = nil, target: String? = nil,
                mtime: Int64? = nil, uid: Int64? = nil, gid: Int64? = nil, uname: String? = nil, gname: String? = nil) {
        self.type = type
        self.mode = mode
        self.size = size
        self.sha256 = sha256
        self.target = target
        self.mtime = mtime
        self.uid = uid
        self.gid = gid
        self.uname = uname
        self.gname = gname
    }

    init(_ e: ManifestEntry) {
        self.init(type: e.kind.rawValue, mode: e.modeText, size: e.digest?.size, sha256: e.digest?.hex, target: e.target)
    }

    static func modeText(_ mode: UInt32) -> String {
        let s = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}

/// One ELF section as compared.
public struct ELFSectionChange: Sendable, Encodable, Equatable {
    public var name: String
    /// `changed`, `added` or `removed`.
    public var status: String
    public var aSize: Int64?
    public var bSize: Int64?

    enum CodingKeys: String, CodingKey {
        case name, status
        case aSize = "a_size"
        case bSize = "b_size"
    }
}

/// One reported difference.
public struct DiffEntry: Sendable, Encodable {
    /// Tree path; archive members as `archive!member` (nested: `a.deb!data.tar.xz!./usr/bin/x`).
    public var path: String
    public var status: DiffStatus
    public var a: DiffEntryInfo?
    public var b: DiffEntryInfo?
    /// How the contents were compared: `text`, `elf`, `archive`, `binary`, `digest_only`.
    public var content: String?
    /// Text: a unified diff (`---`/`+++`/`@@` hunks), bounded.
    public var textDiff: String?
    /// The text diff or diffoscope output was cut at the bound.
    public var truncated: Bool?
    /// ELF: the sections whose contents differ, or that only one side has.
    public var sections: [ELFSectionChange]?
    /// Binary: offset of the first differing byte.
    public var firstDifference: Int64?
    /// `--diffoscope`: its output for this file.
    public var diffoscope: String?
    /// Anything else worth saying (metadata changes, archive order, no contents, ...).
    public var notes: [String]

    public init(path: String, status: DiffStatus, a: DiffEntryInfo?, b: DiffEntryInfo?) {
        self.path = path
        self.status = status
        self.a = a
        self.b = b
        self.notes = []
    }

    enum CodingKeys: String, CodingKey {
        case path, status, a, b, content, truncated, sections, diffoscope, notes
        case textDiff = "text_diff"
        case firstDifference = "first_difference"
    }
}

/// Options of one comparison.
public struct DiffOptions: Sendable {
    /// Numbers within this (docs: |a-b| <= t * max(1, |a|, |b|)) count as equal.
    public var numericTolerance: Double?
    /// Lines of unified diff kept per file.
    public var maxDiffLines = 200
    /// Archives inside archives are opened down to this depth.
    public var maxArchiveDepth = 8
    /// Members and files larger than this are compared by digest only.
    public var maxContentBytes: Int64 = 512 << 20
    /// Run diffoscope on changed top-level files (the path of the executable).
    public var diffoscope: String?

    public init(numericTolerance: Double? = nil) {
        self.numericTolerance = numericTolerance
    }
}
