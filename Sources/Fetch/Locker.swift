import Core
import Foundation
import Recipe
import Store

/// `repro lock`: resolves a recipe's toolchain closure and pins every input, through
/// the store's private apt state (`$REPRO_HOME/apt`; the system's apt is never used).
public struct Locker: Sendable {
    public let store: Store
    public let progress: Bool

    public init(store: Store, progress: Bool) {
        self.store = store
        self.progress = progress
    }

    /// The private apt state, updated on first use: `$REPRO_APT_STATE` when set (one
    /// state, with its downloaded .debs, shared by several stores: CI, the tests), else
    /// the store's own.
    public func apt(update: Bool = false) throws -> AptState {
        let apt = try AptState(directory: Self.sharedAptState ?? store.root + "/apt")
        if update || !apt.hasLists { try apt.update(progress: progress) }
        return apt
    }

    /// `$REPRO_APT_STATE`, when set and not empty.
    static var sharedAptState: String? {
        guard let dir = ProcessInfo.processInfo.environment["REPRO_APT_STATE"], !dir.isEmpty else { return nil }
        return dir
    }

    /// A fresh lock for `recipe`.
    /// - Throws: `.invalidInput` naming the input or package apt does not know.
    public func lock(_ recipe: Recipe, update: Bool = false) throws -> LockFile {
        var apt: AptState?
        func aptState() throws -> AptState {
            if let apt { return apt }
            let a = try self.apt(update: update)
            apt = a
            return a
        }
        let toolchain: LockFile.Toolchain
        switch recipe.toolchain {
        case .host:
            toolchain = .host
        case let .debian(suite, packages, architecture):
            let a = try aptState()
            if let architecture, architecture != a.architecture {
                throw ReproError(.invalidInput, "\(recipe.file): toolchain architecture \(architecture) differs from this host's \(a.architecture); cross toolchains are not supported")
            }
            let pins = try a.resolve(packages: packages, includeEssential: true)
            toolchain = LockFile.Toolchain(
                kind: "debian", suite: suite, architecture: a.architecture, snapshot: nil, requested: packages.sorted(),
                packages: pins.map(LockFile.Package.init).sorted())
        }
        try LockChecks.patchTool(recipe, packages: toolchain.kind == "debian" ? toolchain.packages.map(\.name) : nil,
                                 hostHasPatch: access("/usr/bin/patch", X_OK) == 0)
        var inputs: [String: LockFile.Input] = [:]
        for input in recipe.inputs {
            inputs[input.name] = try pin(input, recipe: recipe, apt: aptState)
        }
        var lock = LockFile(recipe: recipe.digest, toolchain: toolchain, inputs: inputs)
        // The test root: the toolchain's packages and the test's resolved as one closure,
        // so the versions agree with the build's wherever both need a package.
        if let test = recipe.test, !test.packages.isEmpty, case let .debian(_, packages, _) = recipe.toolchain {
            let pins = try aptState().resolve(packages: packages + test.packages, includeEssential: true)
            lock.test = LockFile.TestToolchain(requested: test.packages.sorted(),
                                               packages: pins.map(LockFile.Package.init).sorted())
        }
        return lock
    }

    func pin(_ input: Recipe.Input, recipe: Recipe, apt: () throws -> AptState) throws -> LockFile.Input {
        switch input.source {
        case let .debianSource(package, version):
            let files = try apt().sourceFiles(package: package, version: version)
            guard let dsc = files.first(where: { $0.name.hasSuffix(".dsc") }) else {
                throw ReproError(.invalidInput, "\(recipe.file):\(input.line): source package \(input.spec) has no .dsc")
            }
            return LockFile.Input(kind: input.kind, spec: input.spec, sha256: dsc.sha256, size: dsc.size,
                                  files: files.map { LockFile.File(name: $0.name, sha256: $0.sha256, size: $0.size) }.sorted())
        case let .debianPackage(package, version):
            guard let pin = try apt().pins([(package, version)]).first else {
                throw ReproError(.invalidInput, "\(recipe.file):\(input.line): package \(input.spec) not found")
            }
            return LockFile.Input(kind: input.kind, spec: input.spec, sha256: pin.sha256, size: pin.size,
                                  files: [LockFile.File(name: pin.fileName, sha256: pin.sha256, size: pin.size)])
        case let .path(rel):
            let d = try Self.contentDigest(recipe.directory + "/" + rel, recipe: recipe, input: input)
            return LockFile.Input(kind: input.kind, spec: input.spec, sha256: d.hex, size: d.size)
        case let .git(rel, commit):
            let tmp = store.root + "/tmp/git-\(getpid())-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            let d = try GitInput.export(repo: recipe.directory + "/" + rel, commit: commit, into: tmp + "/tree",
                                        scratch: tmp, what: "\(recipe.file):\(input.line): input '\(input.name)'")
            return LockFile.Input(kind: input.kind, spec: input.spec, sha256: d.hex, size: d.size, commit: commit)
        }
    }

    /// A file's sha256, or a directory's tree digest (what `repro hash` prints).
    static func contentDigest(_ path: String, recipe: Recipe, input: Recipe.Input) throws -> Digest {
        if case let .path(rel) = input.source {
            _ = try PathInput.check(directory: recipe.directory, relative: rel, what: "\(recipe.file):\(input.line): input '\(input.name)'")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ReproError(.invalidInput, "\(recipe.file):\(input.line): input '\(input.name)': \(path) does not exist")
        }
        if isDir.boolValue { return try TreeHasher.manifest(of: path).treeDigest }
        return try Digest.ofFile(path)
    }

    /// The current content digests of the recipe's path inputs, for staleness checks.
    public static func pathDigests(_ recipe: Recipe) throws -> [String: Digest] {
        var out: [String: Digest] = [:]
        for input in recipe.inputs {
            if case let .path(rel) = input.source {
                out[input.name] = try contentDigest(recipe.directory + "/" + rel, recipe: recipe, input: input)
            }
        }
        return out
    }
}
