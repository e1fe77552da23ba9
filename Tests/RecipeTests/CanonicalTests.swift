import Core
import Foundation
import TestKit
import Testing
@testable import Recipe

@Suite(.tags(.unit)) struct CanonicalDigestTests {
    static let base = """
    name = "hello"
    version = "2.10"

    [toolchain]
    debian = "bookworm"
    packages = ["gcc", "make"]

    [inputs.src]
    debian-source = "hello=2.10-3"
    unpack = true

    [build]
    script = \"\"\"
    ./configure --prefix=/usr
    make
    \"\"\"
    env = { CFLAGS = "-O2" }

    [limits]
    memory = "1G"
    """

    func digest(_ text: String) throws -> Digest { try Recipe.parse(text, file: "r.toml").digest }

    @Test func formattingDoesNotChangeTheDigest() throws {
        let reformatted = """
        # A comment at the top.
        version='2.10'   # literal quotes this time
        name  =  "hello"

        [build]
        env.CFLAGS = "-O2"
        user = "builder"              # the default, spelled out
        source-date-epoch = 0         # the default
        script = "./configure --prefix=/usr\\nmake\\n"

        [inputs]
        src = { debian-source = "hello=2.10-3", unpack = true, patches = false }

        [toolchain]
        packages = [
            "make",
            "gcc",     # order does not matter
        ]
        debian = "bookworm"

        [limits]
        memory = 1073741824
        """
        #expect(try digest(reformatted) == digest(Self.base))
        #expect(try Recipe.parse(reformatted, file: "other/place.toml", directory: "other").digest == digest(Self.base))
    }

    @Test func pathSpellingDoesNotChangeTheDigest() throws {
        let a = "name = \"x\"\n[toolchain]\nhost = true\n[inputs.f]\npath = \"./a/../src/\"\n[build]\nscript = \"true\""
        let b = "name = \"x\"\n[toolchain]\nhost = true\n[inputs.f]\npath = \"src\"\n[build]\nscript = \"true\""
        #expect(try digest(a) == digest(b))
    }

    @Test(arguments: [
        ("make\n\"\"\"", "make -j1\n\"\"\""),                         // the script
        ("packages = [\"gcc\", \"make\"]", "packages = [\"gcc\", \"make\", \"perl\"]"),
        ("hello=2.10-3", "hello=2.10-4"),                           // an input's version
        ("unpack = true", "unpack = false"),
        ("version = \"2.10\"", "version = \"2.11\""),
        ("memory = \"1G\"", "memory = \"2G\""),
        ("CFLAGS = \"-O2\"", "CFLAGS = \"-O3\""),
        ("[limits]", "[outputs]\narchive = \"tar\"\n[limits]"),
        ("debian = \"bookworm\"", "debian = \"trixie\""),
        ("[build]", "[build]\nuser = \"root\""),
        ("[build]", "[build]\njobs = 2"),
        ("[build]", "[build]\nsource-date-epoch = \"from:src\""),
    ])
    func semanticChangesChangeTheDigest(_ change: (String, String)) throws {
        let changed = Self.base.replacingOccurrences(of: change.0, with: change.1)
        #expect(changed != Self.base, "the test's replacement did not apply: \(change.0)")
        #expect(try digest(changed) != digest(Self.base))
    }

    @Test func canonicalJSONIsStableAndComplete() throws {
        let r = try Recipe.parse(Self.base, file: "r.toml")
        let json = String(decoding: r.canonicalJSON(), as: UTF8.self)
        #expect(json == #"{"build":{"env":{"CFLAGS":"-O2"},"script":"./configure --prefix=/usr\nmake\n","source-date-epoch":"0","user":"builder"},"format":1,"inputs":{"src":{"kind":"debian-source","patches":false,"spec":"hello=2.10-3","strip-components":0,"unpack":true}},"limits":{"memory":1073741824},"name":"hello","outputs":{},"toolchain":{"kind":"debian","packages":["gcc","make"],"suite":"bookworm"},"version":"2.10"}"#)
        #expect(r.digest == Digest.of(r.canonicalJSON()))
        #expect(r.digest.description.hasPrefix("sha256:"))
        // Decodes back to the same value.
        let back = try JSONDecoder().decode(CanonicalRecipe.self, from: r.canonicalJSON())
        #expect(back == r.canonical)
    }
}

@Suite(.tags(.unit)) struct ExampleRecipeTests {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var recipes: [String] {
        let dir = root.appendingPathComponent("recipes")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".toml") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    @Test func theExamplesExist() {
        let names = Self.recipes.map { ($0 as NSString).lastPathComponent }
        for expected in ["hello.toml", "lua.toml", "zlib.toml"] {
            #expect(names.contains(expected), "recipes/\(expected) is missing")
        }
    }

    @Test(arguments: recipes) func everyRecipeParses(_ path: String) throws {
        let r = try Recipe.load(path: path)
        guard case .debian(let suite, let packages, _) = r.toolchain else {
            Issue.record("\(path): examples pin a Debian toolchain")
            return
        }
        #expect(suite == "bookworm")
        // The C builds name their compiler; sortedcontainers (pure Python) needs python3.
        #expect(packages.contains("gcc") && packages.contains("make") && packages.contains("libc6-dev") || packages.contains("python3"))
        #expect(r.inputs.count == 1)
        let input = try #require(r.inputs.first)
        guard case .debianSource = input.source else {
            Issue.record("\(path): examples build from a Debian source package")
            return
        }
        #expect(input.unpack)
        #expect(r.build.sourceDateEpoch == .fromInput(input.name))
        #expect(r.build.script.contains("$REPRO_OUT"))
        // The build examples ship an archive; the test-suite examples have a [test] step.
        #expect(r.outputs.archive != nil || r.test != nil)
    }
}

/// The error examples in docs/recipes.md are real: each is produced from
/// recipes/hello.toml with one edit, and the doc holds the message verbatim.
@Suite(.tags(.unit)) struct DocumentedErrorTests {
    static let edits: [(String, String)] = [
        ("script = \"\"\"", "scirpt = \"\"\""),
        ("[build]", "[biuld]"),
        ("debian-source = \"hello=2.10-3\"", "path = \"../../etc/passwd\""),
        ("memory = \"2G\"", "memory = \"2GB\""),
        ("name = \"hello\"", "name = hello"),
        ("\"from:hello\"", "\"from:helo\""),
        ("unpack = true ", "unpack = true\nunpack = false"),
        ("source-date-epoch = \"from:hello\"", "source-date-epoch = 2024-01-01"),
        ("[inputs.hello]", "[inputs.hello]\n[toolchain]"),
        ("debian-source = \"hello=2.10-3\"", "path = \"x\"\ngit = \"y\""),
        ("[inputs.hello]", "[inputs.src]\ngit = \"repo\"\n[inputs.hello]"),
    ]

    @Test(arguments: edits) func documented(_ edit: (String, String)) throws {
        let root = ExampleRecipeTests.root
        let hello = try String(contentsOf: root.appendingPathComponent("recipes/hello.toml"), encoding: .utf8)
        let doc = try String(contentsOf: root.appendingPathComponent("docs/recipes.md"), encoding: .utf8)
        let edited = hello.replacingOccurrences(of: edit.0, with: edit.1)
        #expect(edited != hello)
        do {
            _ = try Recipe.parse(edited, file: "recipes/hello.toml")
            Issue.record("no error for \(edit)")
        } catch let e as ReproError {
            #expect(doc.contains("\n" + e.message + "\n"), "docs/recipes.md lacks: \(e.message)")
        }
    }
}
