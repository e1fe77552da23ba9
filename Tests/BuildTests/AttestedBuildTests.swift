import Foundation
import TestKit
import Testing

/// Every build is attested: a signed SLSA provenance envelope and an SBOM, in the store
/// and next to --out; `repro attest verify` checks them against the outputs on disk; the
/// signing key is never visible to the build.
@Suite(.serialized, .tags(.sandbox)) struct AttestedBuildTests {
    static let work = NSTemporaryDirectory() + "repro-attested-\(getpid())"

    struct Run { var status: Int32; var out: String; var err: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:] }
    }

    let env: [String: String]
    let dir: String

    init() throws {
        dir = Self.work + "/" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir + "/recipe", withIntermediateDirectories: true)
        env = ["HOME": dir + "/home", "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin"]
    }

    func repro(_ args: [String], env extra: [String: String] = [:]) throws -> Run {
        let r = try TestKit.run([TestKit.repro] + args, environment: env.merging(extra) { $1 })
        return Run(status: r.status, out: r.out, err: r.stderr)
    }

    /// A host-toolchain recipe whose build step looks for signing keys everywhere it can.
    func writeRecipe() throws -> String {
        try "data\n".write(toFile: dir + "/recipe/data.txt", atomically: true, encoding: .utf8)
        let recipe = """
        name = "attested"
        [toolchain]
        host = true
        [inputs.data]
        path = "data.txt"
        [build]
        script = '''
        mkdir -p $REPRO_OUT/bin
        printf 'hello\\n' > $REPRO_OUT/bin/hello
        cp src/data/* $REPRO_OUT/
        find / -path /proc -prune -o \\( -name 'signing*.pem' -o -name '*.pub.pem' \\) -print 2>/dev/null > /build/found || true
        grep -rl 'PRIVATE KEY' /build /tmp /etc /out 2>/dev/null >> /build/found || true
        env | grep -i -e signing -e config -e repro_home >> /build/found || true
        cp /build/found $REPRO_OUT/found-keys.txt
        '''
        [outputs]
        archive = "tar"
        """
        try recipe.write(toFile: dir + "/recipe/attested.toml", atomically: true, encoding: .utf8)
        return dir + "/recipe/attested.toml"
    }

    @Test func buildIsSignedAndVerifiesAgainstItsOutputs() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try writeRecipe()
        let store = dir + "/store"
        #expect(try repro(["lock", recipe, "--store", store]).status == 0)

        // First build: no key yet, one is generated in the config dir and used.
        let out = dir + "/dist/attested"
        let built = try repro(["build", recipe, "--store", store, "--out", out, "--json"])
        try #require(built.status == 0, "\(built.err)")
        let keys = dir + "/config/repro/keys"
        #expect(built.err.contains("generated a signing key for build provenance: \(keys)/signing.pem"))
        #expect(built.json["provenance_file"] as? String == out + ".intoto.jsonl")
        #expect(built.json["sbom_file"] as? String == out + ".spdx.json")
        #expect(FileManager.default.fileExists(atPath: out + ".intoto.jsonl"))
        let found = try String(contentsOfFile: out + "/found-keys.txt", encoding: .utf8)
        #expect(found.isEmpty, "the build saw: \(found)")

        // The SBOM's SHA-1 of every output file (read back from the store in parallel)
        // is what sha1sum says of the file on disk.
        let spdx = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + ".spdx.json"))) as? [String: Any]
        let files = try #require(spdx?["files"] as? [[String: Any]])
        #expect(files.count == 4) // three outputs and the archive
        for file in files {
            let name = try #require((file["fileName"] as? String)?.dropFirst(2))
            let sha1 = (file["checksums"] as? [[String: String]])?.first { $0["algorithm"] == "SHA1" }?["checksumValue"]
            let path = name.hasSuffix(".tar") ? dir + "/dist/" + name : out + "/" + name
            let sum = try TestKit.run(["sha1sum", path])
            #expect(sum.out.split(separator: " ").first.map(String.init) == sha1, "\(name)")
        }

        let recipeDigest = try #require(built.json["recipe_digest"] as? String)
        let verify = try repro(["attest", "verify", out + ".intoto.jsonl", "--key", keys + "/signing.pub.pem",
                                "--artifact", out, "--builder-id", "urn:repro:builder:local",
                                "--recipe-digest", recipeDigest, "--source", "file:data.txt", "--json"])
        #expect(verify.status == 0, "\(verify.err)")
        #expect(verify.json["tree_digest"] as? String == built.json["tree_digest"] as? String)
        #expect(verify.json["subjects"] as? Int == 5) // the tree, three files, the archive
        let archive = dir + "/dist/attested.tar"
        #expect(try repro(["attest", "verify", out + ".intoto.jsonl", "--key", keys + "/signing.pub.pem", "--artifact", archive]).status == 0)
        let show = try repro(["attest", "show", out + ".intoto.jsonl", "--key", keys + "/signing.pub.pem"])
        #expect(show.status == 0)
        #expect(show.out.contains("builder       urn:repro:builder:local"))
        #expect(show.out.contains("3 files"))
        #expect(show.out.contains("signature     verified"))

        // A cache hit restores the same envelope; the CycloneDX SBOM is there too.
        let again = try repro(["build", recipe, "--store", store, "--out", dir + "/dist2/attested", "--sbom-format", "cyclonedx", "--json"])
        #expect(again.status == 0, "\(again.err)")
        #expect(again.json["cached"] as? Bool == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/dist2/attested.intoto.jsonl"))
                == Data(contentsOf: URL(fileURLWithPath: out + ".intoto.jsonl")))
        #expect(FileManager.default.fileExists(atPath: dir + "/dist2/attested.cdx.json"))
        // ... and the output archive, named by the provenance.
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/dist2/attested.tar")) == Data(contentsOf: URL(fileURLWithPath: archive)))

        // Failures: exit 4 and the precise reason.
        try "changed\n".write(toFile: out + "/data.txt", atomically: true, encoding: .utf8)
        let changed = try repro(["attest", "verify", out + ".intoto.jsonl", "--key", keys + "/signing.pub.pem", "--artifact", out])
        #expect(changed.status == 4)
        #expect(changed.err.contains("artifact \(out)/data.txt is sha256:"), "\(changed.err)")
        let builder = try repro(["attest", "verify", out + ".intoto.jsonl", "--key", keys + "/signing.pub.pem", "--builder-id", "urn:x:y"])
        #expect(builder.status == 4)
        #expect(builder.err.contains("builder id is \"urn:repro:builder:local\", expected \"urn:x:y\""))
        let missing = try repro(["attest", "verify", out + ".intoto.jsonl", "--key", keys + "/signing.pub.pem", "--artifact", dir + "/nope"])
        #expect(missing.status == 2)

        // The reference implementations accept what a real build wrote.
        if let python = ProcessInfo.processInfo.environment["REPRO_ATTEST_PYTHON"] {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("AttestTests/conformance.py").path
            for (kind, file) in [("statement", out + ".intoto.jsonl"), ("spdx", out + ".spdx.json"),
                                 ("cyclonedx", dir + "/dist2/attested.cdx.json"),
                                 ("verify", keys + "/signing.pub.pem")] {
                let args = kind == "verify" ? [python, script, kind, file, out + ".intoto.jsonl"] : [python, script, kind, file]
                let r = try TestKit.run(args)
                #expect(r.status == 0, "\(kind): \(r.stderr)")
            }
        }
    }

    /// A store export carries each build's provenance, SBOMs and output archive: a cache
    /// hit in the importing store (another host) writes the same envelope and archive as
    /// the building store did, and they verify there.
    @Test func exportedStoresCarryProvenance() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try writeRecipe()
        let a = dir + "/store-a", b = dir + "/store-b"
        #expect(try repro(["lock", recipe, "--store", a]).status == 0)
        let built = try repro(["build", recipe, "--store", a, "--out", dir + "/a/attested", "--json"])
        try #require(built.status == 0, "\(built.err)")
        let action = try #require(built.json["action_digest"] as? String)

        for (name, selection) in [("all", [String]()), ("one", ["--tree", action])] {
            let file = dir + "/\(name).tar"
            let export = try repro(["store", "export", file, "--store", a, "--json"] + selection)
            #expect(export.status == 0, "\(export.err)")
            #expect(export.json["attestations"] as? Int == 2, "spdx and cyclonedx: \(export.out)")
            let home = b + "-" + name
            let imported = try repro(["store", "import", file, "--store", home, "--json"])
            #expect(imported.status == 0, "\(imported.err)")
            #expect(imported.json["attestations"] as? Int == 2)
            #expect(try repro(["store", "verify", "--store", home]).status == 0)

            let out = dir + "/b-\(name)/attested"
            let hit = try repro(["build", recipe, "--store", home, "--out", out, "--offline", "--json"])
            #expect(hit.status == 0, "\(hit.err)")
            #expect(hit.json["cached"] as? Bool == true)
            #expect(try Data(contentsOf: URL(fileURLWithPath: out + ".intoto.jsonl"))
                    == Data(contentsOf: URL(fileURLWithPath: dir + "/a/attested.intoto.jsonl")))
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/b-\(name)/attested.tar"))
                    == Data(contentsOf: URL(fileURLWithPath: dir + "/a/attested.tar")))
            let verify = try repro(["attest", "verify", out + ".intoto.jsonl", "--key", dir + "/config/repro/keys/signing.pub.pem",
                                    "--artifact", out])
            #expect(verify.status == 0, "\(verify.err)")
            // Importing again adds nothing and keeps what is there.
            let again = try repro(["store", "import", file, "--store", home, "--json"])
            #expect(again.status == 0 && again.json["attestations"] as? Int == 0, "\(again.out)")
        }
    }

    @Test func explicitKeysAndBadKeys() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try writeRecipe()
        let store = dir + "/store"
        #expect(try repro(["lock", recipe, "--store", store]).status == 0)
        #expect(try repro(["key", "generate", "--algorithm", "ecdsa-p256", "--out", dir + "/ci-keys"]).status == 0)
        // REPRO_SIGNING_KEY (CI) and a builder id.
        let ci = try repro(["build", recipe, "--store", store, "--out", dir + "/o", "--builder-id", "urn:repro:builder:ci-main", "--no-cache"],
                           env: ["REPRO_SIGNING_KEY": dir + "/ci-keys/signing.pem"])
        #expect(ci.status == 0, "\(ci.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/config/repro/keys/signing.pem"))
        let v = try repro(["attest", "verify", dir + "/o.intoto.jsonl", "--key", dir + "/ci-keys/signing.pub.pem",
                           "--artifact", dir + "/o", "--builder-id", "urn:repro:builder:ci-main"])
        #expect(v.status == 0, "\(v.err)")
        // A missing key, a public key given as the signing key, a bad builder id: exit 2
        // before anything is built, nothing written.
        let nokey = try repro(["build", recipe, "--store", store, "--key", dir + "/absent.pem", "--out", dir + "/o2"])
        #expect(nokey.status == 2)
        #expect(nokey.err.contains(dir + "/absent.pem"))
        let pub = try repro(["build", recipe, "--store", store, "--key", dir + "/ci-keys/signing.pub.pem", "--out", dir + "/o2"])
        #expect(pub.status == 2)
        #expect(pub.err.contains("this is a public key"))
        let bad = try repro(["build", recipe, "--store", store, "--builder-id", "not a uri", "--out", dir + "/o2"])
        #expect(bad.status == 2)
        #expect(!FileManager.default.fileExists(atPath: dir + "/o2"))
    }
}
