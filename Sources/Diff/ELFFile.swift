import Core
import Foundation

/// The parts of an ELF object `repro diff` compares, parsed from the file header and the
/// section header table (ELF32 and ELF64, either byte order; no external tools).
struct ELFFile {
    struct Section {
        var name: String
        var type: UInt32
        var flags: UInt64
        var size: UInt64
        /// Digest of the section's bytes; nil for SHT_NOBITS (.bss) and out-of-file ranges.
        var digest: Digest?
    }

    var is64: Bool
    var bigEndian: Bool
    var machine: UInt16
    var sections: [Section]
    /// Digests of the file header and of the program header table (empty table: nil).
    var headerDigest: Digest
    var programHeadersDigest: Digest?

    static let SHT_NOBITS: UInt32 = 8

    /// Parses `data`; nil when it is not ELF or its headers are damaged.
    init?(_ data: Data) {
        guard data.count >= 52, data.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]) else { return nil }
        let cls = data[data.startIndex + 4], order = data[data.startIndex + 5]
        guard cls == 1 || cls == 2, order == 1 || order == 2 else { return nil }
        is64 = cls == 2
        bigEndian = order == 2
        let r = Reader(data: data, bigEndian: bigEndian)
        guard !is64 || data.count >= 64 else { return nil }
        guard let machine = r.u16(18) else { return nil }
        self.machine = machine

        let phoff = is64 ? r.u64(32) : r.u32(28).map(UInt64.init)
        let shoff = is64 ? r.u64(40) : r.u32(32).map(UInt64.init)
        let base = is64 ? 52 : 40
        guard let phoff, let shoff, let ehsize = r.u16(base), let phentsize = r.u16(base + 2),
              let phnum = r.u16(base + 4), let shentsize = r.u16(base + 6),
              var shnum = r.u16(base + 8).map(UInt64.init),
              var shstrndx = r.u16(base + 10).map(UInt64.init) else { return nil }

        headerDigest = Digest.of(r.slice(0, UInt64(ehsize)) ?? Data())
        let phSize = UInt64(phentsize) * UInt64(phnum)
        programHeadersDigest = phSize == 0 ? nil : r.slice(phoff, phSize).map { Digest.of($0) }

        sections = []
        guard shoff != 0 else { return }
        let entsize = UInt64(shentsize)
        guard entsize >= (is64 ? 64 : 40) else { return nil }
        // Section 0 holds the real count and string table index when they overflow 16 bits.
        func header(_ i: UInt64) -> (name: UInt32, type: UInt32, flags: UInt64, offset: UInt64, size: UInt64, link: UInt32)? {
            let at = shoff + i * entsize
            guard at + entsize <= UInt64(data.count), let o = Int(exactly: at) else { return nil }
            if is64 {
                guard let n = r.u32(o), let t = r.u32(o + 4), let f = r.u64(o + 8), let off = r.u64(o + 24),
                      let s = r.u64(o + 32), let l = r.u32(o + 40) else { return nil }
                return (n, t, f, off, s, l)
            }
            guard let n = r.u32(o), let t = r.u32(o + 4), let f = r.u32(o + 8), let off = r.u32(o + 16),
                  let s = r.u32(o + 20), let l = r.u32(o + 24) else { return nil }
            return (n, t, UInt64(f), UInt64(off), UInt64(s), l)
        }
        guard let zero = header(0) else { return nil }
        if shnum == 0 { shnum = zero.size }
        if shstrndx == 0xffff { shstrndx = UInt64(zero.link) }
        guard shnum < 1 << 20 else { return nil }
        var raw: [(name: UInt32, type: UInt32, flags: UInt64, offset: UInt64, size: UInt64, link: UInt32)] = []
        for i in 0..<shnum {
            guard let h = header(i) else { return nil }
            raw.append(h)
        }
        let strtab = shstrndx < shnum ? r.slice(raw[Int(shstrndx)].offset, raw[Int(shstrndx)].size) : nil
        for (i, h) in raw.enumerated() where i > 0 {
            let name = strtab.flatMap { Reader.cString($0, at: Int(h.name)) } ?? "[\(i)]"
            let bytes = h.type == ELFFile.SHT_NOBITS ? nil : r.slice(h.offset, h.size)
            sections.append(Section(name: name, type: h.type, flags: h.flags, size: h.size, digest: bytes.map { Digest.of($0) }))
        }
    }

    /// Bounds-checked little/big-endian reads.
    struct Reader {
        let data: Data
        let bigEndian: Bool

        func bytes(_ at: Int, _ n: Int) -> [UInt8]? {
            guard at >= 0, at + n <= data.count else { return nil }
            let s = data.startIndex + at
            let b = Array(data[s..<(s + n)])
            return bigEndian ? b : b.reversed()
        }

        private func value(_ at: Int, _ n: Int) -> UInt64? {
            bytes(at, n).map { $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        }

        func u16(_ at: Int) -> UInt16? { value(at, 2).map { UInt16($0) } }
        func u32(_ at: Int) -> UInt32? { value(at, 4).map { UInt32($0) } }
        func u64(_ at: Int) -> UInt64? { value(at, 8) }

        func slice(_ offset: UInt64, _ size: UInt64) -> Data? {
            guard offset <= UInt64(data.count), size <= UInt64(data.count) - offset else { return nil }
            let s = data.startIndex + Int(offset)
            return data[s..<(s + Int(size))]
        }

        static func cString(_ table: Data, at offset: Int) -> String? {
            guard offset >= 0, offset < table.count else { return nil }
            let s = table.startIndex + offset
            let end = table[s...].firstIndex(of: 0) ?? table.endIndex
            return String(decoding: table[s..<end], as: UTF8.self)
        }
    }
}

/// Which sections of two ELF objects differ.
enum ELFDiff {
    /// Sections are matched by name (the n-th of a repeated name with the n-th). A
    /// section differs when its contents (by SHA-256), size, type or flags do.
    static func compare(_ a: ELFFile, _ b: ELFFile) -> (sections: [ELFSectionChange], notes: [String]) {
        var notes: [String] = []
        if a.is64 != b.is64 || a.bigEndian != b.bigEndian || a.machine != b.machine {
            notes.append("different ELF class, byte order or machine: \(describe(a)) vs \(describe(b))")
        }
        var changes: [ELFSectionChange] = []
        if a.headerDigest != b.headerDigest {
            changes.append(ELFSectionChange(name: "(ELF header)", status: "changed", aSize: nil, bSize: nil))
        }
        if a.programHeadersDigest != b.programHeadersDigest {
            changes.append(ELFSectionChange(name: "(program headers)", status: "changed", aSize: nil, bSize: nil))
        }
        let ka = keyed(a.sections), kb = keyed(b.sections)
        let byB = Dictionary(uniqueKeysWithValues: kb.map { ($0.key, $0.section) })
        let byA = Dictionary(uniqueKeysWithValues: ka.map { ($0.key, $0.section) })
        for (key, x) in ka {
            guard let y = byB[key] else {
                changes.append(ELFSectionChange(name: key, status: "removed", aSize: Int64(x.size), bSize: nil))
                continue
            }
            if x.digest != y.digest || x.size != y.size || x.type != y.type || x.flags != y.flags {
                changes.append(ELFSectionChange(name: key, status: "changed", aSize: Int64(x.size), bSize: Int64(y.size)))
            }
        }
        for (key, y) in kb where byA[key] == nil {
            changes.append(ELFSectionChange(name: key, status: "added", aSize: nil, bSize: Int64(y.size)))
        }
        if changes.isEmpty {
            notes.append("every section and the headers are equal; the bytes differ outside them "
                         + "(padding or the section header table)")
        }
        return (changes, notes)
    }

    private static func describe(_ f: ELFFile) -> String {
        "ELF\(f.is64 ? 64 : 32) \(f.bigEndian ? "big" : "little")-endian machine \(f.machine)"
    }

    private static func keyed(_ sections: [ELFFile.Section]) -> [(key: String, section: ELFFile.Section)] {
        var seen: [String: Int] = [:]
        return sections.map { s in
            let n = (seen[s.name] ?? 0) + 1
            seen[s.name] = n
            return (n == 1 ? s.name : "\(s.name)#\(n)", s)
        }
    }
}
