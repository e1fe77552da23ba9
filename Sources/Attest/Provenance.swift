import Core
import Foundation

/// Any JSON value, for the open parts of a statement (parameters, annotations).
public enum JSONValue: Codable, Sendable, Equatable {
    case string(String), number(Double), int(Int64), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .string(s): try c.encode(s)
        case let .number(d):
            // RFC 8785's digits; a value it writes with an exponent (none of repro's own
            // documents has one) as Foundation prints it.
            if let t = try? CanonicalJSON.number(d), !t.contains("e") { try c.encode(CanonicalNumber(d)) } else { try c.encode(d) }
        case let .int(i): try c.encode(i)
        case let .bool(b): try c.encode(b)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case let .string(s) = self { s } else { nil } }
}

/// An in-toto v1 ResourceDescriptor: a subject, a dependency or a byproduct.
public struct ResourceDescriptor: Codable, Sendable, Equatable {
    public var name: String?
    public var uri: String?
    public var digest: [String: String]?
    public var mediaType: String?
    public var annotations: [String: JSONValue]?

    public init(name: String? = nil, uri: String? = nil, digest: [String: String]? = nil,
                mediaType: String? = nil, annotations: [String: JSONValue]? = nil) {
        self.name = name; self.uri = uri; self.digest = digest; self.mediaType = mediaType; self.annotations = annotations
    }
}

/// SLSA Provenance v1 (https://slsa.dev/provenance/v1), field names as the spec.
public struct SLSAProvenance: Codable, Sendable, Equatable {
    public struct BuildDefinition: Codable, Sendable, Equatable {
        public var buildType: String
        public var externalParameters: [String: JSONValue]
        public var internalParameters: [String: JSONValue]?
        public var resolvedDependencies: [ResourceDescriptor]?
    }
    public struct Builder: Codable, Sendable, Equatable {
        public var id: String
        public var version: [String: String]?
    }
    public struct Metadata: Codable, Sendable, Equatable {
        public var invocationId: String?
        public var startedOn: String?
        public var finishedOn: String?
    }
    public struct RunDetails: Codable, Sendable, Equatable {
        public var builder: Builder
        public var metadata: Metadata?
        public var byproducts: [ResourceDescriptor]?
    }
    public var buildDefinition: BuildDefinition
    public var runDetails: RunDetails
}

/// An in-toto Statement v1 carrying a SLSA Provenance v1 predicate.
public struct ProvenanceStatement: Codable, Sendable, Equatable {
    public static let statementType = "https://in-toto.io/Statement/v1"
    public static let predicateType = "https://slsa.dev/provenance/v1"
    /// repro's build type (docs/provenance.md, "Build type").
    public static let buildType = "urn:repro:build-type:recipe:v1"
    /// The subject that stands for the whole output tree: its digest is the tree digest.
    public static let treeSubjectName = "."

    public var type: String
    public var subject: [ResourceDescriptor]
    public var predicateType: String
    public var predicate: SLSAProvenance

    enum CodingKeys: String, CodingKey { case type = "_type", subject, predicateType, predicate }

    /// The statement of a build.
    public init(_ f: BuildFacts) {
        type = Self.statementType
        predicateType = Self.predicateType
        subject = [ResourceDescriptor(name: Self.treeSubjectName, digest: ["sha256": f.treeSHA256],
                                      annotations: ["repro.tree": .bool(true)])]
            + f.outputs.map { ResourceDescriptor(name: $0.path, digest: ["sha256": $0.sha256],
                                                 annotations: $0.isArchive ? ["repro.archive": .bool(true)] : nil) }

        var external: [String: JSONValue] = [
            "recipe": .object(["path": .string(f.recipePath), "name": .string(f.recipeName),
                               "digest": .object(["sha256": .string(f.recipeSHA256)])]),
            "lock": .object(["path": .string(f.lockPath), "digest": .object(["sha256": .string(f.lockSHA256)])]),
        ]
        if !f.parameters.isEmpty { external["options"] = .object(f.parameters.mapValues { .string($0) }) }
        let internalParameters: [String: JSONValue] = [
            "sandboxPolicy": .string(f.policyVersion),
            "limits": .object(f.limits.mapValues { .string($0) }),
            "variations": .array(f.variations.map { .string($0) }),
            "actionDigest": .string(f.actionDigest),
            "toolchain": .string(f.toolchain),
            "sourceDateEpoch": .int(f.sourceDateEpoch),
            "uid": .int(Int64(f.uid)),
        ]
        let deps = f.dependencies.map { d -> ResourceDescriptor in
            var ann: [String: JSONValue] = ["kind": .string(d.kind.rawValue)]
            if let v = d.version { ann["version"] = .string(v) }
            if let s = d.size { ann["size"] = .int(s) }
            if let a = d.annotation { ann[d.kind == .toolchainPackage ? "source" : "input"] = .string(a) }
            var digest: [String: String] = [:]
            if let h = d.sha256 { digest["sha256"] = h }
            if let c = d.gitCommit { digest["gitCommit"] = c }
            return ResourceDescriptor(name: d.name, uri: d.uri, digest: digest.isEmpty ? nil : digest, annotations: ann)
        }
        let stamp = Self.timestamp
        predicate = SLSAProvenance(
            buildDefinition: .init(buildType: Self.buildType, externalParameters: external,
                                   internalParameters: internalParameters, resolvedDependencies: deps),
            runDetails: .init(
                builder: .init(id: f.builderID, version: ["repro": f.reproVersion, "repro-sandbox": "sha256:" + f.launcherSHA256]),
                metadata: .init(invocationId: f.invocationID, startedOn: stamp(f.startedOn), finishedOn: stamp(f.finishedOn)),
                byproducts: f.logSHA256.map { [ResourceDescriptor(name: "build.log", digest: ["sha256": $0], mediaType: "text/plain")] }))
    }

    /// RFC 3339 in UTC, whole seconds (what protobuf's Timestamp JSON accepts).
    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d)
    }

    public func json() throws -> Data { try CanonicalJSON.encode(self) }

    /// Parses a statement, naming the first field that is missing or of the wrong type.
    /// - Throws: `ReproError(.verificationFailed)`.
    public static func parse(_ data: Data) throws -> ProvenanceStatement {
        do {
            return try JSONDecoder().decode(ProvenanceStatement.self, from: data)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ReproError(.verificationFailed, "the statement has no \(path(ctx.codingPath + [key])); not an in-toto Statement v1 with a SLSA Provenance v1 predicate")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ReproError(.verificationFailed, "the statement's \(path(ctx.codingPath)) has the wrong type")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw ReproError(.verificationFailed, "the statement's \(path(ctx.codingPath)) is null")
        } catch {
            throw ReproError(.verificationFailed, "the payload is not a JSON statement: \(error)")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().drop { $0 == "." }.description
    }
}

extension JSONValue {
    /// The bytes `CanonicalJSON.encode(self, pretty:)` gives, written directly: keys in
    /// UTF-8 order, `/` unescaped, Foundation's pretty layout. JSONEncoder was about 8%
    /// of repro's CPU on a build of 20,000 files, writing its two SBOMs.
    public func canonicalJSON(pretty: Bool = false) throws -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        try write(to: &out, pretty: pretty, indent: 0)
        return Data(out)
    }

    private func write(to out: inout [UInt8], pretty: Bool, indent: Int) throws {
        func newline(_ depth: Int) {
            out.append(0x0a)
            out.append(contentsOf: repeatElement(0x20, count: depth))
        }
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .int(i): out.append(contentsOf: String(i).utf8)
        case let .number(d): out.append(contentsOf: try CanonicalJSON.number(d).utf8) // RFC 8785's spelling
        case let .string(s): JSONValue.writeString(s, to: &out)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            if items.isEmpty && pretty { newline(0) }
            for (i, v) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(indent + 2) }
                try v.write(to: &out, pretty: pretty, indent: indent + 2)
            }
            if pretty { newline(indent) }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            if members.isEmpty && pretty { newline(0) }
            for (i, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(indent + 2) }
                JSONValue.writeString(key, to: &out)
                out.append(contentsOf: (pretty ? " : " : ":").utf8)
                try members[key]!.write(to: &out, pretty: pretty, indent: indent + 2)
            }
            if pretty { newline(indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string as Foundation writes it: `"` and `\` escaped, control characters as
    /// `\n`, `\r`, `\t`, `\b`, `\f` or `\u00xx`, everything else as UTF-8.
    private static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0a: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0d: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0c: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xf)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
