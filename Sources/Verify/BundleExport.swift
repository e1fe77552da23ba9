import Build
import Fetch
import Core
import Foundation
import Recipe
import Store

/// `repro bundle export`: finds a recorded build in the store and writes its bundle.
public enum BundleExport {
    /// - Parameters:
    ///   - build: a recipe file (its latest build in the store) or an action or tree
    ///     digest (`sha256:...`), which then needs `recipe`: the store keeps a build's
    ///     digests, not its recipe text.
    ///   - attachments: extra entries (provenance, SBOM) by name.
    /// - Throws: `ReproError(.invalidInput)` when the build is not in the store, the
    ///   recipe does not match it, its lock is stale, or it has git inputs.
    public static func export(_ build: String, recipe recipeFile: String?, store: Store, policy: String,
                              reproVersion: String, withOutputs: Bool, to path: String,
                              attachments: (_ action: Digest, _ tree: Digest) throws -> [String: BundleFile.Entry] = { _, _ in [:] })
        throws -> BundleInfo {
        let isDigest = build.hasPrefix("sha256:") || (build.count == 64 && build.allSatisfy(\.isHexDigit))
        let records = try store.builds().filter { $0.tree != nil }
        var wanted: Digest?
        if isDigest {
            wanted = try Digest.parse(build.hasPrefix("sha256:") ? build : "sha256:" + build)
            guard records.contains(where: { $0.action.hex == wanted!.hex || $0.tree?.hex == wanted!.hex }) else {
                throw ReproError(.invalidInput, "no finished build with action or tree \(wanted!) in \(store.root)")
            }
            guard recipeFile != nil else {
                throw ReproError(.invalidInput, "\(build) names a build, but the store keeps only its recipe's digest: pass the recipe file it was built from with --recipe FILE")
            }
        } else if recipeFile != nil {
            throw ReproError(.invalidInput, "--recipe goes with a digest; \(build) is already a recipe file")
        }
        let recipe = try Recipe.load(path: recipeFile ?? build)
        guard FileManager.default.fileExists(atPath: recipe.lockPath) else {
            throw ReproError(.invalidInput, "\(recipe.lockPath) does not exist; the bundle needs the lock the build used")
        }
        let lock = try LockFile.read(path: recipe.lockPath)
        let stale = lock.changes(for: recipe, contentDigests: try Locker.pathDigests(recipe)).filter(\.affectsPins)
        if !stale.isEmpty {
            throw ReproError(.invalidInput, "\(recipe.lockPath) is stale (\(stale.map(\.message).joined(separator: "; "))): it is not what the build used; rebuild first")
        }
        // The build of this recipe *and* lock: the same recipe text with other inputs
        // is another action.
        let action = try Builder.actionDigest(recipe: recipe, lock: lock, toolchain: Builder.toolchainID(of: lock), policy: policy)
        let mine = records.filter { $0.action.hex == action.hex }
        let record: BuildRecord
        if let wanted {
            guard let r = mine.last(where: { $0.action.hex == wanted.hex || $0.tree?.hex == wanted.hex }) else {
                throw ReproError(.invalidInput, "build \(wanted) was not made from \(recipe.file) and its lock \(recipe.lockPath) (action \(action)) with sandbox policy \(policy)")
            }
            record = r
        } else {
            guard let r = mine.last else {
                throw ReproError(.invalidInput, "\(build) with its lock has no finished build in \(store.root) (action \(action)); run 'repro build \(build)' first")
            }
            record = r
        }
        let tree = record.tree!
        let manifest = try store.manifest(tree: tree)

        var entries: [String: BundleFile.Entry] = [:]
        let name = (recipe.file as NSString).lastPathComponent
        let stem = name.hasSuffix(".toml") ? String(name.dropLast(5)) : name
        entries["recipe/\(stem).toml"] = .file(recipe.file, executable: false)
        entries["recipe/\(stem).lock"] = .file(recipe.lockPath, executable: false)
        for input in recipe.inputs {
            switch input.source {
            case let .path(rel):
                try addTree(recipe.directory + "/" + rel, as: "recipe/" + rel, into: &entries)
            case let .git(rel, commit):
                // The commit's objects only (docs/reproducibility.md, "Bundles").
                let pack = try BundleGit.pack(repo: recipe.directory + "/" + rel, commit: commit,
                                              what: "input '\(input.name)' (\(recipe.file):\(input.line))")
                entries["recipe/\(rel)\(BundleGit.suffix)/\(commit).pack"] = .data(pack)
            default:
                break
            }
        }
        entries["manifest"] = .data(manifest.data)
        if withOutputs {
            entries["outputs"] = .directory
            for e in manifest.entries {
                switch e.kind {
                case .file: entries["outputs/" + e.path] = .file(try store.path(for: e.digest!), executable: e.mode == 0o755)
                case .dir: entries["outputs/" + e.path] = .directory
                case .symlink: entries["outputs/" + e.path] = .symlink(e.target ?? "")
                }
            }
        }
        for (k, v) in try attachments(record.action, tree) { entries[k] = v }
        let log = try store.lookupAction(record.action).flatMap { $0.tree.hex == tree.hex ? $0.log : nil }
        var info = BundleInfo(recipe: stem + ".toml", recipeDigest: recipe.digest.description,
                              actionDigest: "sha256:" + record.action.hex, treeDigest: tree.description,
                              toolchain: Builder.toolchainID(of: lock), policy: policy, logDigest: log?.description,
                              reproVersion: reproVersion, outputs: withOutputs, files: manifest.files, bytes: manifest.bytes)
        info.format = BundleFile.format
        entries["bundle.json"] = .data(try CanonicalJSON.encode(info, pretty: true))
        var epoch: Int64 = 0
        if case let .seconds(s) = recipe.build.sourceDateEpoch { epoch = s }
        try BundleFile.write(entries, to: path, epoch: epoch)
        return info
    }

    /// A path input, file or directory, under `name`.
    static func addTree(_ host: String, as name: String, into entries: inout [String: BundleFile.Entry]) throws {
        var st = stat()
        try Syscall.check("lstat \(host)") { lstat(host, &st) }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            entries[name] = .directory
            for child in try FileManager.default.contentsOfDirectory(atPath: host) {
                try addTree(host + "/" + child, as: name + "/" + child, into: &entries)
            }
        case S_IFLNK:
            entries[name] = .symlink(try FileManager.default.destinationOfSymbolicLink(atPath: host))
        case S_IFREG:
            entries[name] = .file(host, executable: st.st_mode & 0o111 != 0)
        default:
            throw ReproError(.invalidInput, "\(host): not a file, directory or symbolic link; a bundle cannot carry it")
        }
    }
}
