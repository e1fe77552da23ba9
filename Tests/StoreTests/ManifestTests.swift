import Core
import Foundation
import TestKit
import Testing
@testable import Store

@Suite(.tags(.unit)) struct ManifestTests {
    @Test func normalisesModesLinksAndEmptyDirectories() throws {
        let tmp = try StoreTestSupport.tempDir("manifest")
        defer { StoreTestSupport.remove(tmp) }
        let root = try StoreTestSupport.sampleTree(in: tmp)
        let m = try TreeHasher.manifest(of: root)
        func entry(_ path: String) -> ManifestEntry? { m.entries.first { $0.path == path } }
        #expect(entry("a.txt")?.mode == 0o644)
        #expect(entry("a.txt")?.digest == Digest.of("hello world\n"))
        #expect(entry("bin/tool")?.mode == 0o755)
        #expect(entry("bin/odd")?.mode == 0o755)
        #expect(entry("setuid")?.mode == 0o644)
        #expect(entry("bin")?.kind == .dir)
        #expect(entry("empty")?.kind == .dir && entry("empty/nested")?.kind == .dir)
        #expect(entry("bin/link") == .symlink("bin/link", target: "../a.txt"))
        #expect(entry("dangling")?.target == "target with -> arrow\nand newline")
        #expect(entry("hardlink")?.digest == entry("a.txt")?.digest)
        #expect(entry("new\nline")?.kind == .file)
        #expect(entry("ünïcødé/日本")?.digest == Digest.of("unicode"))
        #expect(m.files == 10)
        // Sorted bytewise; the root itself is not an entry; no './'.
        let paths = m.entries.map(\.path)
        #expect(paths == paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(!paths.contains { $0.isEmpty || $0.hasPrefix("./") || $0.hasPrefix("/") })
        // Lines are single lines with the documented escapes; parsing gives it back.
        let text = m.text
        #expect(text.contains("f 0644 7 \(Digest.of("newline").hex) new\\nline\n"))
        #expect(text.contains("f 0644 7 \(Digest.of("escapes").hex) back\\\\slash -\\> arrow\n"))
        #expect(text.contains("l 0777 - - dangling -> target with -\\> arrow\\nand newline\n"))
        #expect(text.contains("d 0755 - - empty/nested\n"))
        #expect(text.split(separator: "\n").count == m.entries.count)
        #expect(try Manifest.parse(m.data) == m)
        #expect(m.treeDigest == Digest.of(m.data))
    }

    @Test func escapingRoundTrips() throws {
        for name in ["plain", "a -> b", "->->", "-->", "\\", "\\n", "x\ny", "a\\>b", "-\\>", "日本 -> 語\n"] {
            let e = Manifest.escape(name)
            #expect(!e.contains("\n") && !e.contains("->"))
            #expect(try Manifest.unescape(Substring(e)) == name)
        }
    }

    @Test func emptyDirectoryHashesTheEmptyManifest() throws {
        let tmp = try StoreTestSupport.tempDir("empty")
        defer { StoreTestSupport.remove(tmp) }
        #expect(try TreeHasher.manifest(of: tmp).treeDigest == Digest.of(Data()))
    }

    @Test func digestIgnoresLocationTimesAndOwnersButNotContent() throws {
        let tmp = try StoreTestSupport.tempDir("invariance")
        defer { StoreTestSupport.remove(tmp) }
        let a = try StoreTestSupport.sampleTree(in: tmp + "/one")
        let b = try StoreTestSupport.sampleTree(in: tmp + "/two/deeper")
        let digest = try TreeHasher.manifest(of: a).treeDigest
        #expect(try TreeHasher.manifest(of: b).treeDigest == digest)
        // Times and owners.
        try StoreTestSupport.sh(["touch", "-h", "-d", "2001-02-03 04:05:06", b + "/a.txt", b + "/bin", b + "/bin/link"])
        if getuid() == 0 { try StoreTestSupport.sh(["chown", "-h", "-R", "1234:5678", b]) }
        chmod(b + "/a.txt", 0o600)  // still no x bit: 0644
        #expect(try TreeHasher.manifest(of: b).treeDigest == digest)
        // Content, mode class, link target and names do count.
        try StoreTestSupport.write(b + "/a.txt", "hello world!\n")
        #expect(try TreeHasher.manifest(of: b).treeDigest != digest)
        let c = try StoreTestSupport.sampleTree(in: tmp + "/three")
        chmod(c + "/a.txt", 0o744)
        #expect(try TreeHasher.manifest(of: c).treeDigest != digest)
    }

    @Test func treeDigestEqualsTheDocumentedCoreutilsRecipe() throws {
        let tmp = try StoreTestSupport.tempDir("coreutils")
        defer { StoreTestSupport.remove(tmp) }
        let root = try StoreTestSupport.sampleTree(in: tmp)
        // The recipe is taken from docs/store.md, between its markers.
        let doc = try String(contentsOfFile: StoreTestSupport.sourceRoot + "/docs/store.md", encoding: .utf8)
        let begin = try #require(doc.range(of: "<!-- begin tree-digest recipe -->"))
        let end = try #require(doc.range(of: "<!-- end tree-digest recipe -->"))
        let script = doc[begin.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("```") }.joined(separator: "\n")
        try Data(script.utf8).write(to: URL(fileURLWithPath: tmp + "/tree-digest.sh"))
        let r = try StoreTestSupport.sh(["bash", tmp + "/tree-digest.sh", root])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.trimmingCharacters(in: .newlines) == (try TreeHasher.manifest(of: root).treeDigest.description))
    }

    @Test func rejectsWhatOutputsCannotCarry() throws {
        let tmp = try StoreTestSupport.tempDir("reject")
        defer { StoreTestSupport.remove(tmp) }
        try StoreTestSupport.write(tmp + "/d/ok", "ok")
        #expect(mkfifo(tmp + "/d/fifo", 0o644) == 0)
        let e = #expect(throws: ReproError.self) { try TreeHasher.manifest(of: tmp) }
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("d/fifo") == true)
        unlink(tmp + "/d/fifo")
        // A socket.
        let r = try StoreTestSupport.sh(["python3", "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", tmp + "/d/sock"])
        if r.status == 0 {
            #expect(throws: ReproError.self) { try TreeHasher.manifest(of: tmp) }
        }
        #expect(throws: ReproError.self) { try TreeHasher.manifest(of: tmp + "/missing") }
        #expect(throws: ReproError.self) { try TreeHasher.manifest(of: tmp + "/d/ok") }
    }

    @Test func moreDirectoriesThanKeptOpenStillHashRight() throws {
        let tmp = try StoreTestSupport.tempDir("dirs")
        defer { StoreTestSupport.remove(tmp) }
        for i in 0..<300 { try StoreTestSupport.write("\(tmp)/d\(i)/sub/f", "file \(i)", mode: i % 2 == 0 ? 0o755 : 0o644) }
        let m = try TreeHasher.manifest(of: tmp)
        #expect(m.files == 300)
        for e in m.entries where e.kind == .file {
            #expect(e.digest == (try Digest.ofFile(tmp + "/" + e.path)))
            let i = Int(e.path.dropFirst().prefix { $0 != "/" })!
            #expect(e.mode == (i % 2 == 0 ? 0o755 : 0o644))
        }
    }

    @Test func fastHasherMatchesCoreDigest() throws {
        let sha = SHA256Stream()
        for size in [0, 1, 55, 56, 64, 1000, 300_000] {
            let data = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            data.withUnsafeBytes { sha.update($0) }
            #expect(sha.finish() == Digest.of(data))  // finish() resets for the next input
        }
    }

    @Test func hashingInParallelMatchesOneThread() throws {
        let tmp = try StoreTestSupport.tempDir("parallel")
        defer { StoreTestSupport.remove(tmp) }
        for i in 0..<300 { try StoreTestSupport.write("\(tmp)/d\(i % 7)/f\(i)", String(repeating: "x", count: i * 37)) }
        let one = try TreeHasher.manifest(of: tmp, workers: 1)
        let many = try TreeHasher.manifest(of: tmp, workers: 8)
        #expect(one == many)
        #expect(one.files == 300)
    }

    /// The walk visits entries in manifest order and the hashing threads write the lines
    /// as they go; the text must be exactly what sorting and writing the entries gives,
    /// with names where directory order and C order differ ("a", "a.txt", "a/b"), links
    /// and directories between batches of files, and a directory of several batches.
    @Test func walkOrderAndWrittenTextMatchASortedManifest() throws {
        let tmp = try StoreTestSupport.tempDir("order")
        defer { StoreTestSupport.remove(tmp) }
        for name in ["a/b/e", "a.txt", "a0", "a b", "ab", "a/b.c/d", "a/b-c", "a/b0", "x-/y", "x/y", "x.y", "Z", "_"] {
            try StoreTestSupport.write(tmp + "/" + name, name)
        }
        #expect(symlink("a.txt", tmp + "/a-") == 0)
        #expect(symlink("b", tmp + "/a/b.d") == 0)
        for i in 0..<200 { try StoreTestSupport.write("\(tmp)/many/f\(i)", "\(i)", mode: i % 3 == 0 ? 0o755 : 0o644) }
        for i in [7, 70, 150] {
            #expect(mkdir("\(tmp)/many/f\(i).d", 0o755) == 0)
            #expect(symlink("f\(i)", "\(tmp)/many/f\(i)-l") == 0)
        }
        for workers in [1, 2, 8] {
            let m = try TreeHasher.manifest(of: tmp, workers: workers)
            let sorted = m.entries.map(\.path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            #expect(m.entries.map(\.path) == sorted)
            #expect(m.textWasWritten, "the walk did not meet entries in manifest order")
            let rebuilt = Manifest(entries: m.entries.shuffled())
            #expect(rebuilt == m)
            #expect(rebuilt.data == m.data)
            #expect(rebuilt.treeDigest == m.treeDigest)
            #expect(m.files == 213 && m.entries.count == 213 + 9 + 5)
        }
    }

    @Test func textGivenWithUnsortedEntriesIsNotTrusted() throws {
        let a = ManifestEntry.file("b", executable: false, digest: Digest.of("b"))
        let b = ManifestEntry.dir("a")
        let m = Manifest(entries: [a, b], text: Data("not the text\n".utf8))
        #expect(m.entries.map(\.path) == ["a", "b"] && !m.textWasWritten)
        #expect(m.text == "d 0755 - - a\nf 0644 1 \(Digest.of("b").hex) b\n")
    }

    /// A file that fails while it is hashed stops every thread with that error, whoever
    /// else is still walking or hashing.
    @Test func aFailureWhileHashingStopsTheAssembly() throws {
        let tmp = try StoreTestSupport.tempDir("fail")
        defer { StoreTestSupport.remove(tmp) }
        for i in 0..<500 { try StoreTestSupport.write("\(tmp)/d\(i % 5)/f\(i)", "\(i)") }
        for workers in [1, 3] {
            let e = #expect(throws: ReproError.self) {
                try TreeHasher.manifest(of: tmp, workers: workers) { file, scratch in
                    if file.name == "f250" { throw ReproError(.system, "cannot read \(file.path)") }
                    return try TreeHasher.hashFile(file, scratch)
                }
            }
            #expect(e?.message.hasSuffix("d0/f250") == true, "\(String(describing: e))")
        }
    }
}
