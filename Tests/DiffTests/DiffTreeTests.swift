import Core
import Foundation
import Store
import TestKit
import Testing
@testable import Diff

/// `repro diff` on trees: directories, manifests, store digests and bundles.
@Suite(.tags(.unit)) struct DiffTreeTests {
    /// Two trees with one of each kind of change, and some equal entries.
    static func twoTrees(in tmp: String) throws -> (String, String) {
        let a = tmp + "/a", b = tmp + "/b"
        for root in [a, b] {
            try DiffSupport.write(root + "/same.txt", "equal\n")
            try DiffSupport.write(root + "/lib/keep", "kept\n")
        }
        try DiffSupport.write(a + "/gone.txt", "only in a\n")
        try DiffSupport.write(b + "/new.txt", "only in b\n")
        try DiffSupport.write(a + "/run.sh", "echo\n", mode: 0o644)
        try DiffSupport.write(b + "/run.sh", "echo\n", mode: 0o755)
        symlink("lib/keep", a + "/link")
        symlink("same.txt", b + "/link")
        try FileManager.default.createDirectory(atPath: a + "/thing", withIntermediateDirectories: true)
        try DiffSupport.write(b + "/thing", "now a file\n")
        try DiffSupport.write(a + "/text", "one\ntwo\nthree\n")
        try DiffSupport.write(b + "/text", "one\n2\nthree\n")
        return (a, b)
    }

    @Test func directoriesReportEachKindOfChange() throws {
        let tmp = try TestKit.tempDir("diff-dirs")
        defer { DiffSupport.remove(tmp) }
        let (a, b) = try Self.twoTrees(in: tmp)
        let r = try DiffSupport.diff(a, b)
        #expect(!r.identical && !r.equal)
        #expect(r.paths == ["gone.txt", "link", "new.txt", "run.sh", "text", "thing"])
        #expect(r.entry("gone.txt")?.status == .removed)
        #expect(r.entry("new.txt")?.status == .added)
        #expect(r.entry("new.txt")?.b?.size == 10)
        #expect(r.entry("run.sh")?.status == .modeChanged)
        #expect(r.entry("run.sh")?.a?.mode == "0644" && r.entry("run.sh")?.b?.mode == "0755")
        #expect(r.entry("run.sh")?.content == nil)  // same contents: nothing to diff
        #expect(r.entry("link")?.status == .targetChanged)
        #expect(r.entry("link")?.a?.target == "lib/keep" && r.entry("link")?.b?.target == "same.txt")
        #expect(r.entry("thing")?.status == .typeChanged)
        #expect(r.entry("thing")?.a?.type == "dir" && r.entry("thing")?.b?.type == "file")
        let text = try #require(r.entry("text"))
        #expect(text.status == .changed && text.content == "text")
        #expect(text.textDiff == "--- a/text\n+++ b/text\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n")
        #expect(r.summary == ["added": 1, "removed": 1, "mode_changed": 1, "target_changed": 1,
                              "type_changed": 1, "changed": 1])
        #expect(r.notes.isEmpty)

        let same = try DiffSupport.diff(a, a)
        #expect(same.identical && same.equal && same.differences.isEmpty)
    }

    @Test func manifestAgainstDirectoryGivesDigestsOnly() throws {
        let tmp = try TestKit.tempDir("diff-manifest")
        defer { DiffSupport.remove(tmp) }
        let (a, b) = try Self.twoTrees(in: tmp)
        try TreeHasher.manifest(of: a).data.write(to: URL(fileURLWithPath: tmp + "/a.manifest"))
        let r = try DiffSupport.diff(tmp + "/a.manifest", b)
        #expect(r.a.kind == "manifest" && !r.a.contents)
        #expect(r.b.kind == "directory" && r.b.contents)
        #expect(r.a.treeDigest == (try TreeHasher.manifest(of: a)).treeDigest.description)
        #expect(r.paths == ["gone.txt", "link", "new.txt", "run.sh", "text", "thing"])
        let text = try #require(r.entry("text"))
        #expect(text.content == "digest_only" && text.textDiff == nil)
        #expect(text.a?.sha256 == Digest.of("one\ntwo\nthree\n").hex)
        #expect(r.notes.count == 1 && r.notes[0].contains("A (manifest") && r.notes[0].contains("digest only"))
        // The same manifest against its own directory: identical.
        #expect(try DiffSupport.diff(tmp + "/a.manifest", a).identical)
    }

    @Test func storeDigestsHaveContents() throws {
        let tmp = try TestKit.tempDir("diff-store")
        defer { DiffSupport.remove(tmp) }
        let (a, b) = try Self.twoTrees(in: tmp)
        let store = try Store(root: tmp + "/store")
        let (ta, _) = try store.putTree(a)
        let (tb, _) = try store.putTree(b)
        let r = try DiffSupport.diff(ta.description, tb.description, store: tmp + "/store")
        #expect(r.a.kind == "store" && r.a.contents && r.a.treeDigest == ta.description)
        #expect(r.entry("text")?.textDiff?.contains("-two\n+2\n") == true)
        #expect(r.paths.count == 6)
        // Store against directory: the same tree.
        #expect(try DiffSupport.diff(ta.description, a, store: tmp + "/store").identical)
    }

    @Test func cliExitCodesAndJSONShape() throws {
        let tmp = try TestKit.tempDir("diff-cli")
        defer { DiffSupport.remove(tmp) }
        let (a, b) = try Self.twoTrees(in: tmp)

        let same = try DiffSupport.cli([a, a])
        #expect(same.status == 0)
        #expect(same.out.contains("identical"))

        let differ = try DiffSupport.cli([a, b])
        #expect(differ.status == 3)
        #expect(differ.out.contains("removed        gone.txt"))
        #expect(differ.out.contains("link changed   link  (lib/keep -> same.txt)"))
        #expect(differ.out.contains("6 differences"))

        let j = try DiffSupport.cli([a, b, "--json"])
        #expect(j.status == 3)
        let o = try DiffSupport.json(j)
        #expect(Set(o.keys) == ["format", "a", "b", "identical", "equal", "summary", "differences", "notes"])
        #expect(o["format"] as? String == "repro-diff-1")
        #expect(o["identical"] as? Bool == false && o["equal"] as? Bool == false)
        let sideA = try #require(o["a"] as? [String: Any])
        #expect(Set(sideA.keys) == ["input", "kind", "tree_digest", "contents"])
        let diffs = try #require(o["differences"] as? [[String: Any]])
        #expect(diffs.map { $0["path"] as? String } == ["gone.txt", "link", "new.txt", "run.sh", "text", "thing"])
        let text = try #require(diffs.first { $0["path"] as? String == "text" })
        #expect(text["status"] as? String == "changed" && text["content"] as? String == "text")
        #expect((text["text_diff"] as? String)?.hasPrefix("--- a/text\n+++ b/text\n@@") == true)
        #expect((text["a"] as? [String: Any])?["sha256"] as? String == Digest.of("one\ntwo\nthree\n").hex)
        #expect((o["summary"] as? [String: Int])?["mode_changed"] == 1)
    }

    @Test func badInputExitsTwoAndSaysWhichSide() throws {
        let tmp = try TestKit.tempDir("diff-bad")
        defer { DiffSupport.remove(tmp) }
        let (a, _) = try Self.twoTrees(in: tmp)
        let badManifest = "d 0755 - - dir\nf 0644 3 nothex x\n"
        try DiffSupport.write(tmp + "/bad.manifest", badManifest)
        try DiffSupport.write(tmp + "/plain", "a plain file\n")
        let cases: [([String], [String])] = [
            ([a, tmp + "/missing"], ["B: ", "missing", "no such file or directory"]),
            ([tmp + "/bad.manifest", a], ["A: ", "bad.manifest", "bad manifest", "line 2: ", "nothex", "repro hash DIR --manifest"]),
            (["sha256:" + String(repeating: "0", count: 64), a, "--store", tmp + "/nostore"], ["A: ", "no store at", "--store"]),
            ([tmp + "/plain", a], ["is a single file", "directory"]),
            ([a, a, "--numeric-tolerance", "-1"], ["--numeric-tolerance"]),
        ]
        for (args, needles) in cases {
            let r = try DiffSupport.cli(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.out.isEmpty)
            for n in needles { #expect(r.stderr.contains(n), "\(args): \(r.stderr)") }
        }
        // A digest that is not in an existing store.
        let store = try Store(root: tmp + "/store")
        _ = try store.putTree(a)
        let r = try DiffSupport.cli(["sha256:" + String(repeating: "1", count: 64), a, "--store", tmp + "/store"])
        #expect(r.status == 2 && r.stderr.contains("is not in the store"))
        // The inputs are left as they were.
        #expect(FileManager.default.contents(atPath: tmp + "/bad.manifest") == Data(badManifest.utf8))
    }

    @Test func manifestDiffKinds() throws {
        let d1 = Digest.of("1"), d2 = Digest.of("2")
        let a = Manifest(entries: [.file("f", executable: false, digest: d1), .file("m", executable: false, digest: d1),
                                   .file("mc", executable: false, digest: d1), .symlink("l", target: "x"),
                                   .dir("t"), .file("z-removed", executable: false, digest: d1), .dir("same")])
        let b = Manifest(entries: [.file("f", executable: false, digest: d2), .file("m", executable: true, digest: d1),
                                   .file("mc", executable: true, digest: d2), .symlink("l", target: "y"),
                                   .symlink("t", target: "x"), .file("a-added", executable: false, digest: d1), .dir("same")])
        let changes = ManifestDiff.compare(a, b)
        #expect(changes.map(\.path) == ["a-added", "f", "l", "m", "mc", "t", "z-removed"])
        #expect(changes.map(\.kind) == [.added, .changed, .targetChanged, .modeChanged, .modeChanged, .typeChanged, .removed])
        #expect(changes.map(\.contentChanged) == [false, true, false, false, true, false, false])
        #expect(changes[0].a == nil && changes[0].b?.digest == d1)
        #expect(ManifestDiff.compare(a, a).isEmpty)
    }

    @Test func twoPlainFilesAreComparedWithEachOther() throws {
        let tmp = try TestKit.tempDir("diff-files")
        defer { DiffSupport.remove(tmp) }
        try DiffSupport.write(tmp + "/x.bin", "\u{0}\u{1}\u{2}abc")
        try DiffSupport.write(tmp + "/y.bin", "\u{0}\u{1}\u{2}abd")
        let r = try DiffSupport.diff(tmp + "/x.bin", tmp + "/y.bin")
        #expect(r.a.kind == "file" && r.paths == ["x.bin"])
        #expect(r.entry("x.bin")?.content == "binary" && r.entry("x.bin")?.firstDifference == 5)
    }
}
