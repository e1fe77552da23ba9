import Core
import Foundation
import TestKit
import Testing
@testable import Recipe

func hex(_ seed: String) -> String { Digest.of(seed).hex }

let lockRecipeText = """
name = "hello"
[toolchain]
debian = "bookworm"
packages = ["gcc", "make"]
[inputs.src]
debian-source = "hello=2.10-3"
unpack = true
[inputs.patch]
path = "fix.patch"
[build]
script = "make"
"""

func sampleLock(for recipe: Recipe) -> LockFile {
    LockFile(
        recipe: recipe.digest,
        toolchain: .init(kind: "debian", suite: "bookworm", architecture: "amd64", snapshot: "Sat, 11 Oct 2026 09:11:02 UTC",
                         requested: ["make", "gcc"],
                         packages: [
                            .init(name: "make", version: "4.3-4.1", architecture: "amd64", size: 396_876, sha256: hex("make"),
                                  filename: "pool/main/m/make-dfsg/make_4.3-4.1_amd64.deb", source: "make-dfsg"),
                            .init(name: "gcc", version: "4:12.2.0-3", architecture: "amd64", size: 5_236, sha256: hex("gcc"),
                                  filename: "pool/main/g/gcc-defaults/gcc_12.2.0-3_amd64.deb", source: "gcc-defaults (1.203)"),
                            .init(name: "base-files", version: "12.4+deb12u5", architecture: "amd64", size: 70_000, sha256: hex("bf"),
                                  filename: "pool/main/b/base-files/base-files_12.4+deb12u5_amd64.deb", source: "base-files"),
                         ]),
        inputs: [
            "src": .init(kind: "debian-source", spec: "hello=2.10-3", sha256: hex("dsc"), size: 1_847, files: [
                .init(name: "hello_2.10.orig.tar.gz", sha256: hex("orig"), size: 725_946),
                .init(name: "hello_2.10-3.dsc", sha256: hex("dsc"), size: 1_847),
                .init(name: "hello_2.10-3.debian.tar.xz", sha256: hex("deb"), size: 12_688),
            ]),
            "patch": .init(kind: "path", spec: "fix.patch", sha256: hex("patch"), size: 120),
        ])
}

@Suite(.tags(.unit)) struct LockFileTests {
    let recipe: Recipe
    init() throws { recipe = try Recipe.parse(lockRecipeText, file: "hello.toml") }

    @Test func roundTripIsByteIdentical() throws {
        let lock = sampleLock(for: recipe)
        let bytes = lock.encoded()
        let back = try LockFile.decode(bytes, file: "hello.lock")
        #expect(back == lock.normalized)
        #expect(back.encoded() == bytes)
        // Order of construction does not matter: lists are sorted on write.
        var shuffled = lock
        shuffled.toolchain.packages.reverse()
        shuffled.toolchain.requested.reverse()
        shuffled.inputs["src"]?.files?.reverse()
        #expect(shuffled.encoded() == bytes)
    }

    @Test func formatIsPrettyCanonicalJSON() throws {
        let text = String(decoding: sampleLock(for: recipe).encoded(), as: UTF8.self)
        #expect(text.hasPrefix("{\n  \"inputs\": {\n    \"patch\": {\n      \"kind\": \"path\",\n"))
        #expect(text.hasSuffix("  \"version\": 1\n}\n"))
        #expect(text.contains("\"recipe\": {\n    \"sha256\": \"\(recipe.digest.hex)\",\n    \"size\": \(recipe.digest.size)\n  },"))
        #expect(text.contains("\"filename\": \"pool/main/b/base-files/base-files_12.4+deb12u5_amd64.deb\""))
        // Packages sorted by name; files sorted by name.
        let bf = try #require(text.range(of: "\"base-files\""))
        let gcc = try #require(text.range(of: "\"name\": \"gcc\""))
        #expect(bf.lowerBound < gcc.lowerBound)
        let debian = try #require(text.range(of: "hello_2.10-3.debian.tar.xz"))
        let dsc = try #require(text.range(of: "hello_2.10-3.dsc"))
        #expect(debian.lowerBound < dsc.lowerBound)
        // It is plain JSON any tool can read.
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(object?["version"] as? Int == 1)
        // Empty lists print as [] and the host toolchain is short.
        let host = LockFile(recipe: recipe.digest, toolchain: .host, inputs: [:])
        let hostText = String(decoding: host.encoded(), as: UTF8.self)
        #expect(hostText.contains("\"inputs\": {},"))
        #expect(hostText.contains("\"packages\": [],"))
    }

    @Test func writeAndRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("hello.lock").path
        let lock = sampleLock(for: recipe)
        try lock.write(to: path)
        #expect(try LockFile.read(path: path) == lock.normalized)
        #expect(FileManager.default.contents(atPath: path) == lock.encoded())
        let missing = dir.appendingPathComponent("none.lock").path
        do { _ = try LockFile.read(path: missing); Issue.record("expected an error") } catch let e as ReproError {
            #expect(e.code == .invalidInput)
            #expect(e.message == "\(missing): no lock file; run `repro lock` on the recipe to create it")
        }
    }

    static let malformed: [(String, String)] = [
        ("", "x.lock: not valid JSON"),
        ("{\"version\": 1,", "x.lock: not valid JSON"),
        ("[1, 2]", "x.lock: not a lock file"),
        ("{}", "x.lock: not a lock file: no \"version\""),
        ("{\"version\": 2}", "x.lock: lock file version 2 is not supported (this repro reads version 1)"),
        ("{\"version\": \"1\"}", "x.lock: not a lock file: version"),
        ("{\"version\": 1}", "x.lock: missing recipe"),
    ]

    @Test(arguments: malformed) func malformedLocksNameFileAndProblem(_ c: (String, String)) {
        do {
            _ = try LockFile.decode(Data(c.0.utf8), file: "x.lock")
            Issue.record("expected an error for \(c.0)")
        } catch let e as ReproError {
            #expect(e.code == .invalidInput)
            #expect(e.message.hasPrefix(c.1), "\(e.message)")
            #expect(e.message.hasSuffix("run `repro lock` on the recipe to regenerate it") || e.message.contains("rewrite it"), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test func inconsistentLocksAreRejected() throws {
        let good = sampleLock(for: recipe)
        func message(_ edit: (inout LockFile) -> Void) -> String? {
            var l = good
            edit(&l)
            do { _ = try LockFile.decode(l.encoded(), file: "x.lock"); return nil } catch let e as ReproError { return e.message } catch { return "\(error)" }
        }
        #expect(message { $0.toolchain.packages[0].sha256 = "ABC" }?.contains("toolchain.packages[2] (make): sha256 is not 64 lowercase hex digits") == true)
        #expect(message { $0.toolchain.packages.append($0.toolchain.packages[0]) }?.contains("listed twice") == true)
        #expect(message { $0.toolchain.kind = "nix" }?.contains("toolchain.kind: 'nix'") == true)
        #expect(message { $0.toolchain.architecture = nil }?.contains("toolchain.architecture") == true)
        #expect(message { $0.inputs["src"]?.size = -1 }?.contains("inputs.src.size: negative") == true)
        #expect(message { $0.inputs["src"]?.kind = "http" }?.contains("inputs.src.kind") == true)
        #expect(message { $0.inputs["g"] = .init(kind: "git", spec: "r", sha256: hex("g"), size: 1) }?.contains("inputs.g.commit") == true)
        #expect(message { $0.inputs["src"]?.files?[0].name = "../x" }?.contains("inputs.src.files") == true)
        // A missing key deep inside names its path.
        var text = String(decoding: good.encoded(), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"filename\": \"pool/main/m/make-dfsg/make_4.3-4.1_amd64.deb\",\n", with: "")
        do { _ = try LockFile.decode(Data(text.utf8), file: "x.lock"); Issue.record("expected an error") } catch let e as ReproError {
            #expect(e.message.hasPrefix("x.lock: missing toolchain.packages[2].filename"), "\(e.message)")
        }
    }
}

@Suite(.tags(.unit)) struct LockStalenessTests {
    let recipe: Recipe
    let lock: LockFile
    init() throws {
        recipe = try Recipe.parse(lockRecipeText, file: "hello.toml")
        lock = sampleLock(for: recipe)
    }

    func changes(_ edited: String, contentDigests: [String: Digest] = [:]) throws -> [LockChange] {
        lock.changes(for: try Recipe.parse(edited, file: "hello.toml"), contentDigests: contentDigests)
    }

    @Test func freshLock() throws {
        #expect(lock.changes(for: recipe).isEmpty)
        #expect(!lock.isStale(for: recipe))
        // Comments and formatting keep it fresh.
        let reformatted = "# comment\n" + lockRecipeText.replacingOccurrences(of: "[\"gcc\", \"make\"]", with: "[\n  \"make\",\n  \"gcc\",\n]")
        #expect(try changes(reformatted).isEmpty)
    }

    @Test func scriptEditMovesOnlyTheRecipeDigest() throws {
        let c = try changes(lockRecipeText.replacingOccurrences(of: "script = \"make\"", with: "script = \"make -k\""))
        #expect(c.map(\.kind) == [.recipe])
        #expect(c[0].message.hasPrefix("the recipe changed since the lock was written (now sha256:"))
        #expect(!c[0].affectsPins)
    }

    @Test func packageListChanges() throws {
        let c = try changes(lockRecipeText.replacingOccurrences(of: "[\"gcc\", \"make\"]", with: "[\"gcc\", \"perl\", \"autoconf\"]"))
        #expect(c.first?.kind == .packages)
        #expect(c.first?.message == "toolchain packages changed: added autoconf, perl; removed make")
        #expect(c.last?.kind == .recipe)
        #expect(c.first?.affectsPins == true)
    }

    @Test func toolchainChanges() throws {
        let c = try changes(lockRecipeText.replacingOccurrences(of: "bookworm", with: "trixie"))
        #expect(c.first?.message == "toolchain suite changed from bookworm to trixie")
        let arch = try changes(lockRecipeText.replacingOccurrences(of: "debian = \"bookworm\"", with: "debian = \"bookworm\"\narchitecture = \"arm64\""))
        #expect(arch.first?.message == "toolchain architecture changed from amd64 to arm64")
        let host = try changes(lockRecipeText.replacingOccurrences(of: "debian = \"bookworm\"\npackages = [\"gcc\", \"make\"]", with: "host = true"))
        #expect(host.first?.message == "toolchain changed from debian bookworm to host")
    }

    @Test func inputChanges() throws {
        let added = try changes(lockRecipeText + "\n[inputs.extra]\npath = \"extra.tar\"")
        #expect(added.first == LockChange(kind: .inputAdded, input: "extra", message: "input 'extra' was added (path extra.tar)"))
        let removed = try changes(lockRecipeText.replacingOccurrences(of: "[inputs.patch]\npath = \"fix.patch\"\n", with: ""))
        #expect(removed.first == LockChange(kind: .inputRemoved, input: "patch", message: "input 'patch' was removed (the lock has path fix.patch)"))
        let changed = try changes(lockRecipeText.replacingOccurrences(of: "hello=2.10-3", with: "hello=2.10-4"))
        #expect(changed.first?.message == "input 'src' changed from debian-source hello=2.10-3 to debian-source hello=2.10-4")
        let kind = try changes(lockRecipeText.replacingOccurrences(of: "debian-source = \"hello=2.10-3\"", with: "debian-package = \"hello=2.10-3\""))
        #expect(kind.first?.kind == .inputChanged)
        let pinned = try changes(lockRecipeText.replacingOccurrences(of: "path = \"fix.patch\"", with: "path = \"fix.patch\"\nsha256 = \"\(hex("other"))\""))
        #expect(pinned.first?.kind == .inputPin)
        #expect(pinned.first?.message == "input 'patch': the recipe pins sha256:\(hex("other")) but the lock has sha256:\(hex("patch"))")
        let samePin = try changes(lockRecipeText.replacingOccurrences(of: "path = \"fix.patch\"", with: "path = \"fix.patch\"\nsha256 = \"\(hex("patch"))\""))
        #expect(samePin.map(\.kind) == [.recipe])
    }

    @Test func contentChangesWhenTheCallerHashes() throws {
        let now = Digest.of("new content")
        let c = lock.changes(for: recipe, contentDigests: ["patch": now])
        #expect(c == [LockChange(kind: .inputContent, input: "patch", message: "input 'patch' content changed: the lock has sha256:\(hex("patch")), it is now \(now)")])
        #expect(lock.changes(for: recipe, contentDigests: ["patch": Digest(hex: hex("patch"), size: 120)]).isEmpty)
    }
}
