import Core
import Foundation

/// Unpacking of a fetched Debian source package (what `dpkg-source -x --skip-patches`
/// does), safely, plus the values a build derives from it.
public enum DebianSource {
    /// What `unpack` produced.
    public struct Unpacked: Sendable, Equatable {
        /// The source format from the .dsc (`3.0 (quilt)`, `3.0 (native)`, `1.0`).
        public var format: String
        /// Patches to apply, in order, relative to the unpacked tree, each with `-p1`:
        /// `debian/patches/<name>` from the quilt series, or the 1.0 `.diff.gz`'s path.
        /// They are not applied here: applying runs `patch`, which belongs inside the
        /// sandbox.
        public var patches: [String]
    }

    /// Unpacks the files of one source package (the paths `downloadSource` returned)
    /// into `dir`: the upstream tarball with its top directory stripped, component
    /// tarballs (`.orig-NAME.tar.*`) into `NAME/`, the `.debian.tar.*` over it.
    /// - Throws: `ReproError(.invalidInput)` for an unsafe archive or a file set without
    ///   a .dsc or a tarball.
    @discardableResult
    public static func unpack(_ paths: [String], into dir: String, clampMtime: Int64? = nil) throws -> Unpacked {
        let names = paths.map { ($0 as NSString).lastPathComponent }
        guard let dsc = paths.first(where: { $0.hasSuffix(".dsc") }) else {
            throw ReproError(.invalidInput, "source package files \(names.joined(separator: ", ")) have no .dsc")
        }
        let format = (try? String(contentsOfFile: dsc, encoding: .utf8))
            .flatMap { HostSources.stanzas(Self.stripSignature($0)).first?["format"] } ?? "1.0"
        let tarballs = paths.filter { isTarball($0) }
        let mainTar = tarballs.first { p in
            let n = (p as NSString).lastPathComponent
            return n.contains(".orig.tar.") || (!n.contains(".orig-") && !n.contains(".debian.tar."))
        }
        guard let mainTar else {
            throw ReproError(.invalidInput, "source package files \(names.joined(separator: ", ")) have no source tarball")
        }
        let strip = ExtractOptions(stripComponents: 1, clampMtime: clampMtime)
        try Extract.archive(mainTar, into: dir, options: strip)
        for component in tarballs where (component as NSString).lastPathComponent.contains(".orig-") {
            let n = (component as NSString).lastPathComponent
            guard let r = n.range(of: ".orig-") else { continue }
            let name = n[r.upperBound...].components(separatedBy: ".tar.").first ?? ""
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { continue }
            try Extract.archive(component, into: dir + "/" + name, options: strip)
        }
        if let debianTar = tarballs.first(where: { ($0 as NSString).lastPathComponent.contains(".debian.tar.") }) {
            try Extract.archive(debianTar, into: dir, options: ExtractOptions(clampMtime: clampMtime))
        }
        var patches: [String] = []
        if let diff = paths.first(where: { $0.hasSuffix(".diff.gz") }) {
            patches.append((diff as NSString).lastPathComponent)
            try FileManager.default.copyItem(atPath: diff, toPath: dir + "/" + patches[0])
        } else if format.contains("quilt"), let series = try? String(contentsOfFile: dir + "/debian/patches/series", encoding: .utf8) {
            for line in series.split(separator: "\n") {
                let name = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                    .split(separator: " ").first.map(String.init) ?? ""
                guard !name.isEmpty else { continue }
                guard !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                    throw ReproError(.invalidInput, "debian/patches/series names '\(name)', outside debian/patches")
                }
                patches.append("debian/patches/" + name)
            }
        }
        return Unpacked(format: format, patches: patches)
    }

    /// The time of the newest entry of `debian/changelog` under `dir` (its first
    /// trailer line, ` -- Name <mail>  Thu, 02 Feb 2023 12:00:00 +0100`), in seconds since
    /// the epoch: the conventional SOURCE_DATE_EPOCH of a Debian source.
    /// - Throws: `ReproError(.invalidInput)` when there is no readable changelog date.
    public static func changelogEpoch(_ dir: String) throws -> Int64 {
        let path = dir + "/debian/changelog"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ReproError(.invalidInput, "no \(path) to take source-date-epoch from")
        }
        for line in text.split(separator: "\n") where line.hasPrefix(" -- ") {
            guard let r = line.range(of: ">  ") else { break }
            let date = line[r.upperBound...].trimmingCharacters(in: .whitespaces)
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
            if let d = f.date(from: date) { return Int64(d.timeIntervalSince1970) }
            f.dateFormat = "EEE, d MMM yyyy HH:mm:ss Z"
            if let d = f.date(from: date) { return Int64(d.timeIntervalSince1970) }
            throw ReproError(.invalidInput, "\(path): cannot read the date '\(date)' of the newest entry")
        }
        throw ReproError(.invalidInput, "\(path) has no trailer line (' -- Name <mail>  DATE')")
    }

    static func isTarball(_ path: String) -> Bool {
        let n = (path as NSString).lastPathComponent
        return n.contains(".tar.") && !n.hasSuffix(".asc") || n.hasSuffix(".tar")
    }

    /// The body of a clear-signed .dsc.
    static func stripSignature(_ text: String) -> String {
        guard text.hasPrefix("-----BEGIN PGP SIGNED MESSAGE-----") else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        while let first = lines.first, !first.isEmpty { lines = lines.dropFirst() }  // Hash: header
        let body = lines.prefix { !$0.hasPrefix("-----BEGIN PGP SIGNATURE-----") }
        return body.joined(separator: "\n")
    }
}
