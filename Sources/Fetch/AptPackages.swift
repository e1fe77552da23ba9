import Core
import Foundation

extension AptState {
    /// The full closure of `packages` as apt would install it onto an empty system
    /// (recommends off), pinned with size, sha256 and pool path from the Packages index.
    ///
    /// With `includeEssential` the base set is added: every `Essential: yes` package
    /// (apt's `?essential` pattern) plus `usr-is-merged` where the archive has it (the
    /// toolchain root is merged-usr, which is what that package declares). Runs
    /// `apt-get install -s --no-install-recommends` against the private, empty status.
    /// - Returns: pins sorted by name.
    /// - Throws: `ReproError(.invalidInput)` for a package apt cannot find or install
    ///   (apt's message quoted), `.system` for other apt failures.
    public func resolve(packages: [String], includeEssential: Bool = true) throws -> [DebPin] {
        try requireLists()
        for p in packages { try Self.checkSpec(p) }
        return try locked(exclusive: false) {
            var args = ["install", "-s", "--no-install-recommends", "-o", "APT::Get::Show-Versions=0"]
            if includeEssential {
                args.append("?essential")
                if try known("usr-is-merged") { args.append("usr-is-merged") }
            }
            args += packages
            let out = try apt("apt-get", args).run()
            guard out.status == 0 else {
                throw ReproError(.invalidInput, "cannot resolve \(packages.joined(separator: " ")) with apt: \(Command.summary(out.stderr))")
            }
            let chosen = Self.parseSimulation(out.stdout)
            guard !chosen.isEmpty else {
                throw ReproError(.system, "apt-get install -s listed no packages for \(packages.joined(separator: " "))")
            }
            return try showPins(chosen.map { ($0.name, $0.version) })
        }
    }

    /// Pins exact versions (`debian-package = "pkg=version"` inputs), without their
    /// dependencies.
    /// - Throws: `ReproError(.invalidInput)` when a version is not in the indexes.
    public func pins(_ packages: [(name: String, version: String)]) throws -> [DebPin] {
        try requireLists()
        for p in packages { try Self.checkSpec("\(p.name)=\(p.version)") }
        return try locked(exclusive: false) { try showPins(packages) }
    }

    /// Whether the indexes know a package name.
    func known(_ name: String) throws -> Bool {
        try apt("apt-cache", ["show", "--no-all-versions", name]).run().status == 0
    }

    /// `apt-cache show name=version ...` parsed into pins, one per (name, version, arch).
    private func showPins(_ wanted: [(name: String, version: String)]) throws -> [DebPin] {
        let out = try apt("apt-cache", ["show"] + wanted.map { "\($0.name)=\($0.version)" }).run()
        guard out.status == 0 else {
            throw ReproError(.invalidInput, "apt-cache show failed: \(Command.summary(out.stderr))")
        }
        var found: [String: DebPin] = [:]
        for record in HostSources.stanzas(out.stdout) {
            guard let name = record["package"], let version = record["version"], let arch = record["architecture"],
                  let size = record["size"].flatMap({ Int64($0) }), let sha = record["sha256"],
                  let filename = record["filename"] else { continue }
            let key = "\(name)=\(version)"
            if found[key] == nil {
                found[key] = DebPin(name: name, version: version, architecture: arch, size: size, sha256: sha,
                                    filename: filename, source: record["source"] ?? name)
            }
        }
        var pins: [DebPin] = []
        for w in wanted {
            let bare = w.name.split(separator: ":").first.map(String.init) ?? w.name
            guard let pin = found["\(bare)=\(w.version)"] else {
                throw ReproError(.invalidInput, "\(w.name)=\(w.version) is not in the package indexes (no SHA256 to pin); check the version or update the apt state")
            }
            pins.append(pin)
        }
        return Array(Set(pins)).sorted()
    }

    /// Parses `Inst NAME (VERSION RELEASE... [ARCH])` lines of `apt-get install -s`.
    static func parseSimulation(_ text: String) -> [(name: String, version: String, arch: String)] {
        var result: [(String, String, String)] = []
        for line in text.split(separator: "\n") where line.hasPrefix("Inst ") {
            let rest = line.dropFirst(5)
            guard let space = rest.firstIndex(of: " "),
                  let open = rest.firstIndex(of: "("),
                  let close = rest[open...].firstIndex(of: ")") else { continue }
            let name = String(rest[..<space]).split(separator: ":").first.map(String.init) ?? ""
            let inside = rest[rest.index(after: open)..<close]
            let version = String(inside.split(separator: " ").first ?? "")
            var arch = ""
            if let lb = inside.lastIndex(of: "["), let rb = inside.lastIndex(of: "]"), lb < rb {
                arch = String(inside[inside.index(after: lb)..<rb])
            }
            if !name.isEmpty, !version.isEmpty { result.append((name, version, arch)) }
        }
        return result
    }

    /// Downloads the pinned .debs into `dir` (`apt-get download` with the private state)
    /// and verifies each file's size and sha256 against its pin. Files already in `dir`
    /// are verified and reused, not fetched again.
    /// - Returns: the paths, in the order of `pins`.
    /// - Throws: `ReproError(.verificationFailed)` "hash mismatch for input NAME ...:
    ///   expected sha256:…, got sha256:…"; `.system` when apt cannot fetch.
    public func download(_ pins: [DebPin], to dir: String, progress: Bool = false) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let missing = pins.filter { !FileManager.default.fileExists(atPath: dir + "/" + $0.fileName) }
        if !missing.isEmpty {
            try requireLists()
            let tmp = dir + "/.partial-\(getpid())-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            try locked(exclusive: false) {
                _ = try apt("apt-get", Self.asRoot + ["download"] + missing.map(\.spec), in: tmp, progress: progress, stdoutToStderr: true)
                    .check("apt-get download")
            }
            let fetched = (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
            for pin in missing {
                guard let name = Self.downloadedName(pin, among: fetched) else {
                    throw ReproError(.system, "apt-get download did not produce \(pin.fileName) for \(pin.spec)")
                }
                try Pinned.verify(tmp + "/" + name, expected: pin.digest, input: pin.name)
                try Syscall.check("rename \(tmp)/\(name)") { rename(tmp + "/" + name, dir + "/" + pin.fileName) }
            }
        }
        return try pins.map { pin in
            let path = dir + "/" + pin.fileName
            try Pinned.verify(path, expected: pin.digest, input: pin.name)
            return path
        }
    }

    /// As root, apt would drop to `_apt` for downloading, find that user cannot write to
    /// repro's directory, warn and download as root anyway: say so up front instead.
    static var asRoot: [String] { geteuid() == 0 ? ["-o", "APT::Sandbox::User=root"] : [] }

    /// apt-get download names files `name_version_arch.deb` with the epoch's ':' as "%3a";
    /// the pool name has no epoch.
    static func downloadedName(_ pin: DebPin, among names: [String]) -> String? {
        let escaped = "\(pin.name)_\(pin.version.replacingOccurrences(of: ":", with: "%3a"))_\(pin.architecture).deb"
        for candidate in [escaped, pin.fileName] where names.contains(candidate) { return candidate }
        return nil
    }

    // MARK: - Source packages

    /// The files of source package `package` at `version` (the .dsc, .orig.tar.* and
    /// .debian.tar.*), with size and sha256 from the Sources index, as
    /// `apt-get source --print-uris` lists them. `package` may also name a binary package.
    /// - Throws: `ReproError(.invalidInput)` when the indexes do not have it.
    public func sourceFiles(package: String, version: String) throws -> [SourceFile] {
        try requireLists()
        try Self.checkSpec("\(package)=\(version)")
        return try locked(exclusive: false) {
            let tmp = NSTemporaryDirectory()
            let out = try apt("apt-get", ["source", "--print-uris", "\(package)=\(version)"], in: tmp).run()
            guard out.status == 0 else {
                throw ReproError(.invalidInput, "source package \(package)=\(version) not found: \(Command.summary(out.stderr))")
            }
            let files = try Self.parseSourceURIs(out.stdout)
            guard !files.isEmpty else {
                throw ReproError(.invalidInput, "source package \(package)=\(version) lists no files")
            }
            return files
        }
    }

    /// Parses `'URI' NAME SIZE SHA256:HEX` lines.
    static func parseSourceURIs(_ text: String) throws -> [SourceFile] {
        var files: [SourceFile] = []
        for line in text.split(separator: "\n") where line.hasPrefix("'") {
            let words = line.split(separator: " ")
            guard words.count >= 4, let size = Int64(words[2]) else { continue }
            let hash = String(words[3])
            guard hash.lowercased().hasPrefix("sha256:") else {
                throw ReproError(.verificationFailed, "the Sources index gives no SHA256 for \(words[1]) (only \(hash.split(separator: ":").first ?? ""))")
            }
            files.append(SourceFile(name: String(words[1]), size: size, sha256: String(hash.dropFirst(7)).lowercased()))
        }
        return files
    }

    /// Downloads a source package's files into `dir` (like `apt-get source
    /// --download-only`) and verifies each against `expected` (or the index when nil).
    /// Files already present are verified and reused.
    /// - Returns: the paths, in the order of the file list.
    /// - Throws: `ReproError(.verificationFailed)` on a mismatch, `.invalidInput` when
    ///   the package is unknown, `.system` when apt cannot fetch.
    public func downloadSource(package: String, version: String, expected: [SourceFile]? = nil,
                               to dir: String, progress: Bool = false) throws -> [String] {
        let files = try expected ?? sourceFiles(package: package, version: version)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let missing = files.filter { !FileManager.default.fileExists(atPath: dir + "/" + $0.name) }
        if !missing.isEmpty {
            try requireLists()
            try Self.checkSpec("\(package)=\(version)")
            let tmp = dir + "/.partial-\(getpid())-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            try locked(exclusive: false) {
                _ = try apt("apt-get", Self.asRoot + ["source", "--download-only", "\(package)=\(version)"], in: tmp,
                            progress: progress, stdoutToStderr: true)
                    .check("apt-get source --download-only \(package)=\(version)")
            }
            for f in missing {
                let got = tmp + "/" + f.name
                guard FileManager.default.fileExists(atPath: got) else {
                    throw ReproError(.system, "apt-get source did not produce \(f.name) for \(package)=\(version)")
                }
                try Pinned.verify(got, expected: f.digest, input: "\(package) (\(f.name))")
                try Syscall.check("rename \(got)") { rename(got, dir + "/" + f.name) }
            }
        }
        return try Pinned.offlineSource(files, package: package, in: dir)
    }
}
