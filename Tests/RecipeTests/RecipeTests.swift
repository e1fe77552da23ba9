import Core
import Foundation
import TestKit
import Testing
@testable import Recipe

let minimal = """
name = "demo"
[toolchain]
debian = "bookworm"
packages = ["make", "gcc"]
[build]
script = "make"
"""

func recipeError(_ text: String) -> String? {
    do {
        _ = try Recipe.parse(text, file: "r.toml")
        return nil
    } catch let e as ReproError {
        #expect(e.code == .invalidInput)
        #expect(e.code.exitStatus == 2)
        return e.message
    } catch {
        return "unexpected \(error)"
    }
}

@Suite(.tags(.unit)) struct RecipeModelTests {
    @Test func fullRecipe() throws {
        let r = try Recipe.parse("""
        name = "hello"
        version = "2.10"

        [toolchain]
        debian = "bookworm"
        packages = ["make", "gcc", "libc6-dev"]
        architecture = "amd64"

        [inputs.src]
        debian-source = "hello=2.10-3"
        unpack = true
        patches = true
        sha256 = "sha256:\(String(repeating: "ab", count: 32))"

        [inputs.extra]
        path = "./files/../files/extra.tar.gz"
        unpack = true
        strip-components = 1

        [inputs.repo]
        git = "vendor/repo"
        commit = "\(String(repeating: "0123456789", count: 4))"

        [inputs.deb]
        debian-package = "zlib1g=1:1.2.13.dfsg-1"

        [build]
        script = '''
        ./configure && make
        '''
        env = { CFLAGS = "-O2", LC_ALL = "C" }
        jobs = 4
        user = "root"
        source-date-epoch = "from:src"

        [limits]
        memory = "2G"
        pids = 512
        cpus = 1.5
        cpu-time = "1h"
        timeout = "1h30m"
        output-size = 1048576

        [outputs]
        archive = "tar.xz"
        """, file: "hello.toml", directory: "recipes")
        #expect(r.name == "hello")
        #expect(r.version == "2.10")
        #expect(r.toolchain == .debian(suite: "bookworm", packages: ["gcc", "libc6-dev", "make"], architecture: "amd64"))
        #expect(r.inputs.map(\.name) == ["deb", "extra", "repo", "src"])
        let src = try #require(r.input(named: "src"))
        #expect(src.source == .debianSource(package: "hello", version: "2.10-3"))
        #expect(src.sha256?.hex == String(repeating: "ab", count: 32))
        #expect(src.unpack && src.patches)
        #expect(src.line == 9)
        #expect(r.input(named: "extra")?.source == .path("files/extra.tar.gz"))
        #expect(r.input(named: "extra")?.stripComponents == 1)
        #expect(r.input(named: "repo")?.commit == String(repeating: "0123456789", count: 4))
        #expect(r.input(named: "deb")?.source == .debianPackage(package: "zlib1g", version: "1:1.2.13.dfsg-1"))
        #expect(r.build.script == "./configure && make\n")
        #expect(r.build.env == ["CFLAGS": "-O2", "LC_ALL": "C"])
        #expect(r.build.jobs == 4)
        #expect(r.build.user == .root)
        #expect(r.build.sourceDateEpoch == .fromInput("src"))
        #expect(r.limits == Recipe.Limits(memory: 2 << 30, pids: 512, cpus: 1.5, cpuTime: 3600, timeout: 5400, outputSize: 1 << 20))
        #expect(r.outputs.archive == .tarXz)
        #expect(r.archiveFileName == "hello-2.10.tar.xz")
        #expect(r.lockPath == "hello.lock")
    }

    @Test func defaults() throws {
        let r = try Recipe.parse(minimal, file: "r.toml")
        #expect(r.version == nil)
        #expect(r.inputs.isEmpty)
        #expect(r.build.user == .builder)
        #expect(r.build.jobs == nil)
        #expect(r.build.env.isEmpty)
        #expect(r.build.sourceDateEpoch == .seconds(0))
        #expect(r.limits == Recipe.Limits())
        #expect(r.outputs.archive == nil)
        #expect(r.archiveFileName == nil)
    }

    @Test func hostToolchain() throws {
        let r = try Recipe.parse("name = \"x\"\n[toolchain]\nhost = true\n[build]\nscript = \"true\"", file: "r.toml")
        #expect(r.toolchain == .host)
    }

    @Test func sizesAndDurations() {
        #expect(RecipeSyntax.size("512") == 512)
        #expect(RecipeSyntax.size("4K") == 4096)
        #expect(RecipeSyntax.size("2 GiB") == 2 << 30)
        #expect(RecipeSyntax.size("1T") == 1 << 40)
        #expect(RecipeSyntax.size("2GB") == nil)
        #expect(RecipeSyntax.size("1.5G") == nil)
        #expect(RecipeSyntax.size("99999999999T") == nil)
        #expect(RecipeSyntax.duration("90") == 90)
        #expect(RecipeSyntax.duration("90s") == 90)
        #expect(RecipeSyntax.duration("2h") == 7200)
        #expect(RecipeSyntax.duration("1h30m") == 5400)
        #expect(RecipeSyntax.duration("1d") == 86400)
        #expect(RecipeSyntax.duration("10 minutes") == nil)
        #expect(RecipeSyntax.duration("5m3") == nil)
        #expect(RecipeSyntax.duration("") == nil)
    }

    @Test func relativePaths() {
        #expect(RecipeSyntax.normalizedRelativePath("a/./b//c/") == "a/b/c")
        #expect(RecipeSyntax.normalizedRelativePath("a/../b") == "b")
        #expect(RecipeSyntax.normalizedRelativePath(".") == ".")
        #expect(RecipeSyntax.normalizedRelativePath("a/..") == ".")
        #expect(RecipeSyntax.normalizedRelativePath("../x") == nil)
        #expect(RecipeSyntax.normalizedRelativePath("a/../../x") == nil)
        #expect(RecipeSyntax.normalizedRelativePath("/etc/passwd") == nil)
        #expect(RecipeSyntax.normalizedRelativePath("") == nil)
        #expect(RecipeSyntax.normalizedRelativePath("a\nb") == nil)
    }

    @Test func nearestKey() {
        #expect(nearest("scirpt", in: RecipeDecoder.buildKeys) == "script")
        #expect(nearest("Script", in: RecipeDecoder.buildKeys) == "script")
        #expect(nearest("source_date_epoch", in: RecipeDecoder.buildKeys) == "source-date-epoch")
        #expect(nearest("banana", in: RecipeDecoder.buildKeys) == nil)
    }

    @Test func loadNamesMissingFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.toml").path
        #expect(throws: ReproError.self) { try Recipe.load(path: missing) }
        do { _ = try Recipe.load(path: missing) } catch let e as ReproError {
            #expect(e.message == "\(missing): no such recipe file; check the path")
        }
        do { _ = try Recipe.load(path: dir.path) } catch let e as ReproError {
            #expect(e.message.contains("is a directory"))
        }
        let file = dir.appendingPathComponent("ok.toml")
        try Data(minimal.utf8).write(to: file)
        let r = try Recipe.load(path: file.path)
        #expect(r.directory == dir.path)
        #expect(r.lockPath == dir.appendingPathComponent("ok.lock").path)
    }
}

@Suite(.tags(.unit)) struct RecipeErrorTests {
    /// Each case: recipe text, expected `r.toml:LINE:COL:` prefix, a fragment of the message.
    static let cases: [(String, String, String)] = [
        // Unknown keys name the key, the line, the nearest key and the allowed ones.
        (minimal + "\nscirpt = \"x\"", "r.toml:7:1:", "unknown key 'scirpt' in [build]; did you mean 'script'? Allowed: script, env, jobs, user, source-date-epoch"),
        (minimal + "\n[buidl]", "r.toml:7:1:", "unknown table [buidl] in the top level; did you mean [build]?"),
        ("nmae = \"x\"\n" + minimal, "r.toml:1:1:", "unknown key 'nmae' in the top level; did you mean 'name'?"),
        (minimal.replacingOccurrences(of: "debian =", with: "debain ="), "r.toml:3:1:", "unknown key 'debain' in [toolchain]; did you mean 'debian'?"),
        (minimal + "\n[limits]\nmemroy = 1", "r.toml:8:1:", "unknown key 'memroy' in [limits]; did you mean 'memory'?"),
        (minimal + "\n[outputs]\nformat = \"tar\"", "r.toml:8:1:", "unknown key 'format' in [outputs]"),
        (minimal + "\n[inputs.a]\npath = \"x\"\nunpak = true", "r.toml:9:1:", "unknown key 'unpak' in [inputs.a]; did you mean 'unpack'?"),
        // Required parts.
        ("[toolchain]\nhost = true\n[build]\nscript = \"x\"", "r.toml:1:1:", "the top level has no 'name'"),
        ("name = \"x\"\n[build]\nscript = \"x\"", "r.toml:1:1:", "the recipe has no [toolchain]"),
        ("name = \"x\"\n[toolchain]\nhost = true", "r.toml:1:1:", "the recipe has no [build]"),
        ("name = \"x\"\n[toolchain]\nhost = true\n[build]\njobs = 2", "r.toml:4:1:", "[build] has no 'script'"),
        ("name = \"x\"\n[toolchain]\nhost = true\n[build]\nscript = \"  \\n\"", "r.toml:5:10:", "'script' in [build] is empty"),
        // Types.
        ("name = 5\n" + minimal.dropFirst(14), "r.toml:1:8:", "'name' must be a string, not a integer"),
        (minimal + "\njobs = \"4\"", "r.toml:7:8:", "'jobs' in [build] must be an integer, not a string; write jobs = 4"),
        (minimal + "\njobs = 0", "r.toml:7:8:", "'jobs' in [build] must be at least 1"),
        (minimal + "\nuser = \"admin\"", "r.toml:7:8:", "must be \"builder\" (uid 1000) or \"root\" (uid 0)"),
        ("name = \"x\"\ntoolchain = \"bookworm\"\n[build]\nscript = \"x\"", "r.toml:2:13:", "'toolchain' must be a table, not a string"),
        (minimal.replacingOccurrences(of: "\"make\", \"gcc\"", with: "\"make\", 3"), "r.toml:4:21:", "must contain only strings"),
        // Toolchain.
        ("name = \"x\"\n[toolchain]\npackages = [\"gcc\"]\n[build]\nscript = \"x\"", "r.toml:2:1:", "[toolchain] needs debian = \"SUITE\""),
        ("name = \"x\"\n[toolchain]\nhost = true\ndebian = \"bookworm\"\n[build]\nscript = \"x\"", "r.toml:4:10:", "cannot be combined with host = true"),
        ("name = \"x\"\n[toolchain]\nhost = false\n[build]\nscript = \"x\"", "r.toml:3:8:", "host = false but no debian suite"),
        (minimal.replacingOccurrences(of: "\"make\", \"gcc\"", with: "\"make\",\n  \"gcc\",\n  \"make\""), "r.toml:6:3:", "package 'make' is listed twice in [toolchain] packages (first at line 4)"),
        (minimal.replacingOccurrences(of: "\"gcc\"", with: "\"gcc=12\""), "r.toml:4:21:", "'gcc=12' is not a Debian package name"),
        (minimal.replacingOccurrences(of: "\"bookworm\"", with: "\"Bookworm\""), "r.toml:3:10:", "debian suite 'Bookworm' is not valid"),
        // Inputs.
        (minimal + "\n[inputs.a]\nunpack = true", "r.toml:7:1:", "[inputs.a] needs one source"),
        (minimal + "\n[inputs.a]\npath = \"x\"\ngit = \"y\"", "r.toml:9:7:", "[inputs.a] has both 'debian-source' and 'debian-package'".replacingOccurrences(of: "'debian-source' and 'debian-package'", with: "'path' and 'git'")),
        (minimal + "\n[inputs.a]\npath = \"../secret\"", "r.toml:8:8:", "'path' in [inputs.a] \"../secret\" leaves the recipe's directory"),
        (minimal + "\n[inputs.a]\npath = \"src/../../x\"", "r.toml:8:8:", "leaves the recipe's directory"),
        (minimal + "\n[inputs.a]\npath = \"/etc/passwd\"", "r.toml:8:8:", "\"/etc/passwd\" is absolute"),
        (minimal + "\n[inputs.a]\ngit = \"../repo\"\ncommit = \"\(String(repeating: "a", count: 40))\"", "r.toml:8:7:", "leaves the recipe's directory"),
        (minimal + "\n[inputs.a]\ngit = \"repo\"", "r.toml:7:1:", "has git but no commit"),
        (minimal + "\n[inputs.a]\ngit = \"repo\"\ncommit = \"main\"", "r.toml:9:10:", "commit 'main' is not a full commit id"),
        (minimal + "\n[inputs.a]\npath = \"x\"\ncommit = \"\(String(repeating: "a", count: 40))\"", "r.toml:9:10:", "only applies to git inputs"),
        (minimal + "\n[inputs.a]\ndebian-source = \"hello\"", "r.toml:8:17:", "must be \"package=version\""),
        (minimal + "\n[inputs.a]\ndebian-package = \"hello=latest\"", "r.toml:8:18:", "must be \"package=version\""),
        (minimal + "\n[inputs.a]\npath = \"x\"\nsha256 = \"abc\"", "r.toml:9:10:", "sha256 'abc' is not a digest"),
        (minimal + "\n[inputs.a]\npath = \"x\"\nstrip-components = 1", "r.toml:9:20:", "add unpack = true"),
        (minimal + "\n[inputs.a]\ndebian-source = \"a1=1\"\nunpack = true\nstrip-components = 1", "r.toml:10:20:", "does not apply to debian-source"),
        (minimal + "\n[inputs.a]\npath = \"x\"\npatches = true", "r.toml:9:11:", "only works with debian-source"),
        (minimal + "\n[inputs.a]\ndebian-source = \"a1=1\"\npatches = true", "r.toml:9:11:", "needs the source unpacked"),
        (minimal + "\n[inputs.a]\ngit = \"r\"\ncommit = \"\(String(repeating: "a", count: 40))\"\nunpack = true", "r.toml:10:10:", "always checked out as a tree"),
        (minimal + "\n[inputs.\".hidden\"]\npath = \"x\"", "r.toml:7:9:", "input name '.hidden' is not usable as a directory name"),
        (minimal + "\n[inputs.\"a/b\"]\npath = \"x\"", "r.toml:7:9:", "input name 'a/b'"),
        (minimal + "\n[inputs]\na = \"x\"", "r.toml:8:1:", "input 'a' must be a table"),
        // Build.
        (minimal + "\nsource-date-epoch = \"from:src\"", "r.toml:7:21:", "names input 'src', which the recipe does not have"),
        (minimal + "\nsource-date-epoch = -1", "r.toml:7:21:", "must be 0 or more seconds"),
        (minimal + "\nsource-date-epoch = \"yesterday\"", "r.toml:7:21:", "must be an integer or \"from:INPUT\""),
        (minimal + "\nenv = { SOURCE_DATE_EPOCH = \"1\" }", "r.toml:7:9:", "SOURCE_DATE_EPOCH is set by repro"),
        (minimal + "\nenv = { REPRO_OUT = \"/x\" }", "r.toml:7:9:", "REPRO_OUT is set by repro"),
        (minimal + "\nenv = { \"1X\" = \"1\" }", "r.toml:7:9:", "'1X' in [build.env] is not valid"),
        (minimal + "\nenv = { X = 1 }", "r.toml:7:13:", "'X' in [build.env] must be a string"),
        // Limits and outputs.
        (minimal + "\n[limits]\nmemory = \"2GB\"", "r.toml:8:10:", "'memory' in [limits] is not a size"),
        (minimal + "\n[limits]\ntimeout = \"soon\"", "r.toml:8:11:", "'timeout' in [limits] is not a duration"),
        (minimal + "\n[limits]\ncpus = 0", "r.toml:8:8:", "must be a number of CPUs above 0"),
        (minimal + "\n[limits]\npids = true", "r.toml:8:8:", "'pids' in [limits] must be an integer, not a boolean"),
        (minimal + "\n[outputs]\narchive = \"zip\"", "r.toml:8:11:", "must be \"tar\", \"tar.gz\" or \"tar.xz\""),
        (minimal + "\n[outputs]\nname = \"x.tar\"", "r.toml:8:8:", "add archive = \"tar.gz\""),
        (minimal + "\n[outputs]\narchive = \"tar\"\nname = \"../x.tar\"", "r.toml:9:8:", "must be a plain file name"),
        // TOML errors come through with their positions.
        (minimal + "\nscript = \"again\"", "r.toml:7:1:", "duplicate key 'script' (first defined at line 6)"),
        ("name = \"x\"\n[toolchain\n", "r.toml:2:11:", "expected ']' to close the table header"),
    ]

    @Test(arguments: cases.indices) func errorsNameFileAndLine(_ i: Int) {
        let (doc, prefix, fragment) = Self.cases[i]
        let message = recipeError(doc)
        #expect(message != nil, "expected an error for case \(i)")
        guard let message else { return }
        #expect(message.hasPrefix(prefix + " "), "case \(i): \(message)")
        #expect(message.contains(fragment), "case \(i): \(message)")
    }
}

/// Issue 13: `patches = true` without patch(1) in the toolchain fails at lock time with
/// what to add (the build failed with "/bin/sh: 4: patch: not found").
@Suite(.tags(.unit)) struct PatchToolTests {
    static let recipe = """
    name = "p"
    [toolchain]
    debian = "bookworm"
    packages = ["gcc"]
    [inputs.src]
    debian-source = "hello=2.10-3"
    unpack = true
    patches = true
    [build]
    script = "true"
    """

    @Test func patchesNeedPatchInTheToolchain() throws {
        let r = try Recipe.parse(Self.recipe, file: "p.toml")
        do {
            try LockChecks.patchTool(r, packages: ["gcc", "dash"], hostHasPatch: true)
            Issue.record("no error")
        } catch let e as ReproError {
            #expect(e.code == .invalidInput)
            #expect(e.message.hasPrefix("p.toml:5:") && e.message.contains("add \"patch\" to [toolchain] packages"), "\(e.message)")
        }
        try LockChecks.patchTool(r, packages: ["gcc", "patch"], hostHasPatch: false)
        #expect(throws: ReproError.self) { try LockChecks.patchTool(r, packages: nil, hostHasPatch: false) }
        let plain = try Recipe.parse(Self.recipe.replacingOccurrences(of: "patches = true\n", with: ""), file: "p.toml")
        try LockChecks.patchTool(plain, packages: [], hostHasPatch: false)
    }
}
