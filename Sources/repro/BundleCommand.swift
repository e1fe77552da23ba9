import ArgumentParser
import Core
import Diff
import Foundation
import Sandbox
import Store
import Verify

/// `repro bundle`: one deterministic archive that carries a build to another host.
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Carry a build between hosts: recipe, lock, manifest, provenance and optionally the outputs in one archive.",
        discussion: "On the other host, 'repro verify --against FILE' rebuilds from it and compares; 'repro diff FILE1 FILE2' compares two hosts' bundles. Format: docs/reproducibility.md, \"Bundles\".",
        subcommands: [Export.self, Show.self]
    )

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the bundle of a recorded build.",
            discussion: "BUILD is a recipe file (its latest finished build in the store) or an action or tree digest (then --recipe names the recipe it was built from). A name ending .gz or .tgz gives a gzip-compressed bundle. The same build gives the same bytes. Exit 0 ok; 2 no such build, a stale lock, or bad input."
        )

        @Argument(help: "A recipe file, or an action or tree digest (sha256:...).")
        var build: String

        @Option(name: [.short, .customLong("output")], help: "The bundle file to write (.tar, .tar.gz, .tgz).")
        var output: String

        @Flag(name: .customLong("with-outputs"), help: "Also carry the output tree (outputs/...).")
        var withOutputs = false

        @Option(help: "With a digest: the recipe file the build was made from.")
        var recipe: String?

        @Option(help: "Store directory (default $REPRO_HOME or ~/.cache/repro).")
        var store: String?

        @Flag(help: "Print bundle.json on stdout.")
        var json = false

        func run() throws {
            do {
                let st = try Store(root: store)
                let policy = try SandboxRunner().policyVersion()
                let info = try BundleExport.export(build, recipe: recipe, store: st, policy: policy,
                                                   reproVersion: Repro.version, withOutputs: withOutputs, to: output,
                                                   attachments: { action, tree in try BundleAttachments.entries(store: st, action: action, tree: tree) })
                if json { try printJSON(info) } else {
                    print(output)
                    warn("bundle of \(info.recipe): tree \(info.treeDigest), \(info.files) files\(withOutputs ? " (outputs included)" : "")")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a bundle and print what it carries.",
            discussion: "Exit 0 ok; 2 not a bundle, an unknown format or an unsafe entry; 4 the manifest or outputs do not match tree_digest."
        )

        @Argument(help: "The bundle file.")
        var file: String

        @Flag(help: "Print bundle.json on stdout.")
        var json = false

        func run() throws {
            do {
                let tmp = NSTemporaryDirectory() + "repro-bundle-\(getpid())-\(UUID().uuidString.prefix(8))"
                defer { try? FileManager.default.removeItem(atPath: tmp) }
                let c = try BundleGit.read(file, into: tmp)
                if json { try printJSON(c.info) } else {
                    let i = c.info
                    print("""
                    recipe      \(i.recipe) \(i.recipeDigest)
                    action      \(i.actionDigest)
                    tree        \(i.treeDigest) (\(i.files) files, \(i.bytes) bytes)
                    toolchain   \(i.toolchain)
                    policy      \(i.policy)
                    log         \(i.logDigest ?? "-")
                    outputs     \(i.outputs ? "included" : "not included")
                    provenance  \(c.provenancePath == nil ? "none" : "included")
                    sbom        \(c.sbomPath == nil ? "none" : "included")
                    made by     repro \(i.reproVersion)
                    """)
                }
            }
        }
    }
}
