import Foundation
import TestKit
import Testing

/// Bundles carry a build between hosts; `repro verify --against` rebuilds from one.
/// Two hosts are two stores at different paths.
@Suite(.serialized, .tags(.sandbox)) struct BundleTests {
    typealias S = VerifySupport

    @Test func twoHostsAgreeAndTheirBundlesDiffAsIdentical() throws {
        let work = try TestKit.tempDir("bundle-hosts")
        defer { try? FileManager.default.removeItem(atPath: work) }
        // Two hosts: two REPRO_HOME directories at different paths.
        let a = work + "/host-a/home", b = work + "/elsewhere/much/deeper/host-b-home"
        let recipe = try S.tiny(in: work + "/checkout", store: a)
        #expect(try S.repro(["key", "generate", "--out", work + "/keys-a"]).status == 0)
        #expect(try S.repro(["key", "generate", "--out", work + "/keys-other"]).status == 0)

        // Host A builds (signing with its key) and exports.
        let built = try S.repro(["build", recipe, "--json"], home: a, extra: ["REPRO_SIGNING_KEY": work + "/keys-a/signing.pem"])
        #expect(built.status == 0, "\(built.err)")
        let digest = built.json["tree_digest"] as? String
        let export = try S.repro(["bundle", "export", recipe, "-o", work + "/a.tar", "--json"], home: a)
        #expect(export.status == 0, "\(export.err)")
        #expect(export.json["tree_digest"] as? String == digest)
        #expect(export.json["format"] as? String == "repro-bundle-1")

        // Host B rebuilds from the bundle alone, as another uid, at another path.
        let check = try S.repro(["verify", "--against", work + "/a.tar", "--variations", "user,build-path,hostname", "--json"], home: b)
        #expect(check.status == 0, "\(check.err)\(check.out)")
        #expect(check.json["reproducible"] as? Bool == true)
        #expect(check.json["reference"] as? String == digest)
        let run = (check.json["runs"] as? [[String: Any]])?.first
        #expect(run?["tree_digest"] as? String == digest)
        #expect((run?["variations"] as? [String])?.contains("user") == true)

        // With A's public key, B first checks the bundle's signed provenance; another
        // key fails before anything is built.
        let signed = try S.repro(["verify", "--against", work + "/a.tar", "--key", work + "/keys-a/signing.pub.pem"], home: b)
        #expect(signed.status == 0, "\(signed.err)")
        #expect(signed.out.contains("provenance: signed by key"))
        let wrong = try S.repro(["verify", "--against", work + "/a.tar", "--key", work + "/keys-other/signing.pub.pem"], home: b)
        #expect(wrong.status == 4)
        #expect(wrong.err.contains("signature"))

        // Host B's own build and bundle: `repro diff` finds nothing.
        let other = try S.repro(["build", recipe, "--json"], home: b)
        #expect(other.json["tree_digest"] as? String == digest)
        #expect(try S.repro(["bundle", "export", recipe, "-o", work + "/b.tgz"], home: b).status == 0)
        #expect(FileManager.default.fileExists(atPath: b + "/tmp"))
        let diff = try S.repro(["diff", work + "/a.tar", work + "/b.tgz"])
        #expect(diff.status == 0, "\(diff.out)\(diff.err)")
    }

    @Test func aOneByteChangeInASourceIsNamed() throws {
        let work = try TestKit.tempDir("bundle-byte")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let store = work + "/store"
        let one = try S.tiny(in: work + "/one", store: store, data: "payload\n")
        let two = try S.tiny(in: work + "/two", store: store, data: "paYload\n")
        let d1 = try S.repro(["build", one, "--store", store, "--json"]).json["tree_digest"] as? String
        let d2 = try S.repro(["build", two, "--store", store, "--json"]).json["tree_digest"] as? String
        #expect(d1 != nil && d2 != nil && d1 != d2)
        #expect(try S.repro(["bundle", "export", one, "-o", work + "/one.tar", "--store", store, "--with-outputs"]).status == 0)
        #expect(try S.repro(["bundle", "export", two, "-o", work + "/two.tar", "--store", store, "--with-outputs"]).status == 0)
        let diff = try S.repro(["diff", work + "/one.tar", work + "/two.tar", "--json"])
        #expect(diff.status == 3, "\(diff.err)")
        let paths = Set((diff.json["differences"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String })
        #expect(paths.contains("data.txt"))
        #expect(paths.contains { $0.hasPrefix("share/src.tar") })
        #expect(!paths.contains("tiny"))

        // The changed build's own bundle rebuilds to its tree.
        let against = try S.repro(["verify", "--against", work + "/two.tar", "--store", store, "--json"])
        #expect(against.status == 0, "\(against.err)")
    }

    /// A git input travels as the pinned commit's objects only; the other host rebuilds
    /// from them, and the user's repository is left as it was.
    @Test func gitInputsTravelInTheBundle() throws {
        let work = try TestKit.tempDir("bundle-git")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let repo = work + "/r/repo"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        func git(_ a: String...) throws -> String {
            try TestKit.run(["/usr/bin/git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid"] + a).out
        }
        _ = try git("init", "-q")
        try "pinned\n".write(toFile: repo + "/a.txt", atomically: true, encoding: .utf8)
        _ = try git("add", "a.txt")
        _ = try git("commit", "-qm", "one")
        let commit = try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        try "later, secret\n".write(toFile: repo + "/a.txt", atomically: true, encoding: .utf8)
        _ = try git("commit", "-qam", "two")
        let refsBefore = try git("for-each-ref")
        try """
        name = "g"
        [toolchain]
        host = true
        [inputs.code]
        git = "repo"
        commit = "\(commit)"
        [build]
        script = "cp src/code/a.txt $REPRO_OUT/"
        """.write(toFile: work + "/r/g.toml", atomically: true, encoding: .utf8)
        let a = work + "/host-a", b = work + "/host-b"
        #expect(try S.repro(["lock", work + "/r/g.toml"], home: a).status == 0)
        let built = try S.repro(["build", work + "/r/g.toml", "--json"], home: a)
        #expect(built.status == 0, "\(built.err)")
        #expect(try S.repro(["bundle", "export", work + "/r/g.toml", "-o", work + "/g.tar"], home: a).status == 0)
        #expect(try S.repro(["bundle", "export", work + "/r/g.toml", "-o", work + "/g2.tar"], home: a).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: work + "/g.tar")) == Data(contentsOf: URL(fileURLWithPath: work + "/g2.tar")))
        let listing = try TestKit.run(["/bin/tar", "tf", work + "/g.tar"]).out
        #expect(listing.contains("recipe/repo.repro-git/\(commit).pack"), "\(listing)")
        #expect(try git("for-each-ref") == refsBefore)
        // The later commit is not in the bundle.
        let unpacked = work + "/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        _ = try TestKit.run(["/bin/tar", "xf", work + "/g.tar", "-C", unpacked])
        let later = try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let probe = work + "/probe"
        _ = try TestKit.run(["/usr/bin/git", "init", "-q", probe])
        let indexed = try TestKit.run(["/bin/sh", "-c", "git -C \(probe) index-pack --stdin < \(unpacked)/recipe/repo.repro-git/\(commit).pack"])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        #expect(try TestKit.run(["/usr/bin/git", "-C", probe, "cat-file", "-e", commit]).status == 0)
        #expect(try TestKit.run(["/usr/bin/git", "-C", probe, "cat-file", "-e", later]).status != 0)

        let r = try S.repro(["verify", "--against", work + "/g.tar", "--json"], home: b)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.json["reproducible"] as? Bool == true)
    }

    @Test func aBundleThatDoesNotRebuildTheSameIsExit3WithTheFiles() throws {
        let work = try TestKit.tempDir("bundle-unrepro")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let a = work + "/host-a", b = work + "/host-b"
        let recipe = try S.unrepro(in: work, store: a)
        #expect(try S.repro(["build", recipe], home: a).status == 0)
        #expect(try S.repro(["bundle", "export", recipe, "-o", work + "/u.tgz", "--with-outputs"], home: a).status == 0)
        // Another host, another uid: the random file and the uid differ from the bundle.
        let r = try S.repro(["verify", "--against", work + "/u.tgz", "--variations", "user", "--keep", "--json"], home: b)
        #expect(r.status == 3, "\(r.err)")
        #expect(r.json["reproducible"] as? Bool == false)
        let paths = Set((r.json["differences"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String })
        #expect(paths == ["random", "uid", "build-path"])
        let text = try S.repro(["verify", "--against", work + "/u.tgz"], home: b)
        #expect(text.status == 3)
        #expect(text.out.contains("differ from the bundle"))
        #expect(text.out.contains("changed       random"))
        #expect(try S.repro(["verify", "--against", work + "/u.tgz", "--find-culprit"], home: b).status == 2)
    }

    @Test func bundlesAreDeterministicAndCarryWhatTheFormatSays() throws {
        let work = try TestKit.tempDir("bundle-bytes")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let store = work + "/store"
        let recipe = try S.tiny(in: work + "/r", store: store)
        let built = try S.repro(["build", recipe, "--store", store, "--json"])
        #expect(built.status == 0, "\(built.err)")
        for name in ["x.tar", "x.tgz"] {
            #expect(try S.repro(["bundle", "export", recipe, "-o", work + "/1-" + name, "--store", store, "--with-outputs"]).status == 0)
            #expect(try S.repro(["bundle", "export", recipe, "-o", work + "/2-" + name, "--store", store, "--with-outputs"]).status == 0)
            let x = try Data(contentsOf: URL(fileURLWithPath: work + "/1-" + name))
            let y = try Data(contentsOf: URL(fileURLWithPath: work + "/2-" + name))
            #expect(x == y, "\(name) differs between two exports")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: work + "/1-x.tgz")).prefix(2) == Data([0x1f, 0x8b]))
        let list = try TestKit.run(["/usr/bin/tar", "-tvf", work + "/1-x.tar"]).out
        let names = list.split(separator: "\n").map { String($0.split(separator: " ").last!) }
        #expect(names == names.sorted())
        for n in ["bundle.json", "manifest", "recipe/tiny.toml", "recipe/tiny.lock", "recipe/src/data.txt",
                  "outputs/tiny", "outputs/share/src.tar", "provenance.intoto.jsonl", "sbom.spdx.json"] {
            #expect(names.contains(n), "\(n) missing from \(names)")
        }
        #expect(list.contains("root/root") || list.contains(" 0/0 "))
        #expect(list.contains("2023-11-14"), "mtime is SOURCE_DATE_EPOCH 1700000000: \(list)")
        // The manifest hashes to the tree digest, with coreutils.
        let dir = work + "/x"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try TestKit.run(["/usr/bin/tar", "-xf", work + "/1-x.tar", "-C", dir])
        let sum = try TestKit.run(["/usr/bin/sha256sum", dir + "/manifest"]).out.prefix(64)
        #expect("sha256:" + sum == built.json["tree_digest"] as? String)
        let envelope = try String(contentsOfFile: dir + "/provenance.intoto.jsonl", encoding: .utf8)
        #expect(envelope.contains("\"payloadType\":\"application/vnd.in-toto+json\""))
        let show = try S.repro(["bundle", "show", work + "/1-x.tgz"])
        #expect(show.status == 0, "\(show.err)")
        #expect(show.out.contains("provenance  included"))
        #expect(show.out.contains("outputs     included"))
    }

    @Test func alteredOrHostileBundlesAreRefused() throws {
        let work = try TestKit.tempDir("bundle-bad")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let store = work + "/store"
        let recipe = try S.tiny(in: work + "/r", store: store)
        #expect(try S.repro(["build", recipe, "--store", store]).status == 0)
        #expect(try S.repro(["bundle", "export", recipe, "-o", work + "/good.tar", "--store", store, "--with-outputs"]).status == 0)
        func repack(_ name: String, _ change: (String) throws -> Void) throws -> String {
            let dir = work + "/" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = try TestKit.run(["/usr/bin/tar", "-xf", work + "/good.tar", "-C", dir])
            try change(dir)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            _ = try TestKit.run(["/usr/bin/tar", "-cf", work + "/\(name).tar", "-C", dir] + names)
            return work + "/\(name).tar"
        }
        // A changed manifest no longer hashes to tree_digest: exit 4.
        let manifest = try repack("manifest") { d in
            try "f 0644 1 \(String(repeating: "0", count: 64)) x\n".write(toFile: d + "/manifest", atomically: true, encoding: .utf8)
        }
        let m = try S.repro(["bundle", "show", manifest])
        #expect(m.status == 4)
        #expect(m.err.contains("altered"))
        #expect(try S.repro(["verify", "--against", manifest, "--store", store]).status == 4)
        // A changed output file: exit 4.
        let output = try repack("output") { d in try "evil\n".write(toFile: d + "/outputs/data.txt", atomically: true, encoding: .utf8) }
        #expect(try S.repro(["bundle", "show", output]).status == 4)
        // An unknown format: exit 2.
        let format = try repack("format") { d in
            let text = try String(contentsOfFile: d + "/bundle.json", encoding: .utf8)
            try text.replacingOccurrences(of: "repro-bundle-1", with: "repro-bundle-9").write(toFile: d + "/bundle.json", atomically: true, encoding: .utf8)
        }
        let f = try S.repro(["bundle", "show", format])
        #expect(f.status == 2)
        #expect(f.err.contains("repro-bundle-9"))
        // An entry climbing out: exit 2, and nothing is written outside.
        let evil = work + "/evil.tar"
        let py = "import tarfile, io\nt = tarfile.open('\(evil)', 'w')\ni = tarfile.TarInfo('../escaped')\ni.size = 3\nt.addfile(i, io.BytesIO(b'bad'))\nt.close()\n"
        _ = try TestKit.run(["/usr/bin/python3", "-c", py])
        let e = try S.repro(["bundle", "show", evil])
        #expect(e.status == 2)
        #expect(e.err.contains("escapes the bundle"))
        #expect(!FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "escaped"))
        // A link to outside, then a file through it: refused, nothing written there.
        let linked = work + "/linked.tar", outside = work + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let py2 = "import tarfile, io\nt = tarfile.open('\(linked)', 'w')\nl = tarfile.TarInfo('recipe')\nl.type = tarfile.SYMTYPE\nl.linkname = '\(outside)'\nt.addfile(l)\ni = tarfile.TarInfo('recipe/x.toml')\ni.size = 3\nt.addfile(i, io.BytesIO(b'bad'))\nt.close()\n"
        _ = try TestKit.run(["/usr/bin/python3", "-c", py2])
        let l = try S.repro(["bundle", "show", linked])
        #expect(l.status == 2)
        #expect(l.err.contains("under the symbolic link"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        #expect(try S.repro(["bundle", "show", work + "/missing.tar"]).status == 2)
    }

    @Test func exportFindsBuildsByDigestWithTheirRecipe() throws {
        let work = try TestKit.tempDir("bundle-digest")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let store = work + "/store"
        let recipe = try S.tiny(in: work + "/r", store: store)
        let none = try S.repro(["bundle", "export", recipe, "-o", work + "/x.tar", "--store", store])
        #expect(none.status == 2)
        #expect(none.err.contains("run 'repro build"))
        let built = try S.repro(["build", recipe, "--store", store, "--json"])
        let action = built.json["action_digest"] as? String ?? ""
        let tree = built.json["tree_digest"] as? String ?? ""
        let bare = try S.repro(["bundle", "export", action, "-o", work + "/x.tar", "--store", store])
        #expect(bare.status == 2)
        #expect(bare.err.contains("--recipe"))
        let byTree = try S.repro(["bundle", "export", tree, "--recipe", recipe, "-o", work + "/t.tar", "--store", store, "--json"])
        #expect(byTree.status == 0, "\(byTree.err)")
        #expect(byTree.json["action_digest"] as? String == action)
        let byAction = try S.repro(["bundle", "export", action, "--recipe", recipe, "-o", work + "/a.tar", "--store", store])
        #expect(byAction.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: work + "/a.tar")) == Data(contentsOf: URL(fileURLWithPath: work + "/t.tar")))
    }
}
