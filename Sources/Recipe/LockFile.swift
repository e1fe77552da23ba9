import Core
import Foundation

/// `recipe.lock`: what `repro lock` resolved for a recipe, so that every host builds from
/// the same bits. Pretty canonical JSON (sorted keys, two-space indent, lists sorted), so
/// two machines that resolve the same things write byte-identical files.
/// `docs/recipes.md` describes every field.
public struct LockFile: Sendable, Equatable {
    public static let currentVersion = 1

    public var version: Int
    /// The digest of the recipe's canonical form when the lock was written.
    public var recipe: Digest
    public var toolchain: Toolchain
    /// Input name -> resolved pin.
    public var inputs: [String: Input]
    /// The `[test]` step's root: the closure of the toolchain's and the test's packages
    /// resolved together; absent when the recipe has no [test] packages.
    public var test: TestToolchain?

    /// The packages of the test root and the recipe's `[test] packages` they came from.
    public struct TestToolchain: Sendable, Equatable, Codable {
        public var requested: [String]
        public var packages: [Package]
        public init(requested: [String], packages: [Package]) {
            self.requested = requested
            self.packages = packages
        }
    }

    public init(recipe: Digest, toolchain: Toolchain, inputs: [String: Input]) {
        self.version = Self.currentVersion
        self.recipe = recipe
        self.toolchain = toolchain
        self.inputs = inputs
    }

    public struct Toolchain: Sendable, Equatable, Codable {
        /// `debian` or `host`; the other fields are empty for `host`.
        public var kind: String
        public var suite: String?
        public var architecture: String?
        /// Informational: the Date of the suite's Release file (or the snapshot timestamp)
        /// the resolution used.
        public var snapshot: String?
        /// The recipe's own package list, sorted, to tell when it changes.
        public var requested: [String]
        /// The whole closure (essential base set + recipe packages + dependencies), sorted.
        public var packages: [Package]

        public init(kind: String, suite: String? = nil, architecture: String? = nil, snapshot: String? = nil,
                    requested: [String] = [], packages: [Package] = []) {
            self.kind = kind; self.suite = suite; self.architecture = architecture
            self.snapshot = snapshot; self.requested = requested; self.packages = packages
        }

        public static let host = Toolchain(kind: "host")
    }

    /// One binary package of the toolchain closure.
    public struct Package: Sendable, Equatable, Codable, Comparable {
        public var name: String
        public var version: String
        public var architecture: String
        public var size: Int64
        /// 64 lowercase hex digits: the .deb's SHA-256.
        public var sha256: String
        /// The path in the archive the .deb came from (`pool/main/h/hello/hello_2.10-3_amd64.deb`).
        public var filename: String
        /// The Debian source package it was built from (`gcc-12`, or `gcc-12 (12.2.0-14)`).
        public var source: String

        public init(name: String, version: String, architecture: String, size: Int64, sha256: String,
                    filename: String, source: String) {
            self.name = name; self.version = version; self.architecture = architecture; self.size = size
            self.sha256 = sha256; self.filename = filename; self.source = source
        }

        public var digest: Digest { Digest(hex: sha256, size: size) }

        public static func < (a: Package, b: Package) -> Bool {
            (a.name, a.architecture, a.version, a.sha256) < (b.name, b.architecture, b.version, b.sha256)
        }
    }

    /// A resolved input.
    public struct Input: Sendable, Equatable, Codable {
        /// As in the recipe: `debian-source`, `debian-package`, `path`, `git`.
        public var kind: String
        /// As in the recipe, without the pin: `hello=2.10-3`, `src/x`, the git path.
        public var spec: String
        /// For debian-source the .dsc, for debian-package the .deb, for a path file the
        /// file, for a path directory or a git commit the tree digest (`repro hash`).
        public var sha256: String
        public var size: Int64
        /// git inputs: the full commit id.
        public var commit: String?
        /// debian-source: every file of the .dsc set (the .dsc included); debian-package:
        /// the .deb. Sorted by name.
        public var files: [File]?

        public init(kind: String, spec: String, sha256: String, size: Int64, commit: String? = nil, files: [File]? = nil) {
            self.kind = kind; self.spec = spec; self.sha256 = sha256; self.size = size
            self.commit = commit; self.files = files
        }

        public var digest: Digest { Digest(hex: sha256, size: size) }
    }

    public struct File: Sendable, Equatable, Codable, Comparable {
        public var name: String
        public var sha256: String
        public var size: Int64

        public init(name: String, sha256: String, size: Int64) {
            self.name = name; self.sha256 = sha256; self.size = size
        }

        public var digest: Digest { Digest(hex: sha256, size: size) }
        public static func < (a: File, b: File) -> Bool { (a.name, a.sha256) < (b.name, b.sha256) }
    }

    /// The same lock with every list in its canonical order.
    public var normalized: LockFile {
        var l = self
        l.toolchain.requested.sort()
        l.toolchain.packages.sort()
        l.test?.requested.sort()
        l.test?.packages.sort()
        for (name, input) in l.inputs {
            var i = input
            i.files = i.files?.sorted()
            l.inputs[name] = i
        }
        return l
    }
}

extension LockFile: Codable {
    enum CodingKeys: String, CodingKey { case version, recipe, toolchain, inputs, test }
}
