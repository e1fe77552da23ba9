import Core
import Foundation
import Recipe
import Store

/// Puts a build's pinned inputs in the store (fetching what it lacks, verified against
/// the lock) and lays them out under the work directory's `src/NAME`.
public struct InputStager {
    let store: Store
    let offline: Bool
    let progress: Bool
    let apt: () throws -> AptState

    public init(store: Store, offline: Bool, progress: Bool, apt: @escaping () throws -> AptState) {
        self.store = store; self.offline = offline; self.progress = progress; self.apt = apt
    }

    /// The store path of a pinned file, fetching it with `fetch` into `tmp` when the
    /// store lacks it. Offline, a missing file is an error naming it.
    func ensure(_ digest: Digest, name: String, input: String, tmp: String,
                fetch: (String) throws -> String) throws -> String {
        if store.contains(digest) { return try store.path(for: digest) }
        if offline {
            throw ReproError(.invalidInput, "--offline: \(input): \(name) (\(digest)) is not in the store; run once without --offline, or import a store export that has it")
        }
        let path = try fetch(tmp)
        let got = try store.put(file: path)
        guard got.hex == digest.hex else {
            throw ReproError(.verificationFailed, "input \(input): \(name): expected \(digest), got \(got)")
        }
        return try store.path(for: got)
    }

    /// The verified .deb files of `pins`, from the store or apt.
    public func debs(_ pins: [DebPin], tmp: String) throws -> [ToolchainRoot.Input] {
        let missing = pins.filter { !store.contains($0.digest) }
        if !missing.isEmpty {
            if offline {
                throw ReproError(.invalidInput, "--offline: \(missing.count) toolchain packages are not in the store (first: \(missing[0].spec)); run once without --offline")
            }
            let paths = try apt().download(missing, to: downloads(tmp) + "/debs", progress: progress)
            for (pin, path) in zip(missing, paths) {
                let got = try store.put(file: path)
                guard got.hex == pin.sha256 else {
                    throw ReproError(.verificationFailed, "toolchain package \(pin.spec): expected sha256:\(pin.sha256), got \(got)")
                }
            }
        }
        return try pins.map { ToolchainRoot.Input(pin: $0, path: try store.path(for: $0.digest)) }
    }

    /// Where downloads go: a shared apt state (`$REPRO_APT_STATE`) keeps them for the
    /// next store (apt verifies a kept file against its pin before reusing it);
    /// otherwise `tmp`, as the store keeps the verified blob.
    /// Where `debs` has apt download the toolchain packages (progress displays watch it).
    public func debDirectory(tmp: String) -> String { downloads(tmp) + "/debs" }

    func downloads(_ tmp: String) -> String {
        Locker.sharedAptState.map { $0 + "/downloads" } ?? tmp
    }

    /// Stages one input into `src/NAME`; returns the patches to apply inside the sandbox.
    public func stage(_ input: Recipe.Input, pin: LockFile.Input, recipe: Recipe, work: String, tmp: String) throws -> [String] {
        let dest = work + "/src/" + input.name
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        switch input.source {
        case let .debianSource(package, version):
            let files = (pin.files ?? []).map { SourceFile(name: $0.name, size: $0.size, sha256: $0.sha256) }
            let named = tmp + "/src-" + input.name
            try FileManager.default.createDirectory(atPath: named, withIntermediateDirectories: true)
            var paths: [String] = []
            for f in files {
                let stored = try ensure(f.digest, name: f.name, input: input.name, tmp: tmp) { dir in
                    let got = try apt().downloadSource(package: package, version: version, expected: files,
                                                       to: downloads(dir) + "/src-" + package, progress: progress)
                    return got.first { ($0 as NSString).lastPathComponent == f.name } ?? got[0]
                }
                let path = named + "/" + f.name
                try link(stored, path)
                paths.append(path)
            }
            if input.unpack {
                let unpacked = try DebianSource.unpack(paths, into: dest)
                return input.patches ? unpacked.patches : []
            }
            for p in paths { try FileManager.default.copyItem(atPath: p, toPath: dest + "/" + (p as NSString).lastPathComponent) }
        case let .debianPackage(package, version):
            let file = pin.files?.first?.name ?? "\(package)_\(version).deb"
            let stored = try ensure(pin.digest, name: file, input: input.name, tmp: tmp) { dir in
                let p = try apt().pins([(package, version)])
                return try apt().download(p, to: downloads(dir) + "/debs", progress: progress)[0]
            }
            if input.unpack {
                try Extract.deb(stored, into: dest, options: ExtractOptions(absoluteSymlinks: .relativeToRoot))
            } else {
                try FileManager.default.copyItem(atPath: stored, toPath: dest + "/" + file)
            }
        case let .path(rel):
            let src = try PathInput.check(directory: recipe.directory, relative: rel,
                                          what: "\(recipe.file):\(input.line): input '\(input.name)'")
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: src, isDirectory: &isDir) else {
                throw ReproError(.invalidInput, "input '\(input.name)' (\(recipe.file):\(input.line)): \(src) does not exist; restore it or run 'repro lock \(recipe.file)' after changing the recipe")
            }
            if isDir.boolValue {
                try FileManager.default.removeItem(atPath: dest)
                try FileManager.default.copyItem(atPath: src, toPath: dest)
            } else if input.unpack {
                try Extract.archive(src, into: dest, options: ExtractOptions(stripComponents: input.stripComponents))
            } else {
                try FileManager.default.copyItem(atPath: src, toPath: dest + "/" + (src as NSString).lastPathComponent)
            }
        case let .git(rel, commit):
            try FileManager.default.removeItem(atPath: dest)
            let d = try GitInput.export(repo: recipe.directory + "/" + rel, commit: commit, into: dest, scratch: tmp,
                                        what: "\(recipe.file):\(input.line): input '\(input.name)'")
            guard d.hex == pin.sha256 else {
                throw ReproError(.verificationFailed, "input \(input.name): git commit \(commit) gives tree sha256:\(d.hex), the lock says sha256:\(pin.sha256)")
            }
        }
        return []
    }

    /// A hard link (same filesystem), else a copy. Only for staging outside the sandbox's
    /// view: a blob linked into /build could be changed by the build, so what lands
    /// there is always a copy.
    func link(_ from: String, _ to: String) throws {
        // `to` may already hold the file: apt downloads a source package into
        // tmp/src-PACKAGE, the same folder as tmp/src-INPUT when the input is named
        // after its package (a fresh store: hello, cjson).
        if Glibc.unlink(to) != 0 && errno != ENOENT {
            throw ReproError(.system, "unlink \(to): \(String(cString: strerror(errno)))")
        }
        if Glibc.link(from, to) == 0 { return }
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }
}
