import Core
import Foundation

/// The plan `repro-testexec` runs inside the sandbox (sandbox/testexec/testexec.c):
/// one entry per test, run in this order, each as its own process group, with its own
/// timeout, exit-status rules, CPU and peak RSS from wait4, and output capped in a log.
///
/// Encoded as NUL-terminated KEY VALUE strings (docs/testing.md, "The testexec plan"):
/// a version pair first, then the run's options, then per test `test ID` followed by
/// its keys. NUL cannot occur in an argv string or a path, so no escaping is needed.
public struct TestExecPlan: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var file: String?
        /// argv; `argv[0]` without a '/' is looked up on the sandbox's PATH. Empty: the
        /// test is reported as an `error` without running (ctest's "Not Run").
        public var argv: [String]
        /// The working directory inside the sandbox (nil: testexec's own).
        public var cwd: String?
        /// `NAME=VALUE` additions to the sandbox's environment; a later one wins.
        public var env: [String]
        /// Seconds before the test's group gets SIGTERM (then SIGKILL); 0 = none.
        public var timeout: Double
        /// ctest WILL_FAIL: a non-zero exit passes and exit 0 fails.
        public var willFail: Bool
        /// ctest SKIP_RETURN_CODE: this exit status is `skip`.
        public var skipReturnCode: Int32?
        /// ctest DISABLED: reported as `skip` without running.
        public var disabled: Bool

        public init(id: String, file: String? = nil, argv: [String], cwd: String? = nil, env: [String] = [],
                    timeout: Double = 0, willFail: Bool = false, skipReturnCode: Int32? = nil, disabled: Bool = false) {
            self.id = id; self.file = file; self.argv = argv; self.cwd = cwd; self.env = env
            self.timeout = timeout; self.willFail = willFail; self.skipReturnCode = skipReturnCode
            self.disabled = disabled
        }
    }

    public var entries: [Entry]
    /// Bytes of each test's output kept in `$REPRO_TEST_DIR/logs/<pos>.log`.
    public var logLimit: Int
    /// Milliseconds between SIGTERM and SIGKILL at a timeout.
    public var graceMs: Int
    /// Where the records go (nil: `$REPRO_TEST_DIR/records.jsonl`).
    public var records: String?
    /// Where the logs go (nil: `$REPRO_TEST_DIR/logs`).
    public var logs: String?

    public static let executableName = "repro-testexec"
    public static let defaultLogLimit = 1 << 20

    public init(entries: [Entry], logLimit: Int = defaultLogLimit, graceMs: Int = 2000,
                records: String? = nil, logs: String? = nil) {
        self.entries = entries; self.logLimit = logLimit; self.graceMs = graceMs
        self.records = records; self.logs = logs
    }

    /// The entries in the order of `ids`; ids with no entry come back as `missing`
    /// (the runner writes a `missing` record for each). Repeated ids run once.
    public func ordered(by ids: [String]) -> (plan: TestExecPlan, missing: [String]) {
        var byId: [String: Entry] = [:]
        for e in entries where byId[e.id] == nil { byId[e.id] = e }
        var out = self
        out.entries = []
        var missing: [String] = []
        var seen: Set<String> = []
        for id in ids where seen.insert(id).inserted {
            if let e = byId[id] { out.entries.append(e) } else { missing.append(id) }
        }
        return (out, missing)
    }

    /// The plan's bytes.
    /// - Throws: `ReproError(.invalidInput)` naming the test when a string holds a NUL
    ///   or an env entry is not NAME=VALUE. (A test with no argv is run as an `error`.)
    public func encoded() throws -> Data {
        var out = Data()
        func pair(_ key: String, _ value: String, test: String? = nil) throws {
            guard !value.utf8.contains(0) else {
                throw ReproError(.invalidInput, "test plan: '\(key)' of \(test.map { "test '\($0)'" } ?? "the plan") contains a NUL byte")
            }
            out.append(contentsOf: Array(key.utf8) + [0] + Array(value.utf8) + [0])
        }
        try pair("repro-testexec-plan", "1")
        if let records { try pair("records", records) }
        if let logs { try pair("logs", logs) }
        try pair("log-limit", String(max(0, logLimit)))
        try pair("grace", String(max(0, graceMs)))
        for e in entries {
            try pair("test", e.id)
            if let f = e.file { try pair("file", f, test: e.id) }
            if let c = e.cwd { try pair("cwd", c, test: e.id) }
            if e.timeout > 0 { try pair("timeout", String(format: "%.3f", e.timeout), test: e.id) }
            if e.willFail { try pair("will-fail", "1", test: e.id) }
            if let s = e.skipReturnCode { try pair("skip-return-code", String(s), test: e.id) }
            if e.disabled { try pair("disabled", "1", test: e.id) }
            for v in e.env {
                guard let eq = v.firstIndex(of: "="), eq != v.startIndex else {
                    throw ReproError(.invalidInput, "environment entry '\(v)' of test '\(e.id)' is not NAME=VALUE")
                }
                try pair("env", v, test: e.id)
            }
            for a in e.argv { try pair("arg", a, test: e.id) }
        }
        return out
    }

    /// Writes the plan to `path`.
    /// - Throws: `ReproError(.system)` naming the path, or what `encoded()` throws.
    public func write(to path: String) throws {
        let data = try encoded()
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw ReproError(.system, "cannot write the test plan \(path): \(error.localizedDescription)")
        }
    }

    /// Where `repro-testexec` is: `$REPRO_TESTEXEC`, else next to the running executable
    /// (`repro`, installed together by scripts/setup), else next to the launcher, else on
    /// PATH. It is a static binary, bound read-only into the sandbox by the runner.
    /// - Throws: `ReproError(.invalidInput)` when `$REPRO_TESTEXEC` names no executable;
    ///   `ReproError(.unsupported)` naming the places looked at when none has it.
    public static func locateExecutable(environment: [String: String] = ProcessInfo.processInfo.environment,
                                        launcher: String? = nil) throws -> String {
        let fm = FileManager.default
        if let explicit = environment["REPRO_TESTEXEC"], !explicit.isEmpty {
            guard fm.isExecutableFile(atPath: explicit) else {
                throw ReproError(.invalidInput, "REPRO_TESTEXEC=\(explicit) is not an executable file; unset it or point it at sandbox/build/\(executableName)")
            }
            return explicit
        }
        var dirs: [String] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            dirs.append((exe as NSString).deletingLastPathComponent)
        }
        if let launcher { dirs.append(((launcher as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent) }
        dirs += (environment["PATH"] ?? "").split(separator: ":").map(String.init).filter { $0.hasPrefix("/") }
        for d in dirs {
            let p = d + "/" + executableName
            if fm.isExecutableFile(atPath: p) { return p }
        }
        throw ReproError(.unsupported, "\(executableName) not found next to repro, next to the launcher or on PATH (looked in \(dirs.joined(separator: ", "))); install it with scripts/setup (make -C sandbox builds it) or set REPRO_TESTEXEC")
    }
}
