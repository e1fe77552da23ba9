import Attest
import Build
import Core
import RemoteSettings
import Foundation
import RemoteAPI
import Store

/// A build's result as a REAPI ActionResult (docs/remote.md):
///
///     output_directories  out: the REAPI Tree of the outputs (what other clients read)
///     output_files        .repro/manifest             repro's manifest (its digest is the tree digest)
///                         .repro/provenance.intoto.jsonl  the DSSE-signed provenance
///                         .repro/sbom.FORMAT.json     the SBOM (spdx or cyclonedx)
///                         .repro/signer.pub.pem       the public key that signed it
///                         .repro/archive/NAME         the output archive, when the recipe makes one
///     stdout_digest       the build log
///     exit_code           0 (failed builds are never published)
enum ResultFiles {
    static let manifest = ".repro/manifest"
    static let provenance = ".repro/provenance.intoto.jsonl"
    static let sbomPrefix = ".repro/sbom."
    static let signer = ".repro/signer.pub.pem"
    static let archivePrefix = ".repro/archive/"
}

typealias REActionResult = Build_Bazel_Remote_Execution_V2_ActionResult

/// What a remote result put into the local store.
public struct ReceivedResult: Sendable {
    public var tree: Digest
    public var stats: TransferStats
    public var keyid: String
}

enum RemoteResult {
    /// The REAPI Tree (and its Directory messages) of a manifest: every directory
    /// sorted by name, files with their executable bit, symbolic links as recorded.
    static func reapiTree(_ m: Manifest) throws -> (tree: (Digest, Data), root: Digest, directories: [(Digest, Data)]) {
        typealias Dir = Build_Bazel_Remote_Execution_V2_Directory
        var dirs: [String: Dir] = ["": Dir()]
        func parent(_ path: String) -> (String, String) {
            guard let slash = path.lastIndex(of: "/") else { return ("", path) }
            return (String(path[..<slash]), String(path[path.index(after: slash)...]))
        }
        for e in m.entries {
            let (p, name) = parent(e.path)
            switch e.kind {
            case .dir:
                if dirs[e.path] == nil { dirs[e.path] = Dir() }
            case .file:
                dirs[p, default: Dir()].files.append(RemoteAction.fileNode(name, e.digest!, executable: e.mode & 0o111 != 0))
            case .symlink:
                var n = Build_Bazel_Remote_Execution_V2_SymlinkNode()
                n.name = name; n.target = e.target ?? ""
                dirs[p, default: Dir()].symlinks.append(n)
            }
        }
        // Deepest first, so that a directory's children have digests when it is sealed.
        var sealed: [String: (Digest, Data)] = [:]
        for path in dirs.keys.sorted(by: { $0.split(separator: "/").count > $1.split(separator: "/").count || ($0.split(separator: "/").count == $1.split(separator: "/").count && $0 > $1) }) {
            var d = dirs[path]!
            d.files.sort { Manifest.bytewiseLess($0.name, $1.name) }
            d.symlinks.sort { Manifest.bytewiseLess($0.name, $1.name) }
            let prefix = path.isEmpty ? "" : path + "/"
            d.directories = dirs.keys.filter { $0 != path && !$0.isEmpty && parent($0).0 == path }
                .sorted(by: Manifest.bytewiseLess)
                .map { RemoteAction.dirNode(String($0.dropFirst(prefix.count)), sealed[$0]!.0) }
            let bytes: Data = try d.serializedBytes()
            sealed[path] = (Digest.of(bytes), bytes)
            dirs[path] = d
        }
        var tree = Build_Bazel_Remote_Execution_V2_Tree()
        tree.root = dirs[""]!
        tree.children = dirs.keys.filter { !$0.isEmpty }.sorted(by: Manifest.bytewiseLess).map { dirs[$0]! }
        let treeBytes: Data = try tree.serializedBytes()
        return ((Digest.of(treeBytes), treeBytes), sealed[""]!.0, Array(sealed.values))
    }

    /// Uploads a recorded local build (tree, log, provenance, SBOM, archive, signer's
    /// public key, the REAPI Tree and the Action) and records it in the remote action
    /// cache under the REAPI Action's digest. Returns what was uploaded.
    static func publish(_ client: RemoteClient, store: Store, action: RemoteAction, signer: PublicKey) async throws -> TransferStats {
        guard let local = try store.lookupAction(action.reproAction) else {
            throw ReproError(.invalidInput, "action \(action.reproAction) has no result in the store at \(store.root); build it first")
        }
        let result = try makeResult(store: store, local: local, signer: signer)
        var stats = try await client.upload(result.blobs, from: store)
        try await client.put(result.messages)
        try await action.upload(client, store: store)
        try await client.updateActionResult(action.digest, result.result)
        stats.blobs += result.messages.count
        return stats
    }

    static func makeResult(store: Store, local: ActionResult, signer: PublicKey) throws
        -> (result: REActionResult, blobs: [Digest], messages: [(Digest, Data)]) {
        let manifest = try store.manifest(tree: local.tree)
        var blobs = manifest.blobDigests + [local.tree]
        var r = REActionResult()
        r.exitCode = 0
        func file(_ path: String, _ d: Digest) {
            var f = Build_Bazel_Remote_Execution_V2_OutputFile()
            f.path = path; f.digest = RE(d)
            r.outputFiles.append(f)
        }
        file(ResultFiles.manifest, local.tree)
        var messages: [(Digest, Data)] = []
        if let log = local.log {
            let size = try Digest.ofFile(try store.path(for: log))
            r.stdoutDigest = RE(size)
            blobs.append(size)
        }
        // Every SBOM format the build recorded (one provenance envelope for all).
        let records = try ["spdx", "cyclonedx"].compactMap { f in
            try store.attestation(action: local.action, format: f).flatMap { $0.sbomFormat == f ? $0 : nil }
        }
        if let a = records.first {
            let pem = try signer.pem()
            guard signer.keyID == a.keyid else {
                throw ReproError(.invalidInput, "the provenance of \(local.action) is signed by keyid \(a.keyid), not by the key given (\(signer.keyID)); pass the key that built it")
            }
            let pemDigest = Digest.of(pem)
            messages.append((pemDigest, pem))
            file(ResultFiles.provenance, a.envelope)
            file(ResultFiles.signer, pemDigest)
            blobs.append(a.envelope)
            for r in records where r.envelope == a.envelope {
                file(ResultFiles.sbomPrefix + r.sbomFormat + ".json", r.sbom)
                blobs.append(r.sbom)
            }
            if let (name, d) = try BuildAttestation.archive(of: a, store: store), store.contains(d) {
                let full = try Digest.ofFile(try store.path(for: d))
                file(ResultFiles.archivePrefix + name, full)
                blobs.append(full)
            }
        }
        let (tree, root, dirs) = try reapiTree(manifest)
        var out = Build_Bazel_Remote_Execution_V2_OutputDirectory()
        out.path = "out"
        out.treeDigest = RE(tree.0)
        out.rootDirectoryDigest = RE(root)
        r.outputDirectories = [out]
        messages += [tree] + dirs
        r.outputFiles.sort { Manifest.bytewiseLess($0.path, $1.path) }
        return (r, blobs, messages)
    }

    /// Takes a remote ActionResult into the local store: downloads the manifest and
    /// every blob it names (each checked against its digest), the log, provenance, SBOM
    /// and archive; verifies the provenance (signature; the tree, every file, the recipe
    /// and the action it names; the signer among `trusted` when that is not empty);
    /// only then records the tree, the action and the attestation.
    /// - Throws: `ReproError(.verificationFailed)` (exit 4) when a blob or the
    ///   provenance does not verify; nothing is recorded then.
    static func receive(_ client: RemoteClient, result r: REActionResult, action: RemoteAction, recipeDigest: Digest,
                        store: Store, trusted: [PublicKey]) async throws -> ReceivedResult {
        let files = Dictionary(r.outputFiles.map { ($0.path, $0.digest.digest) }, uniquingKeysWith: { a, _ in a })
        guard r.exitCode == 0, let tree = files[ResultFiles.manifest] else {
            throw ReproError(.verificationFailed, "the remote action result for \(action.digest) is not a repro build result (exit code \(r.exitCode), no \(ResultFiles.manifest)); refused")
        }
        var stats = try await client.download([tree], into: store)
        let manifest = try store.manifest(tree: tree)
        stats = stats + (try await client.download(manifest.blobDigests, into: store))
        let sboms = files.filter { $0.key.hasPrefix(ResultFiles.sbomPrefix) && $0.key.hasSuffix(".json") }
            .map { (format: String($0.key.dropFirst(ResultFiles.sbomPrefix.count).dropLast(".json".count)), digest: $0.value) }
            .sorted { $0.format < $1.format }
        guard let envelopeDigest = files[ResultFiles.provenance], let signerDigest = files[ResultFiles.signer], !sboms.isEmpty else {
            throw ReproError(.verificationFailed, "the remote action result for \(action.digest) carries no signed provenance; refused")
        }
        var extra = [envelopeDigest, signerDigest] + sboms.map(\.digest)
        if r.hasStdoutDigest { extra.append(r.stdoutDigest.digest) }
        let archive = files.first { $0.key.hasPrefix(ResultFiles.archivePrefix) }
        if let archive { extra.append(archive.value) }
        stats = stats + (try await client.download(extra, into: store))

        // The provenance must verify before anything is recorded.
        let signer = try PublicKey(pem: try store.get(signerDigest), source: "the remote result's signer key")
        if !trusted.isEmpty, !trusted.contains(where: { $0.keyID == signer.keyID }) {
            throw ReproError(.verificationFailed, "the remote result for \(action.reproAction) is signed by keyid \(signer.keyID), which is not among the trusted keys (\(trusted.map(\.keyID).joined(separator: ", "))); refused")
        }
        let envelope = try DSSEEnvelope.parse(try store.get(envelopeDigest), source: "remote provenance \(envelopeDigest)")
        var expect = ProvenanceExpectations()
        var names: [String: String] = [:]
        for e in manifest.entries where e.kind == .file { names[e.path] = e.digest!.hex }
        expect.directory = ("remote result", names, tree.hex)
        expect.recipeDigest = recipeDigest.description
        let statement: ProvenanceStatement
        do {
            statement = try ProvenanceVerifier.verify(envelope, key: signer, expect: expect)
        } catch let e as ReproError {
            throw ReproError(.verificationFailed, "the provenance of the remote result for \(action.reproAction) does not verify: \(e.message); refused")
        }
        let said = statement.predicate.buildDefinition.internalParameters?["actionDigest"]?.string
        guard said == action.reproAction.description else {
            throw ReproError(.verificationFailed, "the remote provenance is for action \(said ?? "none"), not \(action.reproAction); refused")
        }

        try store.recordTree(tree)
        try store.recordAction(ActionResult(action: action.reproAction, tree: tree, manifest: tree, exitCode: 0,
                                            log: r.hasStdoutDigest ? r.stdoutDigest.digest : nil))
        for sbom in sboms {
            try store.recordAttestation(AttestationRecord(action: action.reproAction, tree: tree, envelope: envelopeDigest,
                                                          sbom: sbom.digest, sbomFormat: sbom.format, keyid: signer.keyID))
        }
        if let archive {
            try store.pin(archive.value, note: "output archive \(archive.key.dropFirst(ResultFiles.archivePrefix.count)) (remote)")
        }
        return ReceivedResult(tree: tree, stats: stats, keyid: signer.keyID)
    }
}
