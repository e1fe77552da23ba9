import Core
import Foundation

/// A build recipe: what to build it with, from which pinned inputs, and how.
/// `docs/recipes.md` describes the TOML format; `Recipe.load` validates it and names
/// the file and line of every problem.
public struct Recipe: Sendable, Equatable {
    /// The path the recipe was read from, as given (used in messages).
    public var file: String
    /// The directory `path` and `git` inputs are relative to.
    public var directory: String

    public var name: String
    /// Free-form version of what the recipe builds (`2.10`); optional; part of the digest.
    public var version: String?
    public var toolchain: Toolchain
    /// Sorted by name.
    public var inputs: [Input]
    public var build: Build
    public var limits: Limits
    public var outputs: Outputs
    /// The `[test]` step, if any (RecipeTest.swift).
    public var test: Test? = nil

    public enum Toolchain: Sendable, Equatable {
        /// A root assembled from pinned Debian packages: the suite, the recipe's own
        /// packages (sorted; the lock adds the essential base set and the closure), and an
        /// optional architecture (nil: the host's).
        case debian(suite: String, packages: [String], architecture: String?)
        /// The host's /usr, read-only; recorded, not pinned.
        case host
    }

    public struct Input: Sendable, Equatable {
        public enum Source: Sendable, Equatable {
            case debianSource(package: String, version: String)
            case debianPackage(package: String, version: String)
            /// Normalised, relative to the recipe's directory, never escaping it.
            case path(String)
            /// Normalised like `path`; `commit` is a full hex object id.
            case git(path: String, commit: String)
        }

        public var name: String
        public var source: Source
        /// An inline pin (`sha256 = "..."`), checked like the lock's.
        public var sha256: Digest?
        public var unpack: Bool
        public var stripComponents: Int
        /// Apply the Debian patches (debian/patches/series) of a source package.
        public var patches: Bool
        /// The line of `[inputs.NAME]` in the recipe, for messages about this input.
        public var line: Int

        /// Kind as written in the recipe: `debian-source`, `debian-package`, `path`, `git`.
        public var kind: String {
            switch source {
            case .debianSource: "debian-source"
            case .debianPackage: "debian-package"
            case .path: "path"
            case .git: "git"
            }
        }

        /// What the input names, without its pin: `hello=2.10-3`, `src/x`, `repo`.
        public var spec: String {
            switch source {
            case .debianSource(let p, let v), .debianPackage(let p, let v): "\(p)=\(v)"
            case .path(let p): p
            case .git(let p, _): p
            }
        }

        /// The git commit, for git inputs.
        public var commit: String? {
            if case .git(_, let c) = source { c } else { nil }
        }
    }

    public enum User: String, Sendable, Equatable, Codable {
        case builder, root
    }

    public enum SourceDateEpoch: Sendable, Equatable {
        case seconds(Int64)
        /// The date of the newest `debian/changelog` entry of the named input.
        case fromInput(String)
    }

    public struct Build: Sendable, Equatable {
        public var script: String
        public var env: [String: String]
        /// nil: the number of host CPUs (not part of the digest).
        public var jobs: Int?
        public var user: User
        public var sourceDateEpoch: SourceDateEpoch
    }

    /// Resource limits; nil means repro's default for the build step.
    public struct Limits: Sendable, Equatable {
        public var memory: Int64?
        public var pids: Int?
        public var cpus: Double?
        public var cpuTime: Int?
        /// Wall-clock seconds.
        public var timeout: Int?
        public var outputSize: Int64?
        /// Bytes of build log kept in the store (head and tail; the middle is left out).
        public var logSize: Int64?
        /// Total size of /build (the unpacked inputs and everything the build writes there).
        public var buildSize: Int64?

        public init(memory: Int64? = nil, pids: Int? = nil, cpus: Double? = nil, cpuTime: Int? = nil,
                    timeout: Int? = nil, outputSize: Int64? = nil, logSize: Int64? = nil) {
            self.memory = memory; self.pids = pids; self.cpus = cpus
            self.cpuTime = cpuTime; self.timeout = timeout; self.outputSize = outputSize; self.logSize = logSize
        }
    }

    public enum ArchiveFormat: String, Sendable, Equatable, Codable, CaseIterable {
        case tar, tarGz = "tar.gz", tarXz = "tar.xz"
    }

    public struct Outputs: Sendable, Equatable {
        /// nil: /out is kept as a tree, no archive.
        public var archive: ArchiveFormat?
        /// The archive's file name; defaults to `NAME[-VERSION].EXT`.
        public var archiveName: String?
    }

    public func input(named name: String) -> Input? { inputs.first { $0.name == name } }

    /// The lock file next to a recipe: `dir/name.toml` -> `dir/name.lock`.
    public static func lockPath(forRecipeAt path: String) -> String {
        path.hasSuffix(".toml") ? String(path.dropLast(5)) + ".lock" : path + ".lock"
    }

    public var lockPath: String { Self.lockPath(forRecipeAt: file) }

    /// Reads and validates a recipe file.
    /// - Throws: `ReproError(.invalidInput)` naming the file (and line) when it cannot be
    ///   read or is not a valid recipe.
    public static func load(path: String) throws -> Recipe {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                throw ReproError(.invalidInput, isDir.boolValue
                    ? "\(path) is a directory; name the recipe's .toml file"
                    : "\(path) cannot be read; check its permissions")
            }
            throw ReproError(.invalidInput, "\(path): no such recipe file; check the path")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let table = try TOML.parse(data: data, file: path)
        return try RecipeDecoder(file: path).recipe(from: table, directory: directory.isEmpty ? "." : directory)
    }

    /// Parses and validates recipe text (`file` names it in messages).
    public static func parse(_ text: String, file: String, directory: String = ".") throws -> Recipe {
        let table = try TOML.parse(text, file: file)
        return try RecipeDecoder(file: file).recipe(from: table, directory: directory)
    }
}
