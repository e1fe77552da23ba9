import Core
import Foundation
import Store
import TestKit
import Testing
@testable import Diff

/// Bundles as diff sides, and `--diffoscope`.
@Suite(.tags(.sandbox)) struct DiffBundleTests {
    /// A bundle of `tree` (format repro-bundle-1) written with tar, with the tree under
    /// `outputs/` when `outputs` is true.
    static func bundle(of tree: String, to path: String, work: String, treeDigest: String? = nil, outputs: Bool = false) throws {
        let m = try TreeHasher.manifest(of: tree)
        let dir = work + "/bundle-\(UUID().uuidString.prefix(6))"
        let digest = treeDigest ?? m.treeDigest.description
        let zero = "sha256:" + String(repeating: "0", count: 64)
        try DiffSupport.write(dir + "/bundle.json", """
            {"action_digest":"\(zero)","bytes":\(m.bytes),"files":\(m.files),"format":"repro-bundle-1",\
            "log_digest":"\(zero)","outputs":\(outputs),"policy":"1","recipe":"r.toml","recipe_digest":"\(zero)",\
            "repro_version":"0.1.0","toolchain":"host","tree_digest":"\(digest)"}
            """)
        try m.data.write(to: URL(fileURLWithPath: dir + "/manifest"))
        try DiffSupport.write(dir + "/recipe/r.toml", "name = \"r\"\n")
        try DiffSupport.write(dir + "/recipe/r.lock", "version = 1\n")
        if outputs { try DiffSupport.tool(["cp", "-a", tree, dir + "/outputs"]) }
        try DiffSupport.tool(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                              "-czf", path, "bundle.json", "manifest", "recipe"] + (outputs ? ["outputs"] : []), cwd: dir)
    }

    @Test func bundlesCompareByManifest() throws {
        let tmp = try TestKit.tempDir("diff-bundle")
        defer { DiffSupport.remove(tmp) }
        let (a, b) = try DiffTreeTests.twoTrees(in: tmp)
        try Self.bundle(of: a, to: tmp + "/a.tgz", work: tmp)
        try Self.bundle(of: b, to: tmp + "/b.tgz", work: tmp)
        let r = try DiffSupport.diff(tmp + "/a.tgz", tmp + "/b.tgz")
        #expect(r.a.kind == "bundle" && r.b.kind == "bundle")
        #expect(r.a.treeDigest == (try TreeHasher.manifest(of: a)).treeDigest.description)
        #expect(r.paths == ["gone.txt", "link", "new.txt", "run.sh", "text", "thing"])
        #expect(r.entry("text")?.content == "digest_only")
        #expect(r.notes.count == 2)

        #expect(try DiffSupport.cli([tmp + "/a.tgz", a]).status == 0)
        #expect(try DiffSupport.cli([tmp + "/a.tgz", tmp + "/b.tgz"]).status == 3)
    }

    @Test func bundlesWithOutputsHaveContents() throws {
        let tmp = try TestKit.tempDir("diff-bundle-out")
        defer { DiffSupport.remove(tmp) }
        let (a, b) = try DiffTreeTests.twoTrees(in: tmp)
        try Self.bundle(of: a, to: tmp + "/a.tgz", work: tmp, outputs: true)
        try Self.bundle(of: b, to: tmp + "/b.tgz", work: tmp, outputs: true)
        let r = try DiffSupport.diff(tmp + "/a.tgz", tmp + "/b.tgz")
        #expect(r.a.contents && r.b.contents && r.notes.isEmpty)
        #expect(r.entry("text")?.textDiff?.contains("-two\n+2\n") == true)
        // Against the directory it was made from: identical; against the other host's: the files.
        #expect(try DiffSupport.diff(tmp + "/a.tgz", a).identical)
        let cli = try DiffSupport.cli([tmp + "/a.tgz", b, "--json"])
        #expect(cli.status == 3)
        #expect((try DiffSupport.json(cli)["a"] as? [String: Any])?["kind"] as? String == "bundle")
    }

    @Test func damagedBundlesAreRefused() throws {
        let tmp = try TestKit.tempDir("diff-bundle-bad")
        defer { DiffSupport.remove(tmp) }
        let (a, _) = try DiffTreeTests.twoTrees(in: tmp)
        // A manifest that does not hash to tree_digest: verification failed, exit 4.
        try Self.bundle(of: a, to: tmp + "/altered.tgz", work: tmp, treeDigest: "sha256:" + String(repeating: "a", count: 64))
        let altered = try DiffSupport.cli([tmp + "/altered.tgz", a])
        #expect(altered.status == 4)
        #expect(altered.stderr.contains("A: ") && altered.stderr.contains("tree_digest"))
        // Cut short: unreadable, exit 2, naming the file.
        try Self.bundle(of: a, to: tmp + "/good.tgz", work: tmp)
        try DiffSupport.tool(["sh", "-c", "gzip -dc good.tgz | head -c 1500 > cut.tar"], cwd: tmp)
        let cut = try DiffSupport.cli([a, tmp + "/cut.tar"])
        #expect(cut.status == 2)
        #expect(cut.stderr.contains("B: ") && cut.stderr.contains("cut.tar"))
    }

    @Test func diffoscopeReportsOrSaysHowToInstallIt() throws {
        let tmp = try TestKit.tempDir("diff-diffoscope")
        defer { DiffSupport.remove(tmp) }
        let (a, b) = try DiffTreeTests.twoTrees(in: tmp)
        let r = try DiffSupport.cli([a, b, "--diffoscope", "--json"])
        if (try? Diffoscope.locate()) != nil {
            #expect(r.status == 3)
            let diffs = try DiffSupport.json(r)["differences"] as? [[String: Any]] ?? []
            let text = diffs.first { $0["path"] as? String == "text" }?["diffoscope"] as? String
            #expect(text?.contains("-two") == true && text?.contains("+2") == true)
        }
        // Without diffoscope on PATH: exit 2 and the package to install.
        let none = try DiffSupport.cli([a, b, "--diffoscope"], env: ["PATH": tmp])
        #expect(none.status == 2)
        #expect(none.stderr.contains("apt-get install diffoscope"))
    }
}
