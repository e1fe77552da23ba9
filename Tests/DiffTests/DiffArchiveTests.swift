import Foundation
import TestKit
import Testing
@testable import Diff

/// Archives compared member by member with libarchive, recursively, recognised by content.
/// The archives are made with Debian's own tools (dpkg-deb, tar, gzip, zip).
@Suite(.tags(.unit)) struct DiffArchiveTests {
    /// A .deb whose /usr/bin/hello prints `greeting`.
    static func deb(_ out: String, greeting: String, work: String) throws {
        let root = work + "/pkgroot-\(UUID().uuidString.prefix(6))"
        try DiffSupport.write(root + "/DEBIAN/control", """
            Package: hello-repro
            Version: 1.0
            Architecture: all
            Maintainer: repro tests <tests@example.invalid>
            Description: a test package

            """)
        try DiffSupport.write(root + "/usr/bin/hello", "#!/bin/sh\necho \(greeting)\n", mode: 0o755)
        try DiffSupport.write(root + "/usr/share/doc/hello-repro/README", "same in both\n")
        try DiffSupport.clampTimes(root)
        try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try DiffSupport.tool(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, out],
                             env: ["SOURCE_DATE_EPOCH": "1700000000"])
    }

    @Test func debDataTarXzDiffedDownToTheMember() throws {
        let tmp = try TestKit.tempDir("diff-deb")
        defer { DiffSupport.remove(tmp) }
        try Self.deb(tmp + "/a/pkg.deb", greeting: "hello", work: tmp)
        try Self.deb(tmp + "/b/pkg.deb", greeting: "HELLO", work: tmp)
        let r = try DiffSupport.diff(tmp + "/a", tmp + "/b")
        #expect(r.paths == ["pkg.deb", "pkg.deb!data.tar.xz", "pkg.deb!data.tar.xz!./usr/bin/hello"])
        #expect(r.entry("pkg.deb")?.content == "archive")
        #expect(r.entry("pkg.deb!data.tar.xz")?.content == "archive")
        #expect(r.entry("pkg.deb!data.tar.xz")?.status == .changed)
        let member = try #require(r.entry("pkg.deb!data.tar.xz!./usr/bin/hello"))
        #expect(member.status == .changed && member.content == "text")
        #expect(member.textDiff?.contains("-echo hello\n+echo HELLO\n") == true)
        #expect(member.a?.mode == "0755" && member.a?.uid == 0 && member.a?.type == "file")
        #expect(r.summary == ["changed": 3])

        // The CLI prints the member path and exits 3.
        let cli = try DiffSupport.cli([tmp + "/a", tmp + "/b"])
        #expect(cli.status == 3)
        #expect(cli.out.contains("changed        pkg.deb!data.tar.xz!./usr/bin/hello  (text)"))
    }

    @Test func threeLevelsAndToleranceInsideArchives() throws {
        let tmp = try TestKit.tempDir("diff-nested")
        defer { DiffSupport.remove(tmp) }
        for (side, value) in [("a", "0.30000000000000004"), ("b", "0.3")] {
            let inner = tmp + "/inner-\(side)"
            try DiffSupport.write(inner + "/results.csv", "x,y\n1,\(value)\n")
            try DiffSupport.clampTimes(inner)
            let outer = tmp + "/outer-\(side)"
            try FileManager.default.createDirectory(atPath: outer, withIntermediateDirectories: true)
            try DiffSupport.tool(["tar", "--owner=0", "--group=0", "--numeric-owner", "-czf", outer + "/results.tgz", "results.csv"], cwd: inner)
            try DiffSupport.clampTimes(outer)
            try FileManager.default.createDirectory(atPath: tmp + "/\(side)", withIntermediateDirectories: true)
            try DiffSupport.tool(["tar", "--owner=0", "--group=0", "--numeric-owner", "-cJf", tmp + "/\(side)/bundle.tar.xz", "results.tgz"], cwd: outer)
        }
        let strict = try DiffSupport.diff(tmp + "/a", tmp + "/b")
        #expect(strict.paths == ["bundle.tar.xz", "bundle.tar.xz!results.tgz", "bundle.tar.xz!results.tgz!results.csv"])
        #expect(strict.entry("bundle.tar.xz!results.tgz!results.csv")?.textDiff?.contains("+1,0.3\n") == true)
        // Within the tolerance at the bottom: every level up is equal within it too, exit 0.
        let loose = try DiffSupport.diff(tmp + "/a", tmp + "/b", options: DiffOptions(numericTolerance: 1e-12))
        #expect(loose.differences.map(\.status) == [.equalWithinTolerance, .equalWithinTolerance, .equalWithinTolerance])
        #expect(loose.equal)
        #expect(try DiffSupport.cli([tmp + "/a", tmp + "/b", "--numeric-tolerance", "1e-12"]).status == 0)
    }

    @Test func archivesAreRecognisedByContentNotName() throws {
        let tmp = try TestKit.tempDir("diff-byname")
        defer { DiffSupport.remove(tmp) }
        // A .deb and a zip under names that say nothing, compared as two plain files.
        try Self.deb(tmp + "/x/blob1", greeting: "one", work: tmp)
        try Self.deb(tmp + "/x/blob2", greeting: "two", work: tmp)
        let r = try DiffSupport.diff(tmp + "/x/blob1", tmp + "/x/blob2")
        #expect(r.paths == ["blob1", "blob1!data.tar.xz", "blob1!data.tar.xz!./usr/bin/hello"])

        for (side, text) in [("a", "class A v1\n"), ("b", "class A v2\n")] {
            let src = tmp + "/jar-\(side)"
            try DiffSupport.write(src + "/META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
            try DiffSupport.write(src + "/com/example/A.txt", text)
            try DiffSupport.clampTimes(src)
            try DiffSupport.tool(["zip", "-q", "-X", "-r", tmp + "/\(side).jar", "META-INF", "com"], cwd: src)
            try FileManager.default.createDirectory(atPath: tmp + "/tree-\(side)", withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: tmp + "/\(side).jar", toPath: tmp + "/tree-\(side)/app.data")
        }
        let z = try DiffSupport.diff(tmp + "/tree-a", tmp + "/tree-b")
        #expect(z.paths == ["app.data", "app.data!com/example/A.txt"])
        #expect(z.entry("app.data")?.content == "archive")
        #expect(z.entry("app.data!com/example/A.txt")?.textDiff?.contains("-class A v1\n+class A v2\n") == true)
    }

    @Test func tarMetadataOrderAndCompressionAreNamed() throws {
        let tmp = try TestKit.tempDir("diff-tar")
        defer { DiffSupport.remove(tmp) }
        let src = tmp + "/src"
        try DiffSupport.write(src + "/one", "1\n")
        try DiffSupport.write(src + "/two", "2\n")
        try DiffSupport.clampTimes(src)
        let common = ["tar", "--owner=0", "--group=0", "--numeric-owner", "--format=gnu"]
        try FileManager.default.createDirectory(atPath: tmp + "/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: tmp + "/b", withIntermediateDirectories: true)
        // Member order: one,two vs two,one.
        try DiffSupport.tool(common + ["-cf", tmp + "/a/order.tar", "one", "two"], cwd: src)
        try DiffSupport.tool(common + ["-cf", tmp + "/b/order.tar", "two", "one"], cwd: src)
        // A time: two's mtime moves in B.
        try DiffSupport.tool(common + ["--sort=name", "-cf", tmp + "/a/time.tar", "one", "two"], cwd: src)
        try DiffSupport.tool(["touch", "-d", "@1700000099", src + "/two"])
        try DiffSupport.tool(common + ["--sort=name", "-cf", tmp + "/b/time.tar", "one", "two"], cwd: src)
        // A compressed single file, with and without the name and time in its gzip header.
        try DiffSupport.write(tmp + "/a/page.1", "same text\n")
        try DiffSupport.write(tmp + "/b/page.1", "same text\n")
        try DiffSupport.clampTimes(tmp + "/a")
        try DiffSupport.clampTimes(tmp + "/b", epoch: 1_700_000_500)
        try DiffSupport.tool(["gzip", "-n", tmp + "/a/page.1"])
        try DiffSupport.tool(["gzip", "-N", tmp + "/b/page.1"])

        let r = try DiffSupport.diff(tmp + "/a", tmp + "/b")
        #expect(r.paths == ["order.tar", "page.1.gz", "time.tar", "time.tar!two"])
        #expect(r.entry("order.tar")?.notes.contains { $0.contains("member order differs") } == true)
        let page = try #require(r.entry("page.1.gz"))
        #expect(page.content == "archive")
        #expect(page.notes.contains { $0.contains("all members and their metadata are equal") })
        let two = try #require(r.entry("time.tar!two"))
        #expect(two.status == .metadataChanged)
        #expect(two.notes == ["mtime 1700000000 -> 1700000099"])

        // A compressed file whose content changed is diffed as its decompressed text.
        try DiffSupport.write(tmp + "/c/page.1", "other text\n")
        try DiffSupport.tool(["gzip", "-n", tmp + "/c/page.1"])
        let g = try DiffSupport.diff(tmp + "/a/page.1.gz", tmp + "/c/page.1.gz")
        #expect(g.paths == ["page.1.gz", "page.1.gz!(decompressed)"])
        #expect(g.entry("page.1.gz!(decompressed)")?.textDiff?.contains("-same text\n+other text\n") == true)
    }

    @Test func arStaticLibraryMembersAreObjects() throws {
        let tmp = try TestKit.tempDir("diff-ar")
        defer { DiffSupport.remove(tmp) }
        for (side, value) in [("a", 1), ("b", 2)] {
            let dir = tmp + "/\(side)"
            try DiffSupport.write(dir + "/src/k.c", "int k(void) { return \(value); }\n")
            try DiffSupport.write(dir + "/src/same.c", "int same(void) { return 7; }\n")
            try DiffSupport.tool(["gcc", "-c", "-O1", "k.c", "same.c"], cwd: dir + "/src")
            try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
            try DiffSupport.tool(["ar", "rcsD", dir + "/out/libk.a", "k.o", "same.o"], cwd: dir + "/src")
        }
        let r = try DiffSupport.diff(tmp + "/a/out", tmp + "/b/out")
        #expect(r.paths == ["libk.a", "libk.a!k.o"])
        let k = try #require(r.entry("libk.a!k.o"))
        #expect(k.content == "elf")
        #expect(k.sections?.map(\.name) == [".text"])
    }
}
