import CArchive
import Core
import Foundation
import Store

/// Reads the parts of a bundle (/work/notes/bundle-format.md, docs/reproducibility.md)
/// `repro diff` needs: `bundle.json` (its format), the `manifest` (checked against
/// `tree_digest`) and whether `outputs/` is there. Members are looked at, never extracted.
enum DiffBundle {
    struct Contents {
        var manifest: Manifest
        var hasOutputs: Bool
    }

    /// - Throws: `ReproError(.invalidInput)` for an unreadable bundle, an unknown format or
    ///   a missing manifest; `.verificationFailed` when the manifest does not hash to
    ///   `tree_digest`.
    static func read(_ path: String) throws -> Contents {
        guard let a = archive_read_new() else { throw ReproError(.system, "archive_read_new failed") }
        defer { archive_read_free(a) }
        archive_read_support_format_tar(a)
        archive_read_support_filter_all(a)
        guard archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK else {
            throw ReproError(.invalidInput, "\(path): unreadable bundle: \(error(a))")
        }
        var info: Data?, manifest: Data?, outputs = false
        var entry: OpaquePointer?
        while true {
            let r = archive_read_next_header(a, &entry)
            if r == ARCHIVE_EOF { break }
            guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let e = entry else {
                throw ReproError(.invalidInput, "\(path): unreadable bundle: \(error(a)); export it again with `repro bundle export`")
            }
            var name = archive_entry_pathname(e).map { String(cString: $0) } ?? ""
            if name.hasPrefix("./") { name.removeFirst(2) }
            if name.hasPrefix("/") || name.split(separator: "/").contains("..") {
                throw ReproError(.invalidInput, "\(path): entry '\(name)' escapes the bundle (absolute or with '..'); refusing it")
            }
            switch name {
            case "bundle.json": info = try data(a, path, name)
            case "manifest": manifest = try data(a, path, name)
            default: if name.hasPrefix("outputs/") || name == "outputs" { outputs = true }
            }
        }
        guard let info,
              let object = try? JSONSerialization.jsonObject(with: info) as? [String: Any] else {
            throw ReproError(.invalidInput, "\(path): bundle.json is missing or not a JSON object; not a repro bundle")
        }
        guard object["format"] as? String == "repro-bundle-1" else {
            throw ReproError(.invalidInput, "\(path): bundle format '\(object["format"] ?? "none")' is not repro-bundle-1; a newer repro may read it")
        }
        guard let manifest else { throw ReproError(.invalidInput, "\(path): the bundle has no manifest entry") }
        let tree = Digest.of(manifest)
        guard object["tree_digest"] as? String == tree.description else {
            throw ReproError(.verificationFailed, "\(path): the manifest hashes to \(tree), not to the tree_digest "
                             + "\(object["tree_digest"] ?? "none") of bundle.json: the bundle was altered")
        }
        do {
            return Contents(manifest: try Manifest.parse(manifest), hasOutputs: outputs)
        } catch let e as ReproError {
            throw ReproError(.invalidInput, "\(path): the bundle's manifest is malformed: \(e.message)")
        }
    }

    private static func data(_ a: OpaquePointer, _ path: String, _ name: String) throws -> Data {
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = archive_read_data(a, &buf, buf.count)
            if n == 0 { return out }
            guard n > 0, out.count + n <= 256 << 20 else {
                throw ReproError(.invalidInput, "\(path): entry '\(name)' is unreadable or too large: \(error(a))")
            }
            out.append(contentsOf: buf[0..<n])
        }
    }

    private static func error(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "not a tar archive"
    }
}
