import CArchive
import Core
import Foundation

/// `bundle.json`: what a bundle says about the build it carries (docs/reproducibility.md,
/// "Bundles").
public struct BundleInfo: Codable, Sendable, Equatable {
    public var format: String
    /// The recipe's file name; the recipe is `recipe/<recipe>`, its lock next to it.
    public var recipe: String
    public var recipeDigest: String
    public var actionDigest: String
    public var treeDigest: String
    /// `sha256:<toolchain id>` or `host`.
    public var toolchain: String
    public var policy: String
    public var logDigest: String?
    public var reproVersion: String
    /// True when the output tree is under `outputs/`.
    public var outputs: Bool
    public var files: Int
    public var bytes: Int64

    public init(recipe: String, recipeDigest: String, actionDigest: String, treeDigest: String, toolchain: String,
                policy: String, logDigest: String?, reproVersion: String, outputs: Bool, files: Int, bytes: Int64) {
        self.format = BundleFile.format
        self.recipe = recipe; self.recipeDigest = recipeDigest; self.actionDigest = actionDigest
        self.treeDigest = treeDigest; self.toolchain = toolchain; self.policy = policy; self.logDigest = logDigest
        self.reproVersion = reproVersion; self.outputs = outputs; self.files = files; self.bytes = bytes
    }

    enum CodingKeys: String, CodingKey {
        case format, recipe, recipeDigest = "recipe_digest", actionDigest = "action_digest", treeDigest = "tree_digest"
        case toolchain, policy, logDigest = "log_digest", reproVersion = "repro_version", outputs, files, bytes
    }
}

/// A bundle read back and extracted into a directory.
public struct BundleContents: Sendable {
    public var info: BundleInfo
    /// The manifest (its canonical text hashes to `info.treeDigest`).
    public var manifest: Manifest
    /// The directory everything was extracted into.
    public var dir: String
    /// The extracted recipe file (its lock and path inputs beside it).
    public var recipePath: String
    /// The extracted output tree (`outputs/`), checked against the manifest; nil when
    /// the bundle has no outputs.
    public var outputsDir: String?
    /// The extracted provenance envelope and SBOM, when the bundle has them.
    public var provenancePath: String?
    public var sbomPath: String?
}

/// One deterministic archive carrying a build between hosts (format
/// `repro-bundle-1`): bundle.json, the manifest, the recipe with its lock and local
/// path inputs, the provenance and SBOM when there are some, optionally the outputs.
/// Written with libarchive like the output archives: entries sorted by name, mtime the
/// recipe's SOURCE_DATE_EPOCH (or 0), uid/gid 0 without names, pax restricted headers,
/// gzip (for .gz/.tgz names) without name or time.
public enum BundleFile {
    public static let format = "repro-bundle-1"

    /// One entry to write.
    public enum Entry: Sendable {
        case data(Data, executable: Bool = false)
        /// A host file, copied as is.
        case file(String, executable: Bool)
        case directory
        case symlink(String)
    }

    /// Writes `entries` (name -> entry) to `path` atomically (a temporary file, then rename).
    /// - Throws: `ReproError(.system)` naming the libarchive call that failed.
    public static func write(_ entries: [String: Entry], to path: String, epoch: Int64 = 0) throws {
        let tmp = path + ".tmp-\(getpid())"
        do {
            try writeArchive(entries, to: tmp, gzip: path.hasSuffix(".gz") || path.hasSuffix(".tgz"), epoch: epoch)
            try Syscall.check("rename \(tmp) -> \(path)") { rename(tmp, path) }
        } catch {
            unlink(tmp)
            throw error
        }
    }

    private static func writeArchive(_ entries: [String: Entry], to path: String, gzip: Bool, epoch: Int64) throws {
        guard let a = archive_write_new() else { throw ReproError(.system, "archive_write_new failed") }
        defer { archive_write_free(a) }
        func fail(_ call: String) -> ReproError {
            ReproError(.system, "\(call) \(path): \(archive_error_string(a).map { String(cString: $0) } ?? "unknown error")")
        }
        archive_write_set_format_pax_restricted(a)
        if gzip {
            archive_write_add_filter_gzip(a)
            guard archive_write_set_filter_option(a, "gzip", "timestamp", nil) == ARCHIVE_OK else { throw fail("gzip option") }
        } else {
            archive_write_add_filter_none(a)
        }
        archive_write_set_bytes_in_last_block(a, 1)
        guard archive_write_open_filename(a, path) == ARCHIVE_OK else { throw fail("archive_write_open_filename") }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        for name in entries.keys.sorted(by: Manifest.bytewiseLess) {
            let entry = entries[name]!
            guard let e = archive_entry_new() else { throw ReproError(.system, "archive_entry_new failed") }
            defer { archive_entry_free(e) }
            archive_entry_set_pathname(e, name)
            archive_entry_set_mtime(e, time_t(epoch), 0)
            archive_entry_set_uid(e, 0)
            archive_entry_set_gid(e, 0)
            switch entry {
            case let .data(d, x):
                archive_entry_set_filetype(e, 0o100000); archive_entry_set_perm(e, x ? 0o755 : 0o644)
                archive_entry_set_size(e, Int64(d.count))
            case let .file(p, x):
                archive_entry_set_filetype(e, 0o100000); archive_entry_set_perm(e, x ? 0o755 : 0o644)
                var st = stat()
                guard stat(p, &st) == 0 else { throw ReproError(.invalidInput, "\(p): cannot read it for the bundle: \(Syscall.errorString(errno))") }
                archive_entry_set_size(e, Int64(st.st_size))
            case .directory:
                archive_entry_set_filetype(e, 0o040000); archive_entry_set_perm(e, 0o755)
            case let .symlink(target):
                archive_entry_set_filetype(e, 0o120000); archive_entry_set_perm(e, 0o777)
                archive_entry_set_symlink(e, target)
            }
            guard archive_write_header(a, e) == ARCHIVE_OK else { throw fail("archive_write_header \(name)") }
            switch entry {
            case let .data(d, _):
                if !d.isEmpty {
                    let n = d.withUnsafeBytes { archive_write_data(a, $0.baseAddress, $0.count) }
                    guard n == d.count else { throw fail("archive_write_data \(name)") }
                }
            case let .file(p, _):
                let fd = try Syscall.check("open \(p)") { open(p, O_RDONLY | O_CLOEXEC) }
                defer { close(fd) }
                while true {
                    let n = try Syscall.check("read \(p)") { buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
                    if n == 0 { break }
                    guard archive_write_data(a, buf, n) == n else { throw fail("archive_write_data \(name)") }
                }
            default: break
            }
        }
        guard archive_write_close(a) == ARCHIVE_OK else { throw fail("archive_write_close") }
    }

    /// Reads a bundle into `dir` (created; must not exist or be empty) and checks it.
    /// - Throws: `ReproError(.invalidInput)` (exit 2) for a file that is not a bundle, an
    ///   unknown format, an entry that is absolute, climbs out with `..`, passes through
    ///   a symbolic link or is not a file, directory or link; `.verificationFailed`
    ///   (exit 4) when the manifest does not hash to `tree_digest` or the outputs do not
    ///   match the manifest.
    public static func read(_ path: String, into dir: String) throws -> BundleContents {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ReproError(.invalidInput, "\(path): no such bundle file")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard let a = archive_read_new() else { throw ReproError(.system, "archive_read_new failed") }
        defer { archive_read_free(a) }
        archive_read_support_format_tar(a)
        archive_read_support_filter_all(a)
        guard archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK else {
            throw ReproError(.invalidInput, "\(path): not a bundle: \(archive_error_string(a).map { String(cString: $0) } ?? "cannot open")")
        }
        var links = Set<String>()
        var seen = Set<String>()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var entry: OpaquePointer?
        while true {
            let rc = archive_read_next_header(a, &entry)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let e = entry else {
                throw ReproError(.invalidInput, "\(path): not a bundle: \(archive_error_string(a).map { String(cString: $0) } ?? "unreadable entry")")
            }
            let raw = archive_entry_pathname(e).map { String(cString: $0) } ?? ""
            let name = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard !name.isEmpty, !name.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
                throw ReproError(.invalidInput, "\(path): entry '\(raw)' escapes the bundle (absolute or with '..'); refusing it")
            }
            for i in 1..<parts.count where links.contains(parts[..<i].joined(separator: "/")) {
                throw ReproError(.invalidInput, "\(path): entry '\(name)' lies under the symbolic link '\(parts[..<i].joined(separator: "/"))'; refusing it")
            }
            guard seen.insert(name).inserted else { throw ReproError(.invalidInput, "\(path): entry '\(name)' appears twice") }
            do {
                let dest = dir + "/" + name
                try FileManager.default.createDirectory(atPath: (dest as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                switch archive_entry_filetype(e) {
                case 0o040000:
                    try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
                case 0o120000:
                    let target = archive_entry_symlink(e).map { String(cString: $0) } ?? ""
                    try Syscall.check("symlink \(name)") { symlink(target, dest) }
                    links.insert(name)
                case 0o100000:
                    let mode: mode_t = (archive_entry_perm(e) & 0o111) != 0 ? 0o755 : 0o644
                    let fd = try Syscall.check("create \(dest)") { open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
                    defer { close(fd) }
                    while true {
                        let n = buf.withUnsafeMutableBytes { archive_read_data(a, $0.baseAddress, $0.count) }
                        if n == 0 { break }
                        guard n > 0 else { throw ReproError(.invalidInput, "\(path): entry '\(name)' is truncated") }
                        var off = 0
                        while off < n {
                            let w = try Syscall.check("write \(dest)") { buf.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, n - off) } }
                            off += w
                        }
                    }
                default:
                    throw ReproError(.invalidInput, "\(path): entry '\(name)' is not a file, directory or symbolic link; refusing it")
                }
            } catch let e as ReproError where e.code == .system {
                // An entry that clashes with an earlier one (a link where a directory
                // was made, a file twice through different spellings).
                throw ReproError(.invalidInput, "\(path): entry '\(name)' cannot be extracted: \(e.message); not a bundle repro wrote")
            } catch let e as CocoaError {
                throw ReproError(.invalidInput, "\(path): entry '\(name)' cannot be extracted: \(e.localizedDescription); not a bundle repro wrote")
            }
        }

        guard let infoData = FileManager.default.contents(atPath: dir + "/bundle.json") else {
            throw ReproError(.invalidInput, "\(path): no bundle.json; not a repro bundle (make one with 'repro bundle export')")
        }
        struct Probe: Decodable { var format: String? }
        let format = (try? JSONDecoder().decode(Probe.self, from: infoData))?.format
        guard format == BundleFile.format else {
            throw ReproError(.invalidInput, "\(path): bundle format '\(format ?? "none")' is not \(BundleFile.format); a newer repro may read it")
        }
        let info: BundleInfo
        do { info = try JSONDecoder().decode(BundleInfo.self, from: infoData) } catch {
            throw ReproError(.invalidInput, "\(path): bundle.json is malformed: \(error)")
        }
        guard let manifestData = FileManager.default.contents(atPath: dir + "/manifest") else {
            throw ReproError(.invalidInput, "\(path): no manifest entry")
        }
        let actual = Digest.of(manifestData)
        guard actual.description == info.treeDigest else {
            throw ReproError(.verificationFailed, "\(path): the manifest hashes to \(actual), not to tree_digest \(info.treeDigest): the bundle was altered")
        }
        let manifest = try Manifest.parse(manifestData)
        let name = (info.recipe as NSString).lastPathComponent
        guard name == info.recipe, !name.isEmpty, name.hasSuffix(".toml") else {
            throw ReproError(.invalidInput, "\(path): bundle.json names the recipe '\(info.recipe)'; expected a plain NAME.toml")
        }
        let recipePath = dir + "/recipe/" + name
        let lockPath = String(recipePath.dropLast(5)) + ".lock"
        guard FileManager.default.fileExists(atPath: recipePath), FileManager.default.fileExists(atPath: lockPath) else {
            throw ReproError(.invalidInput, "\(path): the bundle lacks recipe/\(name) or its lock")
        }
        var outputs: String?
        if info.outputs {
            let o = dir + "/outputs"
            try FileManager.default.createDirectory(atPath: o, withIntermediateDirectories: true)
            let got = try TreeHasher.manifest(of: o).treeDigest
            guard got.description == info.treeDigest else {
                throw ReproError(.verificationFailed, "\(path): the outputs/ tree hashes to \(got), not to tree_digest \(info.treeDigest): the bundle was altered")
            }
            outputs = o
        }
        let fm = FileManager.default
        return BundleContents(info: info, manifest: manifest, dir: dir, recipePath: recipePath, outputsDir: outputs,
                              provenancePath: fm.fileExists(atPath: dir + "/provenance.intoto.jsonl") ? dir + "/provenance.intoto.jsonl" : nil,
                              sbomPath: ["/sbom.spdx.json", "/sbom.cdx.json"].map { dir + $0 }.first { fm.fileExists(atPath: $0) })
    }
}
