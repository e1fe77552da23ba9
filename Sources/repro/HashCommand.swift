import ArgumentParser
import Core
import Foundation
import Store

/// `repro hash DIR`: the tree digest of a directory (docs/store.md, "Tree digest").
struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the tree digest of a directory (sha256 of its canonical manifest).",
        discussion: """
        Files are hashed in parallel across cores. Directories, regular files and \
        symbolic links are recorded with normalised modes; devices, fifos and sockets are \
        bad input (exit 2). docs/store.md shows how to recompute the digest with coreutils.
        """
    )

    @Argument(help: "The directory to hash.")
    var dir: String

    @Flag(help: "Print {\"tree_digest\", \"files\", \"bytes\"} (with \"entries\" when --manifest is given).")
    var json = false

    @Flag(help: "Print the canonical manifest.")
    var manifest = false

    struct Output: Encodable {
        var treeDigest: String
        var files: Int
        var bytes: Int64
        var entries: [ManifestEntry]?

        enum CodingKeys: String, CodingKey {
            case treeDigest = "tree_digest"
            case files, bytes, entries
        }
    }

    func run() throws {
        do {
            let m = try TreeHasher.manifest(of: dir)
            if json {
                try printJSON(Output(treeDigest: m.treeDigest.description, files: m.files, bytes: m.bytes,
                                     entries: manifest ? m.entries : nil))
            } else if manifest {
                FileHandle.standardOutput.write(m.data)
            } else {
                print(m.treeDigest)
            }
        }
    }
}
