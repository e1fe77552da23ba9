import Fetch
import Core
import Foundation
import Store

/// Git inputs in bundles: the objects of the pinned commit (`git pack-objects` of
/// `rev-list --objects COMMIT`, nothing else of the repository) travel as
/// `recipe/<path>.repro-git/<commit>.pack`; reading the bundle turns that back into a
/// repository at `recipe/<path>` holding the commit, which is all a build needs (it
/// exports the commit's tree with `git archive`). The user's repository is only read.
public enum BundleGit {
    /// `BundleFile.read`, then the git inputs' packs made into repositories again: what a
    /// rebuild from the bundle needs.
    public static func read(_ path: String, into dir: String) throws -> BundleContents {
        let contents = try BundleFile.read(path, into: dir)
        try unpack(recipeDir: dir + "/recipe", bundle: path)
        return contents
    }

    static let suffix = ".repro-git"

    /// The pack of `commit` and everything it reaches.
    static func pack(repo: String, commit: String, what: String) throws -> Data {
        let objects = try Git.run(["-C", repo, "rev-list", "--objects", commit], what: "\(what): commit \(commit) of \(repo)")
        // One thread: the same objects give the same pack bytes (deterministic bundles).
        return try Git.run(["-C", repo, "-c", "pack.threads=1", "pack-objects", "--stdout", "-q"], stdin: objects,
                       what: "\(what): packing commit \(commit) of \(repo)")
    }

    /// Recreates the repositories of the packs found under `recipeDir`.
    static func unpack(recipeDir: String, bundle: String) throws {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: recipeDir) else { return }
        var packs: [(repo: String, commit: String, pack: String)] = []
        for case let rel as String in walker where rel.hasSuffix(".pack") {
            let parent = (rel as NSString).deletingLastPathComponent
            guard parent.hasSuffix(suffix) else { continue }
            let commit = ((rel as NSString).lastPathComponent as NSString).deletingPathExtension
            guard commit.count == 40 || commit.count == 64, commit.allSatisfy(\.isHexDigit) else {
                throw ReproError(.invalidInput, "\(bundle): \(rel) does not name a git commit")
            }
            packs.append((recipeDir + "/" + String(parent.dropLast(suffix.count)), commit, recipeDir + "/" + rel))
        }
        for p in packs {
            let what = "\(bundle): git input \(p.repo)"
            _ = try Git.run(["init", "-q", p.repo], what: what)
            _ = try Git.run(["-C", p.repo, "index-pack", "--stdin"], stdin: try Data(contentsOf: URL(fileURLWithPath: p.pack)), what: what)
            _ = try Git.run(["-C", p.repo, "update-ref", "refs/repro/pinned", p.commit], what: "\(what): commit \(p.commit) is not in its pack")
        }
    }
}
