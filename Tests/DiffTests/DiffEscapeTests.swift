import Foundation
import TestKit
import Testing
@testable import Core
@testable import Diff

/// Issue 13, finding 10: `repro diff` could be spoofed by file names. A name with a
/// newline printed a fake report line; human output escapes control characters now,
/// `--json` keeps names exact.
@Suite(.tags(.unit)) struct DiffEscapeTests {
    @Test func namesCannotFakeReportLines() throws {
        let root = try TestKit.tempDir("diff-escape")
        defer { DiffSupport.remove(root) }
        let evil = "a\nidentical: same tree digest\u{1b}[2J"
        try DiffSupport.write(root + "/A/same", "x\n")
        try DiffSupport.write(root + "/B/same", "x\n")
        try DiffSupport.write(root + "/B/" + evil, "y\n")
        let r = try DiffSupport.cli([root + "/A", root + "/B"])
        #expect(r.status == 3, "\(r.stderr)")
        let lines = r.out.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("identical") }, "\(r.out)")
        #expect(!r.out.contains("\u{1b}"), "\(r.out)")
        #expect(r.out.contains(#"a\nidentical: same tree digest\x1b[2J"#), "\(r.out)")
        let j = try DiffSupport.cli([root + "/A", root + "/B", "--json"])
        let paths = (try DiffSupport.json(j)["differences"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(paths == [evil], "\(paths)")
    }

    @Test func escapeCoversControlsAndIsUnambiguous() {
        #expect(Printable.escape("plain name-1.0.tar.gz") == "plain name-1.0.tar.gz")
        #expect(Printable.escape("a\tb\r\u{7f}\u{85}") == #"a\tb\r\x7f\x85"#)
        #expect(Printable.escape("back\\slash\n") == #"back\\slash\n"#)
        #expect(Printable.escape("rtl\u{202e}txt.exe") == #"rtl\u{202e}txt.exe"#)
        #expect(Printable.escape("é ü 日本") == "é ü 日本")
    }

    @Test func sectionLinesSayWhatChanged() {
        let same = ELFSectionChange(name: "(ELF header)", status: "changed", aSize: nil, bSize: nil)
        #expect(DiffRender.sectionChange(same) == "contents differ")
        #expect(DiffRender.sectionChange(ELFSectionChange(name: ".text", status: "changed", aSize: 10, bSize: 10)) == "same size, 10 bytes; contents differ")
        #expect(DiffRender.sectionChange(ELFSectionChange(name: ".text", status: "changed", aSize: 10, bSize: 12)) == "size 10 -> 12 bytes")
        #expect(DiffRender.sectionChange(ELFSectionChange(name: ".new", status: "added", aSize: nil, bSize: 4)) == "only in B, 4 bytes")
    }
}
