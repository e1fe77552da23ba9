import Core
import Foundation

/// Member-by-member comparison of two archives. Members are matched by name (the n-th
/// duplicate of a name with the n-th); each pair is compared like a tree entry (type,
/// mode, link target, content), then by owner and time. Changed contents go back to
/// `ContentDiff`, so an archive inside an archive is opened in turn.
struct ArchiveDiff {
    let content: ContentDiff

    /// Differences between the members of `a` and `b`, named `prefix!member`. Notes
    /// about the archives as a whole (member order) go to `notes`.
    func compare(prefix: String, _ a: [ArchiveMember], _ b: [ArchiveMember], depth: Int,
                 notes: inout [String]) -> [DiffEntry] {
        let ka = keyed(a), kb = keyed(b)
        let byA = Dictionary(uniqueKeysWithValues: ka.map { ($0.key, $0.member) })
        let byB = Dictionary(uniqueKeysWithValues: kb.map { ($0.key, $0.member) })

        let commonA = ka.map(\.key).filter { byB[$0] != nil }
        let commonB = kb.map(\.key).filter { byA[$0] != nil }
        if commonA != commonB {
            notes.append("member order differs (sort members by name when writing the archive)")
        }

        var out: [DiffEntry] = []
        let keys = Set(byA.keys).union(byB.keys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for key in keys {
            let path = prefix + "!" + key
            switch (byA[key], byB[key]) {
            case let (x?, nil):
                out.append(DiffEntry(path: path, status: .removed, a: x.info, b: nil))
            case let (nil, y?):
                out.append(DiffEntry(path: path, status: .added, a: nil, b: y.info))
            case let (x?, y?):
                out += pair(path: path, x, y, depth: depth)
            case (nil, nil):
                break
            }
        }
        return out
    }

    private func pair(path: String, _ x: ArchiveMember, _ y: ArchiveMember, depth: Int) -> [DiffEntry] {
        var entry = DiffEntry(path: path, status: .changed, a: x.info, b: y.info)
        let meta = metadataNotes(x, y)
        if x.type != y.type {
            entry.status = .typeChanged
            return [entry]
        }
        let contentDiffers = x.type == "file" && x.digest != y.digest
        if x.perm != y.perm {
            entry.status = .modeChanged
        } else if x.target != y.target {
            entry.status = .targetChanged
        } else if !contentDiffers {
            guard !meta.isEmpty else { return [] }
            entry.status = .metadataChanged
            entry.notes = meta
            return [entry]
        }
        entry.notes = meta
        guard contentDiffers else { return [entry] }
        guard let da = x.data, let db = y.data else {
            entry.content = "digest_only"
            entry.notes.append("larger than \(content.options.maxContentBytes) bytes: compared by digest only")
            return [entry]
        }
        return content.compare(path: path, da, db, depth: depth, entry: entry)
    }

    /// Owner and time differences, as "mtime 1700000000 -> 0".
    private func metadataNotes(_ x: ArchiveMember, _ y: ArchiveMember) -> [String] {
        var notes: [String] = []
        func note<T: Equatable>(_ name: String, _ a: T?, _ b: T?) {
            if a != b { notes.append("\(name) \(a.map { "\($0)" } ?? "unset") -> \(b.map { "\($0)" } ?? "unset")") }
        }
        note("mtime", x.mtime, y.mtime)
        note("uid", x.uid, y.uid)
        note("gid", x.gid, y.gid)
        note("uname", x.uname, y.uname)
        note("gname", x.gname, y.gname)
        return notes
    }

    /// Keys names so duplicates stay distinct: `name`, then `name#2`, `name#3`, ...
    private func keyed(_ members: [ArchiveMember]) -> [(key: String, member: ArchiveMember)] {
        var seen: [String: Int] = [:]
        return members.map { m in
            let n = (seen[m.name] ?? 0) + 1
            seen[m.name] = n
            return (n == 1 ? m.name : "\(m.name)#\(n)", m)
        }
    }
}
