import CCrypto
import Core
import Foundation

/// The SBOM formats `repro build --sbom-format` writes.
public enum SBOMFormat: String, Sendable, CaseIterable, Codable {
    case spdx, cyclonedx

    /// The file name suffix: `NAME.spdx.json` or `NAME.cdx.json`.
    public var suffix: String { self == .spdx ? ".spdx.json" : ".cdx.json" }
}

/// SBOMs of a build: the outputs and every resolved input with versions, purls,
/// checksums and relationships. Both are a function of the build alone (the document
/// time is SOURCE_DATE_EPOCH, ids are derived from the tree digest), so two hosts that
/// build the same bits write byte-identical SBOMs.
public enum SBOM {
    public static func document(_ f: BuildFacts, format: SBOMFormat) throws -> Data {
        var data = switch format {
        case .spdx: try spdx(f).canonicalJSON(pretty: true)
        case .cyclonedx: try cycloneDX(f).canonicalJSON(pretty: true)
        }
        data.append(0x0a)
        return data
    }

    static func created(_ f: BuildFacts) -> String {
        ProvenanceStatement.timestamp(Date(timeIntervalSince1970: TimeInterval(f.sourceDateEpoch)))
    }

    // MARK: SPDX 2.3

    static func spdx(_ f: BuildFacts) throws -> JSONValue {
        let product = "SPDXRef-Package-output"
        var packages: [JSONValue] = []
        var files: [JSONValue] = []
        var relationships: [JSONValue] = [rel("SPDXRef-DOCUMENT", "DESCRIBES", product)]

        var sha1s: [String] = []
        for (i, o) in f.outputs.enumerated() {
            guard let sha1 = o.sha1 else {
                throw ReproError(.internal, "SPDX needs the SHA-1 of output \(o.path)")
            }
            sha1s.append(sha1)
            let id = "SPDXRef-File-\(i + 1)"
            files.append(.object([
                "SPDXID": .string(id), "fileName": .string("./" + o.path),
                "checksums": .array([checksum("SHA1", sha1), checksum("SHA256", o.sha256)]),
                "licenseConcluded": .string("NOASSERTION"), "copyrightText": .string("NOASSERTION"),
            ]))
            relationships.append(rel(product, "CONTAINS", id))
        }
        // The package verification code (SPDX 2.3 §7.9): SHA-1 over the sorted SHA-1s.
        let code = SHA1.hex(Data(sha1s.sorted().joined().utf8))
        packages.append(.object([
            "SPDXID": .string(product), "name": .string(f.recipeName),
            "downloadLocation": .string("NOASSERTION"), "filesAnalyzed": .bool(true),
            "packageVerificationCode": .object(["packageVerificationCodeValue": .string(code)]),
            "primaryPackagePurpose": .string("APPLICATION"),
            "licenseConcluded": .string("NOASSERTION"), "licenseDeclared": .string("NOASSERTION"),
            "copyrightText": .string("NOASSERTION"),
            "comment": .string("the output tree of recipe \(f.recipePath); tree digest sha256:\(f.treeSHA256)"),
        ]))
        for (i, d) in f.dependencies.enumerated() {
            let id = "SPDXRef-Package-input-\(i + 1)"
            var p: [String: JSONValue] = [
                "SPDXID": .string(id), "name": .string(d.name),
                "downloadLocation": .string("NOASSERTION"), "filesAnalyzed": .bool(false),
                "licenseConcluded": .string("NOASSERTION"), "licenseDeclared": .string("NOASSERTION"),
                "copyrightText": .string("NOASSERTION"),
                "comment": .string(d.kind.rawValue + (d.annotation.map { d.kind == .toolchainPackage ? " (source \($0))" : " (input \($0))" } ?? "")),
            ]
            if let v = d.version ?? d.gitCommit { p["versionInfo"] = .string(v) }
            if let h = d.sha256 { p["checksums"] = .array([checksum("SHA256", h)]) }
            if let uri = d.uri, uri.hasPrefix("pkg:") {
                p["externalRefs"] = .array([.object(["referenceCategory": .string("PACKAGE-MANAGER"),
                                                     "referenceType": .string("purl"), "referenceLocator": .string(uri)])])
            }
            if d.kind == .toolchainPackage || d.kind == .debianPackage {
                p["supplier"] = .string("Organization: Debian")
            }
            packages.append(.object(p))
            relationships.append(d.kind == .toolchainPackage ? rel(id, "BUILD_TOOL_OF", product) : rel(product, "GENERATED_FROM", id))
        }
        return .object([
            "spdxVersion": .string("SPDX-2.3"), "dataLicense": .string("CC0-1.0"), "SPDXID": .string("SPDXRef-DOCUMENT"),
            "name": .string("\(f.recipeName) (repro build)"),
            "documentNamespace": .string("urn:repro:spdx:\(f.treeSHA256):\(f.actionDigest.dropFirst(7))"),
            "creationInfo": .object(["created": .string(created(f)), "creators": .array([.string("Tool: repro-\(f.reproVersion)")])]),
            "packages": .array(packages), "files": .array(files), "relationships": .array(relationships),
        ])
    }

    static func checksum(_ alg: String, _ value: String) -> JSONValue {
        .object(["algorithm": .string(alg), "checksumValue": .string(value)])
    }

    static func rel(_ a: String, _ type: String, _ b: String) -> JSONValue {
        .object(["spdxElementId": .string(a), "relationshipType": .string(type), "relatedSpdxElement": .string(b)])
    }

    // MARK: CycloneDX 1.6

    static func cycloneDX(_ f: BuildFacts) throws -> JSONValue {
        func hash(_ hex: String) -> JSONValue { .array([.object(["alg": .string("SHA-256"), "content": .string(hex)])]) }
        func property(_ name: String, _ value: String) -> JSONValue { .object(["name": .string(name), "value": .string(value)]) }
        var components: [JSONValue] = []
        var fileRefs: [JSONValue] = [], inputRefs: [JSONValue] = []
        for (i, o) in f.outputs.enumerated() {
            let ref = "output-\(i + 1)"
            fileRefs.append(.string(ref))
            components.append(.object(["type": .string("file"), "bom-ref": .string(ref), "name": .string(o.path), "hashes": hash(o.sha256)]))
        }
        for (i, d) in f.dependencies.enumerated() {
            let ref = "input-\(i + 1)"
            inputRefs.append(.string(ref))
            var c: [String: JSONValue] = [
                "type": .string(d.kind == .path ? "file" : d.kind == .git ? "application" : "library"),
                "bom-ref": .string(ref), "name": .string(d.name),
                "properties": .array([property("repro:kind", d.kind.rawValue)] + (d.annotation.map { [property(d.kind == .toolchainPackage ? "repro:source-package" : "repro:input", $0)] } ?? [])),
            ]
            if let v = d.version ?? d.gitCommit { c["version"] = .string(v) }
            if let h = d.sha256 { c["hashes"] = hash(h) }
            if let uri = d.uri, uri.hasPrefix("pkg:") { c["purl"] = .string(uri) }
            if d.kind == .toolchainPackage { c["scope"] = .string("excluded") } // build tool, not shipped
            components.append(.object(c))
        }
        let main = "build-output"
        return .object([
            "bomFormat": .string("CycloneDX"), "specVersion": .string("1.6"),
            "serialNumber": .string("urn:uuid:" + uuid(from: f.treeSHA256 + f.actionDigest)), "version": .int(1),
            "metadata": .object([
                "timestamp": .string(created(f)),
                "tools": .object(["components": .array([.object(["type": .string("application"), "name": .string("repro"),
                                                                   "version": .string(f.reproVersion)])])]),
                "component": .object(["type": .string("application"), "bom-ref": .string(main), "name": .string(f.recipeName),
                                      "hashes": hash(f.treeSHA256),
                                      "properties": .array([property("repro:tree-digest", "sha256:" + f.treeSHA256),
                                                            property("repro:recipe", f.recipePath)])]),
            ]),
            "components": .array(components),
            "dependencies": .array([.object(["ref": .string(main), "dependsOn": .array(fileRefs + inputRefs)])]
                                   + (fileRefs + inputRefs).map { .object(["ref": $0]) }),
        ])
    }

    /// A UUID (version 5 layout) from the SHA-1 of `seed`: the same build, the same id.
    static func uuid(from seed: String) -> String {
        var b = Array(SHA1.bytes(Data(seed.utf8)).prefix(16))
        b[6] = (b[6] & 0x0f) | 0x50
        b[8] = (b[8] & 0x3f) | 0x80
        let h = b.map { String(format: "%02x", $0) }.joined()
        let c = Array(h)
        return "\(String(c[0..<8]))-\(String(c[8..<12]))-\(String(c[12..<16]))-\(String(c[16..<20]))-\(String(c[20..<32]))"
    }
}

/// SHA-1, only for what SPDX requires (file checksums, the verification code).
public enum SHA1 {
    public static func bytes(_ data: Data) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        var len: UInt32 = 0
        data.withUnsafeBytes { raw in
            _ = EVP_Digest(raw.baseAddress, raw.count, &out, &len, EVP_sha1(), nil)
        }
        return out
    }

    public static func hex(_ data: Data) -> String { bytes(data).map { String(format: "%02x", $0) }.joined() }

    /// The SHA-1 of a file, streamed.
    public static func file(_ path: String) throws -> String {
        guard let ctx = EVP_MD_CTX_new() else { throw ReproError(.internal, "EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(ctx) }
        EVP_DigestInit_ex(ctx, EVP_sha1(), nil)
        try FileChunks.forEach(inFile: path) { _ = EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
        var out = [UInt8](repeating: 0, count: 20)
        var len: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &out, &len)
        return out.map { String(format: "%02x", $0) }.joined()
    }
}
