import Core
import Foundation
import Store

/// A `git` input: the tree of one commit of a local repository, exported with
/// `git archive` (no .git, no working-tree changes) and pinned by its tree digest (what
/// `repro hash` prints), so the pin does not depend on git's tar format.
enum GitInput {
    /// Exports `commit` of `repo` into `dir` (created) and returns the tree digest.
    /// - Throws: `.invalidInput` naming `what` when the repository or commit is missing.
    static func export(repo: String, commit: String, into dir: String, scratch: String, what: String) throws -> Digest {
        guard FileManager.default.fileExists(atPath: repo) else {
            throw ReproError(.invalidInput, "\(what): repository \(repo) does not exist")
        }
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let tar = scratch + "/git-\(commit.prefix(12)).tar"
        try git(["-C", repo, "cat-file", "-e", "\(commit)^{commit}"], what: "\(what): commit \(commit) is not in \(repo)")
        try git(["-C", repo, "archive", "--format=tar", "-o", tar, commit], what: "\(what): git archive \(commit)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Extract.archive(tar, into: dir, options: ExtractOptions())
        return try TreeHasher.manifest(of: dir).treeDigest
    }

    static func git(_ args: [String], what: String) throws {
        _ = try Git.run(args, what: what)
    }
}

/// Runs `/usr/bin/git` for repro: without the user's global and system configuration
/// (which could change what git writes, e.g. pack compression), failing with what git
/// said. Shared by git inputs (here) and bundles (Verify).
public enum Git {
    /// git's stdout.
    /// - Throws: `ReproError(.invalidInput)` starting with `what` when git is missing or fails.
    public static func run(_ args: [String], stdin: Data? = nil, what: String) throws -> Data {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git") else {
            throw ReproError(.invalidInput, "\(what): cannot run git (apt-get install git)")
        }
        let out = try Command(executable: "/usr/bin/git", arguments: args,
                              environment: ["GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"],
                              stdin: stdin).run()
        guard out.status == 0 else {
            let e = out.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw ReproError(.invalidInput, "\(what)\(e.isEmpty ? "" : ": " + e)")
        }
        return out.stdoutData
    }
}
