import Core
import Foundation

/// A private apt state: its own sources, keyrings, lists, cache, an empty dpkg status
/// and an apt.conf, in one directory (e.g. `$REPRO_HOME/apt`). Every apt call runs with
/// `APT_CONFIG` pointing at that apt.conf plus explicit `-o Dir::...` options, so it
/// neither reads nor writes the system's apt state (/var/lib/apt, /var/cache/apt,
/// /var/lib/dpkg/status) and never modifies /etc/apt.
///
/// Sources come from the host's apt configuration, read at run time (no registry host
/// name is written into repro), with a matching `deb-src` entry added privately.
/// Layout:
///
///     apt.conf                      the whole private configuration
///     etc/sources.list.d/host.sources
///     etc/trusted.gpg.d/            copies of the host's trusted keys
///     keyrings/                     copies of the Signed-By keyrings
///     state/lists/  state/status    indexes; an empty dpkg status
///     cache/archives/  log/  lock
public struct AptState: Sendable {
    public let directory: String
    public let architecture: String
    /// The sources the private state uses (the host's, with deb-src, suites mapped).
    public private(set) var sources: [AptSource] = []

    /// Creates (or refreshes) the private state in `directory` from the host's apt
    /// configuration under `hostEtc`. Only `directory` is written.
    ///
    /// With `suite` (e.g. "bookworm"), every host suite is mapped onto it keeping its
    /// suffix: `trixie` -> `bookworm`, `trixie-updates` -> `bookworm-updates`,
    /// `trixie-security` -> `bookworm-security`, so a recipe's release does not depend on
    /// the host's. Use one directory per suite: the lists belong to the sources.
    /// - Throws: `ReproError(.unsupported)` when apt is missing or the host has no
    ///   usable `deb` source; `.invalidInput` for a directory apt.conf cannot quote or a
    ///   malformed suite name.
    public init(directory: String, hostEtc: String = "/etc/apt", architecture: String? = nil, suite: String? = nil) throws {
        let dir = (directory as NSString).standardizingPath
        guard dir.hasPrefix("/"), !dir.contains("\""), !dir.contains("\n") else {
            throw ReproError(.invalidInput, "apt state directory must be an absolute path without quotes or newlines: \(directory)")
        }
        if let suite {
            guard !suite.isEmpty, suite.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), suite.first!.isLetter else {
                throw ReproError(.invalidInput, "'\(suite)' is not a Debian suite name such as \"bookworm\"")
            }
        }
        self.directory = dir
        self.architecture = try architecture ?? Self.hostArchitecture()
        try setUp(hostEtc: hostEtc, suite: suite)
    }

    /// `trixie-security` with suite `bookworm` -> `bookworm-security`, when `trixie` is
    /// one of `hostNames` (the host's codename and the release aliases); other suites
    /// (a third party's `nodistro`) stay as they are.
    static func map(suite host: String, to suite: String, hostNames: Set<String>) -> String {
        let base = host.split(separator: "-", maxSplits: 1).first.map(String.init) ?? host
        guard hostNames.contains(base) else { return host }
        return suite + host.dropFirst(base.count)
    }

    /// The host's release codename (VERSION_CODENAME of os-release next to `hostEtc`'s
    /// parent) and the release aliases Debian's archive also answers to.
    static func hostSuiteNames(hostEtc: String) -> Set<String> {
        var names: Set<String> = ["stable", "oldstable", "oldoldstable", "testing", "unstable", "sid"]
        let osRelease = (hostEtc as NSString).deletingLastPathComponent + "/os-release"
        for path in [osRelease, "/usr/lib/os-release"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("VERSION_CODENAME=") {
                names.insert(String(line.dropFirst(17)).trimmingCharacters(in: CharacterSet(charactersIn: "\"' ")))
            }
            break
        }
        return names
    }

    var aptConf: String { directory + "/apt.conf" }
    var listsDir: String { directory + "/state/lists" }

    // MARK: - Set-up

    private mutating func setUp(hostEtc: String, suite: String?) throws {
        let fm = FileManager.default
        for sub in ["etc/sources.list.d", "etc/apt.conf.d", "etc/preferences.d", "etc/trusted.gpg.d",
                    "keyrings", "state/lists/partial", "cache/archives/partial", "log"] {
            try fm.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        if !fm.fileExists(atPath: directory + "/state/status") {
            try write("", to: directory + "/state/status")
        }
        try write("", to: directory + "/etc/sources.list")

        // Trusted keys for sources without Signed-By.
        var keyNames: Set<String> = []
        for hostDir in [hostEtc + "/trusted.gpg.d"] {
            for name in ((try? fm.contentsOfDirectory(atPath: hostDir)) ?? []).sorted()
            where name.hasSuffix(".gpg") || name.hasSuffix(".asc") {
                try copy(hostDir + "/" + name, to: directory + "/etc/trusted.gpg.d/" + name)
                keyNames.insert(name)
            }
        }
        if fm.fileExists(atPath: hostEtc + "/trusted.gpg") {
            try copy(hostEtc + "/trusted.gpg", to: directory + "/etc/trusted.gpg.d/host-trusted.gpg")
            keyNames.insert("host-trusted.gpg")
        }
        for stale in (try? fm.contentsOfDirectory(atPath: directory + "/etc/trusted.gpg.d")) ?? [] where !keyNames.contains(stale) {
            try? fm.removeItem(atPath: directory + "/etc/trusted.gpg.d/" + stale)
        }

        // Sources: every host `deb` source, with deb-src added; Signed-By keyrings copied.
        var sources = try HostSources.read(etc: hostEtc).filter { $0.types.contains("deb") }
        guard !sources.isEmpty else {
            throw ReproError(.unsupported, "no apt 'deb' source in \(hostEtc)/sources.list or \(hostEtc)/sources.list.d: repro derives its Debian sources from the host's apt configuration")
        }
        for i in sources.indices {
            sources[i].types = ["deb", "deb-src"]
            if let suite {
                var seen: Set<String> = []
                let names = Self.hostSuiteNames(hostEtc: hostEtc)
                sources[i].suites = sources[i].suites.map { Self.map(suite: $0, to: suite, hostNames: names) }
                    .filter { seen.insert($0).inserted }
            }
            sources[i].signedBy = try sources[i].signedBy.map { key in
                guard key.hasPrefix("/"), !key.contains("\n") else { return key }
                let name = (key as NSString).lastPathComponent
                let target = directory + "/keyrings/\(i)-" + name
                try copy(key, to: target)
                return target
            }
        }
        let text = "# Derived from \(hostEtc) by repro; regenerated on every use.\n\n"
            + sources.map(\.deb822).joined(separator: "\n")
        try write(text, to: directory + "/etc/sources.list.d/host.sources")
        self.sources = sources
        try write(try configuration(), to: aptConf)
    }

    /// The private apt.conf: every directory private, the host's network settings
    /// (proxies, date checks) carried over, signatures required.
    private func configuration() throws -> String {
        var lines = [
            "// Private apt configuration of repro: nothing here touches the system's apt state.",
            "Dir::Etc \"\(directory)/etc\";",
            "Dir::Etc::sourcelist \"sources.list\";",
            "Dir::Etc::sourceparts \"sources.list.d\";",
            "Dir::Etc::main \"apt.conf\";",
            "Dir::Etc::parts \"apt.conf.d\";",
            "Dir::Etc::preferences \"preferences\";",
            "Dir::Etc::preferencesparts \"preferences.d\";",
            "Dir::Etc::trusted \"trusted.gpg\";",
            "Dir::Etc::trustedparts \"trusted.gpg.d\";",
            "Dir::State \"\(directory)/state\";",
            "Dir::State::lists \"lists/\";",
            "Dir::State::status \"\(directory)/state/status\";",
            "Dir::State::extended_states \"extended_states\";",
            "Dir::Cache \"\(directory)/cache\";",
            "Dir::Cache::archives \"archives/\";",
            "Dir::Cache::pkgcache \"pkgcache.bin\";",
            "Dir::Cache::srcpkgcache \"srcpkgcache.bin\";",
            "Dir::Log \"\(directory)/log\";",
            "Debug::NoLocking \"1\";",
            "APT::Get::AllowUnauthenticated \"false\";",
            "Acquire::AllowInsecureRepositories \"false\";",
            "Acquire::AllowDowngradeToInsecureRepositories \"false\";",
            "APT::Architecture \"\(architecture)\";",
            "APT::Architectures { \"\(architecture)\"; };",
            "APT::Install-Recommends \"false\";",
            "APT::Install-Suggests \"false\";",
            "Acquire::Languages \"none\";",
            "Acquire::GzipIndexes \"true\";",
            "quiet \"1\";",
        ]
        lines += try hostNetworkSettings()
        return lines.joined(separator: "\n") + "\n"
    }

    /// Settings from the host's apt configuration that decide whether the registry is
    /// reachable at all: proxies, timeouts, retries, Valid-Until/Date checks.
    private func hostNetworkSettings() throws -> [String] {
        guard let aptConfig = try? Command.find("apt-config") else { return [] }
        let out = try Command(executable: aptConfig, arguments: ["dump"]).run()
        guard out.status == 0 else { return [] }
        let keep = ["Acquire::http::Proxy", "Acquire::https::Proxy", "Acquire::ftp::Proxy",
                    "Acquire::http::Timeout", "Acquire::https::Timeout", "Acquire::Retries",
                    "Acquire::Check-Valid-Until", "Acquire::Check-Date", "Acquire::ForceIPv4", "Acquire::ForceIPv6"]
        return out.stdout.split(separator: "\n").map(String.init).filter { line in
            keep.contains { line.hasPrefix($0 + " ") || line.hasPrefix($0 + "::") }
        }
    }

    private static func hostArchitecture() throws -> String {
        let out = try Command(executable: try Command.find("dpkg"), arguments: ["--print-architecture"]).check("dpkg --print-architecture")
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func write(_ text: String, to path: String) throws {
        if (try? String(contentsOfFile: path, encoding: .utf8)) == text { return }
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ReproError(.system, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    private func copy(_ source: String, to target: String) throws {
        guard let data = FileManager.default.contents(atPath: source) else {
            throw ReproError(.system, "cannot read the host keyring \(source)")
        }
        if FileManager.default.contents(atPath: target) == data { return }
        do { try data.write(to: URL(fileURLWithPath: target), options: .atomic) } catch {
            throw ReproError(.system, "cannot write \(target): \(error.localizedDescription)")
        }
    }

    // MARK: - Running apt

    /// The explicit options every apt call gets on top of `APT_CONFIG`.
    var privateOptions: [String] {
        ["-o", "Dir::Etc=\(directory)/etc",
         "-o", "Dir::State=\(directory)/state",
         "-o", "Dir::State::status=\(directory)/state/status",
         "-o", "Dir::Cache=\(directory)/cache",
         "-o", "Dir::Log=\(directory)/log",
         "-o", "Debug::NoLocking=1",
         "-o", "APT::Get::AllowUnauthenticated=false"]
    }

    func apt(_ program: String, _ args: [String], in cwd: String? = nil, progress: Bool = false,
             stdoutToStderr: Bool = false) throws -> Command {
        Command(executable: try Command.find(program), arguments: privateOptions + args,
                environment: ["APT_CONFIG": aptConf, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"],
                directory: cwd, echo: progress, stdoutToStderr: stdoutToStderr)
    }

    /// Runs `body` holding the state's lock file: exclusive for `update`, shared for
    /// readers, so concurrent repro processes never see half-written lists (apt's own
    /// locking is off: it would take the system's lock files' semantics).
    func locked<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        let fd = try Syscall.check("open \(directory)/lock") { open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        defer { close(fd) }
        try Syscall.check("flock \(directory)/lock") { flock(fd, exclusive ? LOCK_EX : LOCK_SH) }
        return try body()
    }

    /// True once `update()` has fetched indexes.
    public var hasLists: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: listsDir)) ?? []).contains { $0.hasSuffix("_InRelease") || $0.hasSuffix("_Release") }
    }

    /// `apt-get update` with the private state: fetches Packages and Sources indexes of
    /// the host's sources, checking their signatures. Progress goes to stderr.
    /// - Throws: `ReproError(.system)` quoting apt's errors when any index fails.
    public func update(progress: Bool = true) throws {
        try locked(exclusive: true) {
            _ = try apt("apt-get", ["update", "--error-on=any"], progress: progress, stdoutToStderr: true)
                .check("apt-get update (private state \(directory))")
        }
    }

    func requireLists() throws {
        guard hasLists else {
            throw ReproError(.invalidInput, "the private apt state \(directory) has no package lists yet: run an update (repro lock without --offline) first")
        }
    }

    /// Rejects a package argument that apt could take for an option or a pattern.
    static func checkSpec(_ spec: String) throws {
        let ok = spec.first.map { $0.isLetter || $0.isNumber } ?? false
            && spec.allSatisfy { $0.isLetter || $0.isNumber || "+-.:=~_".contains($0) }
        guard ok else {
            throw ReproError(.invalidInput, "'\(spec)' is not a Debian package name (expected name or name=version)")
        }
    }
}
