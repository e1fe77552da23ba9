import Build
import Core
import Diff
import Foundation
import Recipe
import Store

/// One build of `repro verify`.
public struct VerifyRun: Encodable, Sendable {
    /// 1-based, in the order the builds ran.
    public var run: Int
    /// The variations applied (empty: a build exactly as `repro build` makes it).
    public var variations: [String]
    /// nil when the build failed.
    public var treeDigest: String?
    public var files: Int
    public var logDigest: String?
    public var wallSeconds: Double?
    /// Where its outputs were kept (--keep).
    public var out: String?
    /// Why the build failed (a varied build only: an unvaried failure stops verify).
    public var failed: String?

    enum CodingKeys: String, CodingKey {
        case run, variations, treeDigest = "tree_digest", files, logDigest = "log_digest", wallSeconds = "wall_seconds", out, failed
    }
}

/// A path whose entry differs from the reference (the first run, or the bundle).
public struct DifferingFile: Encodable, Sendable, Hashable {
    public var path: String
    /// added, removed, changed, modeChanged, typeChanged, targetChanged (ManifestChange.Kind).
    public var change: String
    /// The runs in which it differs.
    public var runs: [Int]
}

/// Builds a recipe again and again, each time from scratch and without the action cache,
/// with or without variations, and compares the output trees.
public struct Rebuilder {
    public let builder: Builder
    public let recipe: Recipe
    public let lock: LockFile
    public let host: VariationHost
    public var offline = false
    public var allowDegrade = false
    public var showLog = false
    public var progress = false
    /// Keep each run's output tree under this directory (run-N).
    public var keepDir: String?
    /// The pseudo-path under which a varied build that failed is listed and blamed.
    public static let buildFails = "(the build fails)"

    /// Builds done so far (culprit finding reports it).
    public private(set) var builds = 0

    public init(builder: Builder, recipe: Recipe, lock: LockFile, host: VariationHost) {
        self.builder = builder
        self.recipe = recipe
        self.lock = lock
        self.host = host
    }

    /// One unrecorded build with `variations` set as in varied run `variant` (0: none).
    /// - Returns: the run and its manifest; `notes` says what could not be varied.
    public mutating func build(_ variations: [Variation], variant: Int, label: Int, keep: Bool = true) throws
        -> (run: VerifyRun, manifest: Manifest, notes: [String]) {
        var (v, notes) = variations.isEmpty ? (BuildVariant(), [])
            : VariationPlan.variant(variations, run: variant, host: host,
                                    buildsAsRoot: recipe.build.user == .root, fixedJobs: recipe.build.jobs)
        v.names = variations.map(\.rawValue)
        var options = BuildOptions()
        options.noCache = true
        options.variant = v
        options.offline = offline
        options.allowDegrade = allowDegrade
        options.showLog = showLog
        options.progress = progress
        var out: String?
        if keep, let keepDir {
            out = keepDir + "/run-\(label)"
            options.outDir = out
        }
        if progress {
            let what = variations.isEmpty ? "no variations" : v.names.joined(separator: ",")
            FileHandle.standardError.write(Data("repro: verify: \(label > 0 ? "build \(label)" : "culprit search build") with \(what)\n".utf8))
        }
        defer {
            // A variant's own temporary parent (on another filesystem) goes with it.
            if let fs = host.otherFilesystem, let parent = v.tmpParent, parent.hasPrefix(fs + "/"),
               let first = parent.dropFirst(fs.count + 1).split(separator: "/").first {
                try? RemoveTree.remove(fs + "/" + first)
            }
        }
        builds += 1
        let outcome: BuildOutcome
        do {
            outcome = try builder.build(recipe, lock: lock, options: options)
        } catch let e as ReproError where e.code == .failed && !variations.isEmpty {
            // A build that fails only when varied is a finding too: say under what.
            throw ReproError(.failed, "\(label > 0 ? "build \(label)" : "a culprit search build") failed with the variations \(v.names.joined(separator: ",")): \(e.message); leave some out with --variations all,-NAME to narrow it down")
        }
        let manifest = try builder.store.manifest(tree: try Digest.parse(outcome.treeDigest))
        let run = VerifyRun(run: label, variations: v.names, treeDigest: outcome.treeDigest, files: outcome.files,
                            logDigest: outcome.logDigest, wallSeconds: outcome.wallSeconds, out: out, failed: nil)
        return (run, manifest, notes)
    }

    /// Like `build`, but a varied build that fails is returned as a failed run (no
    /// manifest) instead of ending verify: under those variations it does not build.
    public mutating func buildOrFailure(_ variations: [Variation], variant: Int, label: Int, keep: Bool = true) throws
        -> (run: VerifyRun, manifest: Manifest?, notes: [String]) {
        do {
            let r = try build(variations, variant: variant, label: label, keep: keep)
            return (r.run, r.manifest, r.notes)
        } catch let e as ReproError where e.code == .failed && !variations.isEmpty {
            return (VerifyRun(run: label, variations: variations.map(\.rawValue), treeDigest: nil, files: 0, logDigest: nil,
                              wallSeconds: nil, out: nil, failed: e.message), nil, [])
        }
    }

    /// The differences of each of `others` from `reference`, merged by path.
    public static func differences(_ reference: Manifest, _ others: [(run: Int, manifest: Manifest)]) -> [DifferingFile] {
        var byPath: [String: DifferingFile] = [:]
        for (run, m) in others {
            for c in ManifestDiff.compare(reference, m) {
                byPath[c.path, default: DifferingFile(path: c.path, change: c.kind.rawValue, runs: [])].runs.append(run)
            }
        }
        return byPath.values.sorted { Manifest.bytewiseLess($0.path, $1.path) }
    }
}
