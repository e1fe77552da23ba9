import ArgumentParser
import Build
import Core
import Diff
import Foundation
import Recipe
import Sandbox
import Store
import Verify

/// `repro verify RECIPE`: is the build reproducible, and if not, what leaks into it.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Build a recipe several times from scratch with varied environments and compare the output trees.",
        discussion: """
        The first build is made exactly as 'repro build' makes it; every other build varies what \
        can leak into outputs (--variations, default all): \(Variation.allCases.map(\.rawValue).joined(separator: ", ")). \
        No build uses or fills the action cache. --find-culprit then varies one setting at a time \
        (bisecting groups) and names the variation(s) behind each differing file. \
        --against BUNDLE rebuilds from a bundle's recipe and lock (repro bundle export) and compares \
        with the bundle's tree, like guix challenge. \
        Exit 0 every tree is the same; 3 not reproducible (the differing files are listed; a build \
        that fails only when varied counts as a difference); 1 the unvaried build failed; 2 bad input; \
        4 the bundle is corrupt or its provenance does not verify (--key). docs/reproducibility.md.
        """
    )

    @Argument(help: "The recipe file (not with --against).")
    var recipe: String?

    @Option(help: "Number of builds (default 2; 1 with --against).")
    var runs: Int?

    @Option(help: "Variations: all, none, or a comma-separated list; -NAME removes one (all,-aslr). Default all (none with --against).")
    var variations: String?

    @Flag(name: .customLong("find-culprit"), help: "When the trees differ, find which variation changes which file.")
    var findCulprit = false

    @Option(help: "Rebuild from this bundle (repro bundle export) and compare with its tree.")
    var against: String?

    @Option(help: "With --against: check the bundle's signed provenance with this PEM public key first (exit 4 when it does not verify).")
    var key: String?

    @Flag(help: "Keep each build's output tree (the directory is printed).")
    var keep = false

    @Flag(help: "Fail instead of fetching anything the store lacks.")
    var offline = false

    @Flag(name: .customLong("allow-degrade"), help: "Run even when a recipe limit cannot be enforced on this host.")
    var allowDegrade = false

    @Flag(help: "Show the build logs as they run.")
    var log = false

    @Option(help: "Store directory (default $REPRO_HOME or ~/.cache/repro).")
    var store: String?

    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    func validate() throws {
        if against == nil && recipe == nil { throw ValidationError("give a recipe file, or --against BUNDLE") }
        if against != nil && recipe != nil { throw ValidationError("give either a recipe file or --against BUNDLE, not both") }
        if let runs, runs < (against == nil ? 2 : 1) {
            throw ValidationError("--runs must be at least \(against == nil ? "2 (the first build is the reference)" : "1")")
        }
        if let runs, runs > 100 { throw ValidationError("--runs: at most 100") }
        if key != nil && against == nil { throw ValidationError("--key checks a bundle's provenance; it goes with --against BUNDLE") }
        if findCulprit && against != nil {
            throw ValidationError("--find-culprit compares local builds; run 'repro verify RECIPE --find-culprit' on the bundle's recipe")
        }
    }

    func run() throws {
        let reproducible = try { () -> Bool in
            let st = try Store(root: store)
            let scratch = st.root + "/tmp/verify-\(getpid())-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }

            var check = RebuildCheck(runs: runs ?? (against == nil ? 2 : 1),
                                     variations: try Variation.parseList(variations ?? (against == nil ? "all" : "none")))
            check.findCulprit = findCulprit
            let r: Recipe
            let lock: LockFile
            var provenance: String?
            if let against {
                let contents = try BundleGit.read(against, into: scratch + "/bundle")
                if let key { provenance = try BundleProvenance.verify(contents, bundleFile: against, keyPath: key) }
                r = try Recipe.load(path: contents.recipePath)
                lock = try LockFile.read(path: r.lockPath)
                check.against = (against, contents.manifest)
            } else {
                r = try Recipe.load(path: recipe!)
                do { lock = try LockFile.read(path: r.lockPath) } catch let e as ReproError where !FileManager.default.fileExists(atPath: r.lockPath) {
                    throw ReproError(.invalidInput, "\(r.lockPath) does not exist; run 'repro lock \(recipe!)' first", cause: e)
                }
            }
            var rebuilder = Rebuilder(builder: Builder(store: st, runner: try SandboxRunner()), recipe: r, lock: lock,
                                      host: VariationHost(scratch: scratch))
            rebuilder.offline = offline
            rebuilder.allowDegrade = allowDegrade
            rebuilder.showLog = log
            rebuilder.progress = isatty(2) != 0 || log
            if keep {
                let dir = st.root + "/verify/\(r.name)-\(Int(Date().timeIntervalSince1970))-\(getpid())"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                rebuilder.keepDir = dir
            }
            var report = try check.run(&rebuilder)
            report.provenance = provenance
            if against != nil { report.recipe = r.file.replacingOccurrences(of: scratch + "/bundle/", with: "") }
            if json { try printJSON(report) } else { FileHandle.standardOutput.write(Data(report.text.utf8)) }
            return report.reproducible
        }()
        if !reproducible { throw ExitCode(ExitStatus.notReproducible) }
    }
}
