import Attest
import Core
import Foundation
import Recipe
import Sandbox
import Store

/// How a build is attested: who signs, which SBOM, which builder id, and what the user
/// asked for (recorded as the statement's external parameters).
public struct AttestOptions: Sendable {
    /// nil: the default key (`$REPRO_SIGNING_KEY`, else ~/.config/repro/keys/signing.pem,
    /// generated on first use).
    public var signingKey: PrivateKey?
    public var sbomFormat: SBOMFormat = .spdx
    public var builderID: String = BuildAttestation.defaultBuilderID
    /// The options the user passed, by long name.
    public var parameters: [String: String] = [:]
    /// The variations applied to this build (`repro verify`); empty for a normal build.
    public var variations: [String] = []
    public init() {}
}

/// The provenance statement (in-toto v1, SLSA Provenance v1), its DSSE envelope and the
/// SBOM of one build: made on the host after the sandbox has exited, signed with a key
/// the sandbox never sees, stored in the store and written next to --out.
public enum BuildAttestation {
    /// The builder id when none is given: this machine's repro (docs/provenance.md).
    public static let defaultBuilderID = "urn:repro:builder:local"

    public struct Made: Sendable {
        public var record: AttestationRecord
        public var envelope: Data
        public var sbom: Data
    }

    /// Everything a build knows about itself, as Attest's plain facts.
    static func facts(recipe: Recipe, lock: LockFile, manifest: Manifest, tree: Digest, action: Digest,
                      toolchain: String, archive: (name: String, digest: Digest)?, epoch: Int64,
                      policy: String, launcher: String, log: Digest?, started: Date, finished: Date,
                      store: Store, options: AttestOptions) throws -> BuildFacts {
        // SPDX wants a SHA-1 of every file: one per distinct blob, read back from the
        // store on every core.
        let sha1 = try sha1s(of: manifest.blobDigests + (archive.map { [$0.digest] } ?? []), store: store)
        var outputs: [BuildFacts.Output] = []
        for e in manifest.entries where e.kind == .file {
            guard let d = e.digest else { continue }
            outputs.append(.init(path: e.path, sha256: d.hex, size: d.size, sha1: sha1[d.hex]!))
        }
        if let archive {
            outputs.append(.init(path: archive.name, sha256: archive.digest.hex, size: archive.digest.size,
                                 sha1: sha1[archive.digest.hex]!, isArchive: true))
        }
        var deps: [BuildFacts.Dependency] = lock.toolchain.packages.sorted().map { p in
            .init(kind: .toolchainPackage, name: p.name, version: p.version, architecture: p.architecture,
                  uri: BuildFacts.debianPURL(name: p.name, version: p.version, architecture: p.architecture),
                  sha256: p.sha256, size: p.size, annotation: p.source.isEmpty ? nil : p.source)
        }
        for input in recipe.inputs {
            guard let pin = lock.inputs[input.name] else { continue }
            switch input.source {
            case let .debianSource(package, version):
                deps.append(.init(kind: .debianSource, name: package, version: version, architecture: "source",
                                  uri: BuildFacts.debianPURL(name: package, version: version, architecture: "source"),
                                  sha256: pin.sha256, size: pin.size, annotation: input.name))
            case let .debianPackage(package, version):
                let arch = pin.files?.first { $0.name.hasSuffix(".deb") }.map { debArchitecture($0.name) } ?? nil
                deps.append(.init(kind: .debianPackage, name: package, version: version, architecture: arch,
                                  uri: BuildFacts.debianPURL(name: package, version: version, architecture: arch ?? "all"),
                                  sha256: pin.sha256, size: pin.size, annotation: input.name))
            case let .path(path):
                deps.append(.init(kind: .path, name: path, uri: "file:" + path, sha256: pin.sha256, size: pin.size,
                                  annotation: input.name))
            case let .git(path, commit):
                deps.append(.init(kind: .git, name: path, uri: "git+file:\(path)@\(commit)", sha256: pin.sha256,
                                  gitCommit: commit, size: pin.size, annotation: input.name))
            }
        }
        let l = recipe.limits
        var limits: [String: String] = [:]
        if let v = l.memory { limits["memory"] = String(v) }
        if let v = l.pids { limits["pids"] = String(v) }
        if let v = l.cpus { limits["cpus"] = String(v) }
        if let v = l.cpuTime { limits["cpu-time"] = String(v) }
        if let v = l.timeout { limits["timeout"] = String(v) }
        if let v = l.outputSize { limits["output-size"] = String(v) }
        let lockBytes = (try? Data(contentsOf: URL(fileURLWithPath: recipe.lockPath))) ?? Data()
        return BuildFacts(
            recipeName: recipe.name, recipePath: recipe.file, recipeSHA256: recipe.digest.hex,
            lockPath: recipe.lockPath, lockSHA256: Digest.of(lockBytes).hex, treeSHA256: tree.hex,
            actionDigest: action.description, toolchain: toolchain, outputs: outputs, dependencies: deps,
            parameters: options.parameters, policyVersion: policy, limits: limits, variations: options.variations,
            sourceDateEpoch: epoch, uid: recipe.build.user == .root ? 0 : 1000, builderID: options.builderID,
            reproVersion: ReproInfo.version, launcherSHA256: try Digest.ofFile(launcher).hex,
            invocationID: UUID().uuidString.lowercased(), startedOn: started, finishedOn: finished, logSHA256: log?.hex)
    }

    /// The output archive a recorded build made: its name and digest, from the subject
    /// the provenance marks `repro.archive`.
    public static func archive(of record: AttestationRecord, store: Store) throws -> (String, Digest)? {
        let envelope = try DSSEEnvelope.parse(try store.get(record.envelope))
        guard let payload = Data(base64Encoded: envelope.payload) else { return nil }
        let statement = try ProvenanceStatement.parse(payload)
        guard let s = statement.subject.first(where: { $0.annotations?["repro.archive"] != nil }),
              let name = s.name, let hex = s.digest?["sha256"] else { return nil }
        return (name, Digest(hex: hex, size: -1))
    }

    /// The SHA-1 of each blob, by SHA-256 hex, hashed in parallel.
    static func sha1s(of blobs: [Digest], store: Store) throws -> [String: String] {
        let hexes = Array(Set(blobs.map(\.hex)))
        let sums = try Parallel.map(hexes, state: {}) { hex, _ in try SHA1.file(store.blobPath(hex)) }
        return Dictionary(uniqueKeysWithValues: zip(hexes, sums))
    }

    /// `hello_2.10-3_amd64.deb` → `amd64`.
    static func debArchitecture(_ file: String) -> String? {
        guard file.hasSuffix(".deb"), let last = file.dropLast(4).split(separator: "_").last else { return nil }
        return String(last)
    }

    /// Signs the statement and writes the SBOM in every format (so a later cache hit can
    /// serve either), stores them and records them for the action. Returns the record of
    /// the format asked for.
    static func make(_ facts: BuildFacts, key: PrivateKey, format: SBOMFormat, store: Store,
                     action: Digest, tree: Digest) throws -> Made {
        let statement = ProvenanceStatement(facts)
        var envelope = try DSSE.sign(payload: try statement.json(), key: key).json()
        envelope.append(0x0a)
        let envelopeDigest = try store.put(data: envelope)
        var made: Made?
        for f in SBOMFormat.allCases {
            let sbom = try SBOM.document(facts, format: f)
            let record = AttestationRecord(action: action, tree: tree, envelope: envelopeDigest, sbom: try store.put(data: sbom),
                                           sbomFormat: f.rawValue, keyid: key.publicKey.keyID)
            try store.recordAttestation(record)
            if f == format { made = Made(record: record, envelope: envelope, sbom: sbom) }
        }
        return made!
    }

    /// Writes the envelope and SBOM of a build next to its output directory:
    /// `--out dist/hello` gives `dist/hello.intoto.jsonl` and `dist/hello.spdx.json`.
    /// Returns the two paths.
    static func writeBeside(outDir: String, record: AttestationRecord, store: Store) throws -> (String, String) {
        let base = outDir.hasSuffix("/") ? String(outDir.dropLast()) : outDir
        let format = SBOMFormat(rawValue: record.sbomFormat) ?? .spdx
        let files = [(base + ".intoto.jsonl", record.envelope), (base + format.suffix, record.sbom)]
        for (path, digest) in files {
            let tmp = path + ".tmp-\(getpid())"
            try store.get(digest).write(to: URL(fileURLWithPath: tmp))
            try Syscall.check("rename \(tmp)") { rename(tmp, path) }
        }
        return (files[0].0, files[1].0)
    }

    /// The key builds are signed with, generating the default one on first use.
    /// - Throws: `ReproError(.invalidInput)` when an explicit key is missing or bad.
    public static func signingKey(explicit: String?, note: (String) -> Void) throws -> PrivateKey {
        let env = ProcessInfo.processInfo.environment
        let path = Keys.signingKeyPath(explicit: explicit)
        if explicit == nil, env["REPRO_SIGNING_KEY"] == nil, !FileManager.default.fileExists(atPath: path) {
            let dir = Keys.defaultDirectory()
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw ReproError(.system, "creating key directory \(dir): \(error.localizedDescription)")
            }
            // Two first builds at once: one generates the key, the other waits for it
            // and signs with the same key (not a second one that replaces it).
            return try FileLock.with(dir + "/.generate.lock", exclusive: true) {
                if FileManager.default.fileExists(atPath: path) { return try PrivateKey(path: path) }
                let pair = try KeyPair.generate(.ed25519)
                _ = try pair.write(to: dir)
                note("generated a signing key for build provenance: \(dir)/\(KeyPair.privateFileName) (ed25519, keyid \(pair.publicKey.keyID)); verify with \(dir)/\(KeyPair.publicFileName)")
                return pair.privateKey
            }
        }
        return try PrivateKey(path: path)
    }
}
