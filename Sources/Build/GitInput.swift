import Core
import Fetch
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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw ReproError(.invalidInput, "\(what): cannot run git (apt-get install git)")
        }
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ReproError(.invalidInput, "\(what)\(e.isEmpty ? "" : ": " + e.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}
