import CArchive
import Core
import Foundation
import Store

/// One side of `repro diff`: a manifest of entries and, when the side has them, a way to
/// open a file entry's contents. Made from an output directory, a manifest file, a store
/// tree digest, a bundle, or (when both sides are) a single file.
public struct DiffSource {
    public enum Kind: String, Sendable {
        case directory, manifest, store, bundle, file
    }

    public let input: String
    public let kind: Kind
    public let manifest: Manifest
    /// The path holding a file entry's bytes; nil when this side has no contents.
    let contentPath: (@Sendable (ManifestEntry) throws -> String)?

    public var hasContents: Bool { contentPath != nil }

    var info: DiffSideInfo {
        let digest = kind == .file ? manifest.entries.first?.digest?.description : manifest.treeDigest.description
        return DiffSideInfo(input: input, kind: kind.rawValue, treeDigest: digest ?? "", contents: hasContents)
    }

    /// What `repro diff` accepts, for messages.
    static let accepted = "an output directory, a manifest file (`repro hash DIR --manifest`), "
        + "a store tree digest sha256:..., or a bundle (`repro bundle export`)"

    /// Resolves one argument of `repro diff`; errors start with `side` ("A", "B").
    /// - Parameters:
    ///   - store: the store directory for digests (nil: `$REPRO_HOME`).
    ///   - scratch: an empty directory bundles may be extracted into.
    /// - Throws: `ReproError(.invalidInput)` (exit 2) for a missing path, a digest not
    ///   in the store, a malformed manifest or bundle; `.verificationFailed` (exit 4) for
    ///   a bundle whose manifest or outputs do not match its tree digest.
    public static func open(_ input: String, side: String, store: String?, scratch: String) throws -> DiffSource {
        do {
            return try open(input, store: store, scratch: scratch)
        } catch let e as ReproError {
            throw ReproError(e.code, "\(side): \(e.message)", cause: e.cause)
        }
    }

    static func open(_ input: String, store: String?, scratch: String) throws -> DiffSource {
        var st = stat()
        guard stat(input, &st) == 0 else {
            if input.hasPrefix("sha256:") { return try fromStore(input, store: store) }
            throw ReproError(.invalidInput, "\(input): no such file or directory; give \(accepted)")
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            let manifest = try TreeHasher.manifest(of: input)
            return DiffSource(input: input, kind: .directory, manifest: manifest) { input + "/" + $0.path }
        case S_IFREG:
            return try fromFile(input, scratch: scratch)
        default:
            throw ReproError(.invalidInput, "\(input): not a directory or regular file; give \(accepted)")
        }
    }

    static func fromStore(_ input: String, store root: String?) throws -> DiffSource {
        let tree = try Digest.parse(input)
        let root = root ?? Store.defaultRoot
        guard FileManager.default.fileExists(atPath: root + "/index.sqlite") else {
            throw ReproError(.invalidInput, "\(input): there is no store at \(root) to look the digest up in; "
                             + "pass --store DIR or set REPRO_HOME")
        }
        let store = try Store(root: root)
        guard store.contains(tree) else {
            throw ReproError(.invalidInput, "\(input) is not in the store at \(root); build it, "
                             + "`repro store import` it, or pass --store DIR")
        }
        let manifest: Manifest
        do {
            manifest = try store.manifest(tree: tree)
        } catch let e as ReproError where e.code == .invalidInput {
            throw ReproError(.invalidInput, "\(input) names a blob in \(root) that is not a tree manifest: \(e.message)")
        }
        return DiffSource(input: input, kind: .store, manifest: manifest) { try store.path(for: $0.digest!) }
    }

    static func fromFile(_ path: String, scratch: String) throws -> DiffSource {
        if isBundle(path) {
            // BundleFile.read checks the manifest against tree_digest and the outputs (when
            // exported --with-outputs) against the manifest.
            let contents = try BundleFile.read(path, into: scratch)
            guard let outputs = contents.outputsDir else {
                return DiffSource(input: path, kind: .bundle, manifest: contents.manifest, contentPath: nil)
            }
            return DiffSource(input: path, kind: .bundle, manifest: contents.manifest) { outputs + "/" + $0.path }
        }
        if try looksLikeManifest(path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ReproError(.invalidInput, "\(path): cannot read it")
            }
            do {
                return DiffSource(input: path, kind: .manifest, manifest: try Manifest.parse(data), contentPath: nil)
            } catch let e as ReproError {
                throw ReproError(.invalidInput, "\(path): bad manifest: \(badLine(data) ?? e.message); "
                                 + "write one with `repro hash DIR --manifest`")
            }
        }
        // Any other file: compared as one file with the other side, which must be a file too.
        let digest = try Digest.ofFile(path)
        let name = (path as NSString).lastPathComponent
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ReproError(.invalidInput, "\(path): cannot stat it: \(Syscall.errorString(errno))")
        }
        let executable = st.st_mode & 0o111 != 0
        return DiffSource(input: path, kind: .file,
                          manifest: Manifest(entries: [.file(name, executable: executable, digest: digest)])) { _ in path }
    }

    /// The first line of a manifest that does not parse on its own, with its number.
    static func badLine(_ data: Data) -> String? {
        for (i, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
            where !line.isEmpty {
            do {
                _ = try Manifest.parse(Data(line))
            } catch let e as ReproError {
                return "line \(i + 1): \(e.message.replacingOccurrences(of: "manifest line 1: ", with: ""))"
            } catch {
                return nil
            }
        }
        return nil
    }

    /// A tar (any compression) with a `bundle.json` member.
    static func isBundle(_ path: String) -> Bool {
        guard let a = archive_read_new() else { return false }
        defer { archive_read_free(a) }
        archive_read_support_format_tar(a)
        archive_read_support_filter_all(a)
        guard archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK else { return false }
        var entry: OpaquePointer?
        while archive_read_next_header(a, &entry) == ARCHIVE_OK, let e = entry {
            let name = archive_entry_pathname(e).map { String(cString: $0) } ?? ""
            if name == "bundle.json" || name == "./bundle.json" { return true }
        }
        return false
    }

    /// Whether the file starts like a manifest line (`f 0644 `, `d 0755 `, `l 0777 `) or
    /// is empty (the manifest of an empty tree).
    static func looksLikeManifest(_ path: String) throws -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw ReproError(.invalidInput, "\(path): cannot read it")
        }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 8)) ?? Data()
        if head.isEmpty { return true }
        guard head.count >= 7 else { return false }
        let s = String(decoding: head.prefix(7), as: UTF8.self)
        let octal = s.dropFirst(2).prefix(4)
        return ["f ", "d ", "l "].contains(String(s.prefix(2))) && octal.allSatisfy { ("0"..."7").contains($0) }
            && s.last == " "
    }
}
