import Core
import Foundation

/// The canonical form of a recipe: every key spelled out with its default, lists sorted,
/// paths normalised, encoded as canonical JSON. Comments, whitespace, key order, quoting
/// style and spelling a default out do not change it; any change of meaning does.
///
/// The file name and directory are not part of it, so a recipe hashes the same at any
/// path on any host. `format` versions the shape itself.
public struct CanonicalRecipe: Codable, Sendable, Equatable {
    public static let format = 1

    public struct Toolchain: Codable, Sendable, Equatable {
        public var kind: String
        public var suite: String?
        public var architecture: String?
        public var packages: [String]?
    }

    public struct Input: Codable, Sendable, Equatable {
        public var kind: String
        public var spec: String
        public var commit: String?
        public var sha256: String?
        public var unpack: Bool
        public var stripComponents: Int
        public var patches: Bool

        enum CodingKeys: String, CodingKey {
            case kind, spec, commit, sha256, unpack, patches
            case stripComponents = "strip-components"
        }
    }

    public struct Build: Codable, Sendable, Equatable {
        public var script: String
        public var env: [String: String]
        public var jobs: Int?
        public var user: String
        /// Seconds as a decimal string, or `from:INPUT`.
        public var sourceDateEpoch: String

        enum CodingKeys: String, CodingKey {
            case script, env, jobs, user
            case sourceDateEpoch = "source-date-epoch"
        }
    }

    public struct Limits: Codable, Sendable, Equatable {
        public var memory: Int64?
        public var pids: Int?
        public var cpus: Double?
        public var cpuTime: Int?
        public var timeout: Int?
        public var outputSize: Int64?
        public var logSize: Int64?
        public var buildSize: Int64?

        enum CodingKeys: String, CodingKey {
            case memory, pids, cpus, timeout
            case cpuTime = "cpu-time", outputSize = "output-size", logSize = "log-size", buildSize = "build-size"
        }

        /// `cpus`, the one double of a recipe's digest, as RFC 8785 writes it.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(memory, forKey: .memory)
            try c.encodeIfPresent(pids, forKey: .pids)
            try c.encodeIfPresent(cpus.map(CanonicalNumber.init), forKey: .cpus)
            try c.encodeIfPresent(cpuTime, forKey: .cpuTime)
            try c.encodeIfPresent(timeout, forKey: .timeout)
            try c.encodeIfPresent(outputSize, forKey: .outputSize)
            try c.encodeIfPresent(logSize, forKey: .logSize)
            try c.encodeIfPresent(buildSize, forKey: .buildSize)
        }
    }

    public struct Outputs: Codable, Sendable, Equatable {
        public var archive: String?
        public var name: String?
    }

    public var format: Int
    public var name: String
    public var version: String?
    public var toolchain: Toolchain
    public var inputs: [String: Input]
    public var build: Build
    public var limits: Limits
    public var outputs: Outputs
}

extension Recipe {
    /// The canonical form (see `CanonicalRecipe`).
    public var canonical: CanonicalRecipe {
        let tc: CanonicalRecipe.Toolchain
        switch toolchain {
        case .host: tc = .init(kind: "host")
        case .debian(let suite, let packages, let arch):
            tc = .init(kind: "debian", suite: suite, architecture: arch, packages: packages.sorted())
        }
        var ins: [String: CanonicalRecipe.Input] = [:]
        for i in inputs {
            ins[i.name] = .init(kind: i.kind, spec: i.spec, commit: i.commit, sha256: i.sha256?.hex,
                                unpack: i.unpack, stripComponents: i.stripComponents, patches: i.patches)
        }
        let epoch: String
        switch build.sourceDateEpoch {
        case .seconds(let s): epoch = String(s)
        case .fromInput(let name): epoch = "from:\(name)"
        }
        return CanonicalRecipe(
            format: CanonicalRecipe.format, name: name, version: version, toolchain: tc, inputs: ins,
            build: .init(script: build.script, env: build.env, jobs: build.jobs, user: build.user.rawValue, sourceDateEpoch: epoch),
            limits: .init(memory: limits.memory, pids: limits.pids, cpus: limits.cpus, cpuTime: limits.cpuTime,
                          timeout: limits.timeout, outputSize: limits.outputSize, logSize: limits.logSize,
                          buildSize: limits.buildSize),
            outputs: .init(archive: outputs.archive?.rawValue, name: outputs.archive == nil ? nil : archiveFileName))
    }

    /// The canonical JSON bytes of the recipe.
    public func canonicalJSON() -> Data {
        // Encoding plain strings, integers and dictionaries cannot fail.
        (try? CanonicalJSON.encode(canonical)) ?? Data()
    }

    /// `sha256` of the canonical JSON: the recipe's part of the action digest.
    public var digest: Digest { Digest.of(canonicalJSON()) }

    /// The output archive's file name: `[outputs] name`, else `NAME[-VERSION].EXT`.
    public var archiveFileName: String? {
        guard let archive = outputs.archive else { return nil }
        if let n = outputs.archiveName { return n }
        return "\(name)\(version.map { "-\($0)" } ?? "").\(archive.rawValue)"
    }
}
