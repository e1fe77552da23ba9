import Foundation

/// What a build was: the plain facts the provenance statement and the SBOM are made
/// from. Filled in by the Build module; Attest knows nothing about recipes or stores.
public struct BuildFacts: Sendable, Equatable {
    /// One output file under /out (or the output archive), relative path.
    public struct Output: Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var size: Int64
        /// SPDX 2.3 requires a SHA-1 of every file; computed when the SBOM is written.
        public var sha1: String?
        /// The deterministic archive of the outputs (written next to the tree, not in it).
        public var isArchive: Bool
        public init(path: String, sha256: String, size: Int64, sha1: String? = nil, isArchive: Bool = false) {
            self.path = path; self.sha256 = sha256; self.size = size; self.sha1 = sha1; self.isArchive = isArchive
        }
    }

    /// One resolved input: a Debian binary package of the toolchain, a source package,
    /// a file or directory, a git commit.
    public struct Dependency: Sendable, Equatable {
        public enum Kind: String, Sendable { case toolchainPackage = "toolchain-package", debianSource = "debian-source",
                                             debianPackage = "debian-package", path, git }
        public var kind: Kind
        public var name: String
        public var version: String?
        public var architecture: String?
        /// A package URL (`pkg:deb/debian/NAME@VERSION?arch=ARCH`) or, for git, `git+PATH@COMMIT`.
        public var uri: String?
        public var sha256: String?
        public var gitCommit: String?
        public var size: Int64?
        /// The input's name in the recipe (inputs) or the source package (toolchain).
        public var annotation: String?
        public init(kind: Kind, name: String, version: String? = nil, architecture: String? = nil, uri: String? = nil,
                    sha256: String? = nil, gitCommit: String? = nil, size: Int64? = nil, annotation: String? = nil) {
            self.kind = kind; self.name = name; self.version = version; self.architecture = architecture
            self.uri = uri; self.sha256 = sha256; self.gitCommit = gitCommit; self.size = size; self.annotation = annotation
        }
    }

    public var recipeName: String
    public var recipePath: String
    public var recipeSHA256: String
    public var lockPath: String
    public var lockSHA256: String
    public var treeSHA256: String
    public var actionDigest: String
    public var toolchain: String
    public var outputs: [Output]
    public var dependencies: [Dependency]
    /// Every option the user passed to `repro build`, by its long name.
    public var parameters: [String: String]
    public var policyVersion: String
    public var limits: [String: String]
    public var variations: [String]
    public var sourceDateEpoch: Int64
    public var uid: Int
    public var builderID: String
    public var reproVersion: String
    public var launcherSHA256: String
    public var invocationID: String
    public var startedOn: Date
    public var finishedOn: Date
    public var logSHA256: String?

    public init(recipeName: String, recipePath: String, recipeSHA256: String, lockPath: String, lockSHA256: String,
                treeSHA256: String, actionDigest: String, toolchain: String, outputs: [Output], dependencies: [Dependency],
                parameters: [String: String], policyVersion: String, limits: [String: String], variations: [String],
                sourceDateEpoch: Int64, uid: Int, builderID: String, reproVersion: String, launcherSHA256: String,
                invocationID: String, startedOn: Date, finishedOn: Date, logSHA256: String?) {
        self.recipeName = recipeName; self.recipePath = recipePath; self.recipeSHA256 = recipeSHA256
        self.lockPath = lockPath; self.lockSHA256 = lockSHA256; self.treeSHA256 = treeSHA256
        self.actionDigest = actionDigest; self.toolchain = toolchain; self.outputs = outputs
        self.dependencies = dependencies; self.parameters = parameters; self.policyVersion = policyVersion
        self.limits = limits; self.variations = variations; self.sourceDateEpoch = sourceDateEpoch; self.uid = uid
        self.builderID = builderID; self.reproVersion = reproVersion; self.launcherSHA256 = launcherSHA256
        self.invocationID = invocationID; self.startedOn = startedOn; self.finishedOn = finishedOn; self.logSHA256 = logSHA256
    }

    /// The package URL of a Debian package (purl spec, type `deb`, namespace `debian`).
    public static func debianPURL(name: String, version: String, architecture: String) -> String {
        "pkg:deb/debian/\(PURL.encode(name))@\(PURL.encode(version))?arch=\(PURL.encode(architecture))"
    }
}

/// Percent-encoding of purl name and version segments (the purl spec: everything but
/// unreserved characters; `+` in Debian versions becomes `%2B`, `:` of epochs `%3A`).
enum PURL {
    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(b))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }
}
