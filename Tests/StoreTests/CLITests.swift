import Core
import TestKit
import Foundation
import TestKit
import Testing
@testable import Store

/// Runs the built `repro` binary.
@Suite(.serialized, .tags(.sandbox)) struct CLITests {
    let repro = StoreTestSupport.repro

    @Test func hashPrintsTheTreeDigestManifestAndJSON() throws {
        let tmp = try StoreTestSupport.tempDir("cli-hash")
        defer { StoreTestSupport.remove(tmp) }
        let root = try StoreTestSupport.sampleTree(in: tmp)
        let m = try TreeHasher.manifest(of: root)
        let plain = try StoreTestSupport.sh([repro, "hash", root])
        #expect(plain.status == 0)
        #expect(plain.out == m.treeDigest.description + "\n")
        let manifest = try StoreTestSupport.sh([repro, "hash", "--manifest", root])
        #expect(manifest.out == m.text)
        let json = try StoreTestSupport.sh([repro, "hash", "--json", root])
        let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect(object?["tree_digest"] as? String == m.treeDigest.description)
        #expect(object?["files"] as? Int == m.files)
        #expect((object?["bytes"] as? NSNumber)?.int64Value == m.bytes)
        #expect(object?["entries"] == nil)
        let full = try StoreTestSupport.sh([repro, "hash", "--json", "--manifest", root])
        let entries = (try JSONSerialization.jsonObject(with: Data(full.out.utf8)) as? [String: Any])?["entries"] as? [[String: Any]]
        #expect(entries?.count == m.entries.count)
        #expect(entries?.first { $0["path"] as? String == "bin/tool" }?["mode"] as? String == "0755")
    }

    @Test func hashBadInputExitsTwo() throws {
        let tmp = try StoreTestSupport.tempDir("cli-bad")
        defer { StoreTestSupport.remove(tmp) }
        try StoreTestSupport.write(tmp + "/file", "x")
        mkfifo(tmp + "/fifo", 0o644)
        for (args, needle) in [([tmp + "/missing"], "missing"), ([tmp + "/file"], "not a directory"), ([tmp], "fifo")] {
            let r = try StoreTestSupport.sh([repro, "hash"] + args)
            #expect(r.status == 2)
            #expect(r.err.hasPrefix("repro: error: "))
            #expect(r.err.contains(needle))
            #expect(r.out.isEmpty)
        }
    }

    @Test func storeCommandsVerifyGCExportImportPath() throws {
        let tmp = try StoreTestSupport.tempDir("cli-store")
        defer { StoreTestSupport.remove(tmp) }
        let a = try Store(root: tmp + "/a")
        let (tree, _) = try a.putTree(try StoreTestSupport.sampleTree(in: tmp))
        try a.put(data: Data("loose".utf8))
        let verify = try StoreTestSupport.sh([repro, "store", "verify", "--json", "--store", tmp + "/a"])
        #expect(verify.status == 0)
        #expect(verify.out.contains("\"corrupt\":[]"))
        #expect(verify.err.isEmpty)  // no progress when stderr is not a terminal
        let gc = try StoreTestSupport.sh([repro, "store", "gc", "--json", "--store", tmp + "/a"])
        #expect(gc.status == 0 && gc.out.contains("\"removed\":1"))
        let export = try StoreTestSupport.sh([repro, "store", "export", tmp + "/t.tar", "--tree", tree.description, "--store", tmp + "/a", "--json"])
        #expect(export.status == 0 && export.out.contains("\"trees\":1"))
        // REPRO_HOME selects the store when --store is absent.
        var env = ProcessInfo.processInfo.environment
        env["REPRO_HOME"] = tmp + "/b"
        let imported = try StoreTestSupport.sh([repro, "store", "import", tmp + "/t.tar"], environment: env)
        #expect(imported.status == 0, "\(imported.err)")
        let path = try StoreTestSupport.sh([repro, "store", "path"], environment: env)
        #expect(path.out == tmp + "/b\n")
        let blob = try StoreTestSupport.sh([repro, "store", "path", tree.description, "--store", tmp + "/b"])
        #expect(blob.out == "\(tmp)/b/cas/sha256/\(tree.hex.prefix(2))/\(tree.hex)\n")
        #expect(try Store(root: tmp + "/b").manifest(tree: tree) == a.manifest(tree: tree))
        // Corruption: exit 4.
        let victim = try Store(root: tmp + "/b").blobPath(tree.hex)
        chmod(victim, 0o644)
        try Data("broken".utf8).write(to: URL(fileURLWithPath: victim))
        let bad = try StoreTestSupport.sh([repro, "store", "verify", "--store", tmp + "/b"])
        #expect(bad.status == 4)
        #expect(bad.out.contains("corrupt \(tree)"))
        #expect(bad.err.contains("repro: error:"))
        // Bad input: exit 2.
        #expect(try StoreTestSupport.sh([repro, "store", "import", tmp + "/nope.tar", "--store", tmp + "/b"]).status == 2)
        #expect(try StoreTestSupport.sh([repro, "store", "export", tmp + "/x.tar", "--tree", "sha256:zz", "--store", tmp + "/b"]).status == 2)
    }

    @Test func concurrentProcessesImportingLeaveAConsistentStore() throws {
        let tmp = try StoreTestSupport.tempDir("cli-concurrent")
        defer { StoreTestSupport.remove(tmp) }
        let a = try Store(root: tmp + "/a")
        for i in 0..<3 {
            try StoreTestSupport.write("\(tmp)/t\(i)/shared", "shared")
            for j in 0..<50 { try StoreTestSupport.write("\(tmp)/t\(i)/f\(j)", "tree \(i) file \(j)") }
            try a.putTree("\(tmp)/t\(i)")
        }
        try a.export(to: tmp + "/all.tar")
        let target = tmp + "/shared-store"
        let processes = try (0..<4).map { _ in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: repro)
            p.arguments = ["store", "import", tmp + "/all.tar", "--store", target]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in processes {
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        let b = try Store(root: target)
        #expect(try b.verify().ok)
        #expect(try b.trees().map(\.tree) == a.trees().map(\.tree))
        #expect(try b.blobFiles() == a.blobFiles())
    }
}

/// Issue 13, finding 12: a file the kernel will not read is bad input naming it (exit
/// 2), not an internal error (`repro hash /proc/self` exited 70).
@Suite(.tags(.sandbox)) struct HashUnreadableTests {
    @Test func unreadablePseudoFileIsBadInput() throws {
        let r = try TestKit.run([TestKit.repro, "hash", "/proc/self/attr"])
        #expect(r.status == 2, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("cannot read /proc/self/attr/"), "\(r.stderr)")
    }
}
