import Build
import Core
import Foundation

/// One thing `repro verify` changes between builds to catch what leaks into outputs
/// (docs/reproducibility.md, "Variations"). Everything else about a build stays as
/// `repro build` sets it.
public enum Variation: String, CaseIterable, Sendable, Codable, Comparable {
    case buildPath = "build-path"
    case fileOrder = "file-order"
    case time
    case hostname
    case domain
    case user
    case umask
    case locale
    case timezone
    case env
    case path
    case home
    case cpus
    case aslr
    case kernel

    public static func < (a: Variation, b: Variation) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// What the variation does, for `--help`, reports and docs.
    public var summary: String {
        switch self {
        case .buildPath: "host-side directory of /build and /out (a longer path, same filesystem)"
        case .fileOrder: "/build and /out on another filesystem (tmpfs), every staged directory recreated to list in reverse name order"
        case .time: "wall clock +N days (libfaketime), CLOCK_MONOTONIC/BOOTTIME +N days (time namespace)"
        case .hostname: "hostname repro-variant-N"
        case .domain: "NIS domain name variant-N.invalid"
        case .user: "uid/gid inside 1000+N (not for user = \"root\" recipes)"
        case .umask: "umask 002 (or 027) instead of 022"
        case .locale: "LANG, LC_ALL, LANGUAGE = fr_CH.UTF-8 (or de_DE.UTF-8)"
        case .timezone: "TZ=GMT-14 (or GMT+12) instead of UTC"
        case .env: "an extra variable REPRO_VARIANT_ENV"
        case .path: "an extra PATH entry /nonexistent/repro-variant-N/bin"
        case .home: "HOME=/nonexistent/repro-home-N"
        case .cpus: "one CPU (sched_setaffinity) and REPRO_JOBS=1"
        case .aslr: "address-space randomization off (personality ADDR_NO_RANDOMIZE)"
        case .kernel: "another kernel: uname -r says 2.6.x (personality UNAME26) and uname -m i686 on x86_64 (PER_LINUX32)"
        }
    }

    /// Parses `all`, `none` or a comma-separated list; `-NAME` removes one
    /// (`all,-aslr`).
    /// - Throws: `ReproError(.invalidInput)` naming an unknown variation and the known ones.
    public static func parseList(_ text: String) throws -> [Variation] {
        var set = Set<Variation>()
        for raw in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
            let remove = raw.hasPrefix("-")
            let name = remove ? String(raw.dropFirst()) : raw
            let items: [Variation]
            if name == "all" { items = allCases } else if name == "none" { items = [] } else if let v = Variation(rawValue: name) {
                items = [v]
            } else {
                throw ReproError(.invalidInput, "--variations: unknown variation '\(name)'; known: all, none, \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if remove { set.subtract(items) } else { set.formUnion(items) }
        }
        return set.sorted()
    }
}

/// What the host offers for the variations, found once per `repro verify`.
public struct VariationHost: Sendable {
    /// Where varied builds put their temporary directories (removed at the end).
    public var scratch: String
    /// A tmpfs directory for `file-order`, or nil when there is none (then only the
    /// order is reversed, on the store's filesystem).
    public var otherFilesystem: String?
    /// libfaketime on the host, or nil (then `time` shifts only the monotonic clocks).
    public var libfaketime: String?
    public var cpus: Int
    public var machine: String

    public init(scratch: String) {
        self.scratch = scratch
        let env = ProcessInfo.processInfo.environment
        let fm = FileManager.default
        var shm: String?
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        let tmpfs = mounts.split(separator: "\n").contains { line in
            let f = line.split(separator: " ")
            return f.count > 2 && f[1] == "/dev/shm" && f[2] == "tmpfs"
        }
        if tmpfs, access("/dev/shm", W_OK) == 0 { shm = "/dev/shm" }
        otherFilesystem = shm
        var candidates = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                          "/usr/lib/faketime/libfaketime.so.1", "/usr/local/lib/faketime/libfaketime.so.1"]
        if let e = env["REPRO_LIBFAKETIME"], !e.isEmpty { candidates = [e] }
        libfaketime = candidates.first { fm.isReadableFile(atPath: $0) }
        cpus = ProcessInfo.processInfo.activeProcessorCount
        var u = utsname()
        uname(&u)
        machine = withUnsafeBytes(of: u.machine) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }
}

/// Turns a set of variations into the concrete settings of varied run `n` (1, 2, ...).
public enum VariationPlan {
    /// - Returns: the variant and notes on what could not be varied here.
    public static func variant(_ variations: [Variation], run n: Int, host: VariationHost,
                               buildsAsRoot: Bool, fixedJobs: Int?) -> (BuildVariant, [String]) {
        var v = BuildVariant()
        var notes: [String] = []
        v.names = variations.map(\.rawValue)
        let odd = n % 2 == 1
        let set = Set(variations)
        if set.contains(.fileOrder) {
            v.reverseDirectoryOrder = true
            if let fs = host.otherFilesystem {
                v.tmpParent = fs + "/repro-verify-\(getpid())-\(n)"
            } else {
                notes.append("file-order: no writable tmpfs at /dev/shm; entries are only recreated in reverse order on the store's filesystem")
            }
        }
        if set.contains(.buildPath) {
            let base = v.tmpParent ?? host.scratch
            v.tmpParent = base + "/run-\(n)/a-much-longer/host-side/build-path-\(n)"
        }
        if set.contains(.time) {
            let days = Int64(397 + n)
            v.timeOffset = days * 86400
            if let lib = host.libfaketime {
                v.fakeTime = (lib, "+\(days)d")
            } else {
                notes.append("time: libfaketime is not installed (apt-get install libfaketime): only the monotonic and boot-time clocks are shifted, not the wall clock")
            }
        }
        if set.contains(.hostname) { v.hostname = "repro-variant-\(n)" }
        if set.contains(.domain) { v.domainname = "variant-\(n).invalid" }
        if set.contains(.user) {
            if buildsAsRoot { notes.append("user: the recipe builds as root; uid 0 is kept") } else { v.uid = UInt32(1000 + n) }
        }
        if set.contains(.umask) { v.umask = odd ? 0o002 : 0o027 }
        if set.contains(.locale) {
            let l = odd ? "fr_CH.UTF-8" : "de_DE.UTF-8"
            v.environment += [("LANG", l), ("LC_ALL", l), ("LANGUAGE", odd ? "fr_CH:fr" : "de_DE:de")]
        }
        if set.contains(.timezone) { v.environment.append(("TZ", odd ? "GMT-14" : "GMT+12")) }
        if set.contains(.env) { v.environment.append(("REPRO_VARIANT_ENV", "run-\(n)")) }
        if set.contains(.path) { v.extraPath = "/nonexistent/repro-variant-\(n)/bin" }
        if set.contains(.home) { v.environment.append(("HOME", "/nonexistent/repro-home-\(n)")) }
        if set.contains(.cpus) {
            if host.cpus > 1 {
                v.cpuAffinity = "0"
                if fixedJobs == nil { v.environment.append(("REPRO_JOBS", "1")) }
            } else if fixedJobs == nil {
                v.environment.append(("REPRO_JOBS", "2"))
                notes.append("cpus: this host has one CPU; only REPRO_JOBS is varied (2)")
            } else {
                notes.append("cpus: one CPU and the recipe fixes jobs; nothing to vary")
            }
        }
        if set.contains(.aslr) { v.personality.append("addr-no-randomize") }
        if set.contains(.kernel) {
            // A build that embeds the host's kernel release differs across real hosts:
            // UNAME26 makes uname -r report 2.6.x instead.
            v.personality.append("uname26")
            if ["x86_64", "aarch64", "ppc64le", "s390x"].contains(host.machine) {
                v.personality.append("linux32")
            } else {
                notes.append("kernel: no 32-bit personality on \(host.machine); only the release (uname -r) is varied")
            }
        }
        return (v, notes)
    }
}
