import Core
import Foundation
import Recipe

/// One Debian binary package, pinned: what a lock file records for it.
public struct DebPin: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public var name: String
    public var version: String
    public var architecture: String
    public var size: Int64
    /// 64 lowercase hex digits, from the Packages index.
    public var sha256: String
    /// The pool path in the archive, e.g. `pool/main/m/make-dfsg/make_4.3-4.1_amd64.deb`.
    public var filename: String
    /// The source package it was built from, as the Packages index says it
    /// (`gcc-12 (12.2.0-14)`), or its own name when the index names none. For SBOMs and
    /// provenance; not part of a root's id.
    public var source: String

    public init(name: String, version: String, architecture: String, size: Int64, sha256: String, filename: String,
                source: String = "") {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.size = size
        self.sha256 = sha256
        self.filename = filename
        self.source = source.isEmpty ? name : source
    }

    public static func < (a: DebPin, b: DebPin) -> Bool {
        (a.name, a.architecture, a.version) < (b.name, b.architecture, b.version)
    }

    /// `name=version`, as apt takes it.
    public var spec: String { "\(name)=\(version)" }
    /// The file name the .deb is stored under: the pool file's base name.
    public var fileName: String { (filename as NSString).lastPathComponent }
    public var digest: Digest { Digest(hex: sha256, size: size) }
    public var description: String { "\(name) \(version) \(architecture)" }
}

extension DebPin {
    /// The pin a lock file records.
    public init(_ p: LockFile.Package) {
        self.init(name: p.name, version: p.version, architecture: p.architecture, size: p.size, sha256: p.sha256,
                  filename: p.filename, source: p.source)
    }
}

extension LockFile.Package {
    /// What a lock file records of a resolved pin.
    public init(_ pin: DebPin) {
        self.init(name: pin.name, version: pin.version, architecture: pin.architecture, size: pin.size,
                  sha256: pin.sha256, filename: pin.filename, source: pin.source)
    }
}

/// One file of a Debian source package (.dsc, .orig.tar.*, .debian.tar.*).
public struct SourceFile: Hashable, Codable, Sendable, CustomStringConvertible {
    public var name: String
    public var size: Int64
    public var sha256: String

    public init(name: String, size: Int64, sha256: String) {
        self.name = name
        self.size = size
        self.sha256 = sha256
    }

    public var digest: Digest { Digest(hex: sha256, size: size) }
    public var description: String { "\(name) (\(size) bytes, sha256:\(sha256))" }
}

/// Checks of fetched files against their pins, and the `--offline` checks.
public enum Pinned {
    /// Checks that `path` has the expected size and sha256.
    /// - Throws: `ReproError(.verificationFailed)` naming the input, the expected and the
    ///   actual digest; `ReproError(.system)` when the file cannot be read.
    public static func verify(_ path: String, expected: Digest, input: String) throws {
        let actual = try Digest.ofFile(path)
        guard actual.hex == expected.hex, expected.size < 0 || actual.size == expected.size else {
            throw ReproError(.verificationFailed,
                             "hash mismatch for input \(input) (\(path)): expected \(expected) (\(expected.size) bytes), got \(actual) (\(actual.size) bytes)")
        }
    }

    /// The verified local paths of `pins` in `dir` without any network access.
    /// - Throws: `ReproError(.invalidInput)` listing every missing package when some are
    ///   not there (what `--offline` reports); `.verificationFailed` when one is there but
    ///   does not match its pin.
    public static func offlineDebs(_ pins: [DebPin], in dir: String) throws -> [String] {
        let missing = pins.filter { !FileManager.default.fileExists(atPath: dir + "/" + $0.fileName) }
        guard missing.isEmpty else {
            throw ReproError(.invalidInput,
                             "offline: \(missing.count) Debian package(s) not in \(dir): "
                             + missing.map { "\($0.name)=\($0.version) (\($0.fileName))" }.joined(separator: ", ")
                             + "; run without --offline once to fetch them, or import a store that has them")
        }
        return try pins.map { pin in
            let path = dir + "/" + pin.fileName
            try verify(path, expected: pin.digest, input: pin.name)
            return path
        }
    }

    /// The verified local paths of a source package's files in `dir`, offline.
    /// - Throws: as `offlineDebs`, naming the source package and each missing file.
    public static func offlineSource(_ files: [SourceFile], package: String, in dir: String) throws -> [String] {
        let missing = files.filter { !FileManager.default.fileExists(atPath: dir + "/" + $0.name) }
        guard missing.isEmpty else {
            throw ReproError(.invalidInput,
                             "offline: source package \(package) is missing \(missing.map(\.name).joined(separator: ", ")) in \(dir); "
                             + "run without --offline once to fetch it")
        }
        return try files.map { f in
            let path = dir + "/" + f.name
            try verify(path, expected: f.digest, input: "\(package) (\(f.name))")
            return path
        }
    }
}
