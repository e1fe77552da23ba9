import Core
import Foundation

/// The human form of a `DiffReport`: one line per difference, details indented below it.
public enum DiffRender {
    public static func text(_ r: DiffReport) -> String {
        var out: [String] = []
        let esc = Printable.escape
        out.append("A: \(esc(r.a.input)) (\(r.a.kind), \(r.a.treeDigest))")
        out.append("B: \(esc(r.b.input)) (\(r.b.kind), \(r.b.treeDigest))")
        for note in r.notes { out.append("note: \(esc(note))") }
        if r.identical {
            out.append("identical: same tree digest")
            return out.joined(separator: "\n") + "\n"
        }
        for d in r.differences {
            let status = label(d.status)
            out.append(status + String(repeating: " ", count: max(1, 15 - status.count)) + esc(d.path) + summary(d))
            for note in d.notes { out.append("    \(esc(note))") }
            if let sections = d.sections, !sections.isEmpty {
                for s in sections { out.append("    section \(esc(s.name)) \(s.status) (\(sectionChange(s)))") }
            }
            if let diff = d.textDiff {
                for line in diff.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                    out.append("    " + esc(String(line)))
                }
            }
            if let report = d.diffoscope {
                out.append("    diffoscope:")
                for line in report.split(separator: "\n", omittingEmptySubsequences: false) { out.append("    | " + esc(String(line))) }
            }
        }
        let counts = DiffStatus.allCases.compactMap { s in r.summary[s.rawValue].map { "\($0) \(label(s))" } }
        let total = r.differences.filter { $0.status.differs }.count
        if r.equal {
            out.append("equal within tolerance: \(counts.joined(separator: ", "))")
        } else {
            out.append("\(total) difference\(total == 1 ? "" : "s"): \(counts.joined(separator: ", "))")
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func label(_ s: DiffStatus) -> String {
        switch s {
        case .added: "added"
        case .removed: "removed"
        case .changed: "changed"
        case .modeChanged: "mode changed"
        case .typeChanged: "type changed"
        case .targetChanged: "link changed"
        case .metadataChanged: "metadata"
        case .equalWithinTolerance: "equal within tolerance"
        }
    }

    /// What follows the path on the status line.
    static func summary(_ d: DiffEntry) -> String {
        var parts: [String] = []
        switch d.status {
        case .added: if let b = d.b { parts.append(describe(b)) }
        case .removed: if let a = d.a { parts.append(describe(a)) }
        case .modeChanged: parts.append("\(d.a?.mode ?? "?") -> \(d.b?.mode ?? "?")")
        case .typeChanged: parts.append("\(d.a?.type ?? "?") -> \(d.b?.type ?? "?")")
        case .targetChanged: parts.append("\(Printable.escape(d.a?.target ?? "?")) -> \(Printable.escape(d.b?.target ?? "?"))")
        default: break
        }
        switch d.content {
        case "digest_only"?:
            parts.append("contents differ: sha256 \(short(d.a?.sha256)) -> \(short(d.b?.sha256)), digest only")
        case "binary"?:
            parts.append("binary, \(d.a?.size ?? 0) -> \(d.b?.size ?? 0) bytes, first difference at byte \(d.firstDifference ?? 0)")
        case "elf"?:
            let names = (d.sections ?? []).map(\.name)
            parts.append(names.isEmpty ? "ELF" : "ELF, sections differ: \(names.map(Printable.escape).joined(separator: ", "))")
        case let kind?:
            parts.append(kind)
        case nil:
            break
        }
        return parts.isEmpty ? "" : "  (\(parts.joined(separator: "; ")))"
    }

    static func describe(_ e: DiffEntryInfo) -> String {
        var s = "\(e.type) \(e.mode)"
        if let size = e.size { s += ", \(size) bytes" }
        if let t = e.target { s += ", -> \(Printable.escape(t))" }
        return s
    }

    /// What changed in one ELF section, in words: its size, or only its contents (a
    /// part without a size, such as the ELF header, printed "size - -> -" before).
    static func sectionChange(_ s: ELFSectionChange) -> String {
        switch (s.aSize, s.bSize) {
        case let (a?, b?) where a == b: return "same size, \(a) bytes; contents differ"
        case let (a?, b?): return "size \(a) -> \(b) bytes"
        case let (nil, b?): return "only in B, \(b) bytes"
        case let (a?, nil): return "only in A, \(a) bytes"
        case (nil, nil): return "contents differ"
        }
    }

    static func short(_ hex: String?) -> String { hex.map { String($0.prefix(12)) } ?? "-" }
}
