import ArgumentParser
import Core
import Diff
import Foundation
import Verify

/// `repro diff A B`: which files differ between two output trees, and where inside them.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two output trees, manifests, store digests or bundles, down to archive members and ELF sections.",
        discussion: """
        A and B are each an output directory, a manifest file (repro hash DIR --manifest), \
        a tree digest sha256:... in the store, or a bundle (repro bundle export); two plain \
        files are compared with each other. Changed files are compared by content: archives \
        (tar with any compression, ar/.deb, zip/jar, recognised by content) member by member \
        and recursively, ELF files section by section, text as a bounded unified diff. \
        A side without contents (a manifest, a bundle without outputs) gives digests only. \
        Exit 0 the same (or equal within --numeric-tolerance); 3 different; 2 bad input. \
        docs/reproducibility.md, "Reading a diff", documents the output and the JSON schema.
        """
    )

    @Argument(help: "The first side (A).")
    var a: String

    @Argument(help: "The second side (B).")
    var b: String

    @Option(name: .customLong("numeric-tolerance"),
            help: ArgumentHelp("Numbers in text, CSV and JSON within |a-b| <= T*max(1,|a|,|b|) count as equal (e.g. 1e-10).", valueName: "T"))
    var numericTolerance: Double?

    @Option(name: .customLong("max-diff-lines"), help: ArgumentHelp("Lines of unified diff shown per text file.", valueName: "N"))
    var maxDiffLines = 200

    @Flag(help: "Also run diffoscope on each changed file (apt-get install diffoscope).")
    var diffoscope = false

    @Option(help: ArgumentHelp("Store directory for sha256:... sides (default $REPRO_HOME or ~/.cache/repro).", valueName: "DIR"))
    var store: String?

    @Flag(help: "Print the report as JSON (schema repro-diff-1) on stdout.")
    var json = false

    func validate() throws {
        if let t = numericTolerance, !(t >= 0 && t.isFinite) {
            throw ValidationError("--numeric-tolerance: '\(t)' must be a finite number >= 0, e.g. 1e-10")
        }
        guard maxDiffLines > 0 else { throw ValidationError("--max-diff-lines must be at least 1") }
    }

    func run() throws {
        let equal: Bool = try {
            var options = DiffOptions(numericTolerance: numericTolerance)
            options.maxDiffLines = maxDiffLines
            if diffoscope { options.diffoscope = try Diffoscope.locate() }
            let scratch = NSTemporaryDirectory() + "repro-diff-\(getpid())-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let sideA = try DiffSource.open(a, side: "A", store: store, scratch: scratch + "/a")
            let sideB = try DiffSource.open(b, side: "B", store: store, scratch: scratch + "/b")
            let report = try Diff.compare(sideA, sideB, options: options)
            if json {
                try printJSON(report)
            } else {
                FileHandle.standardOutput.write(Data(DiffRender.text(report).utf8))
            }
            return report.equal
        }()
        if !equal { throw ExitCode(ExitStatus.notReproducible) }
    }
}
