import Core
import Foundation
import TestKit
import Testing
@testable import TestRun

/// Helpers shared by the adapter tests: reading a record stream, writing files.
enum Support {
    struct Ran {
        var status: Int32
        var stdout: Data
        var stderr: String
        var out: String { String(decoding: stdout, as: UTF8.self) }
    }

    static func records(_ path: String) throws -> [TestRecord] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { try TestRecord.parse($0) }
    }

    static func results(_ records: [TestRecord]) -> [String: TestResult] {
        var out: [String: TestResult] = [:]
        for case .result(let r) in records { out[r.id] = r }
        return out
    }

    static func starts(_ records: [TestRecord]) -> [String] {
        records.compactMap { if case .start(let id, _) = $0 { return id } else { return nil } }
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Runs a host program like `TestKit.run`, but with no signal blocked and default
    /// dispositions: a Foundation `Process` hands its child a mask blocking nearly every
    /// signal, and cmake and ctest (libuv) then never see SIGCHLD and hang. Output goes
    /// through files, so neither stream can fill a pipe and stall the other.
    static func run(_ args: [String], environment: [String: String]? = nil, cwd: String? = nil) throws -> Ran {
        let dir = try TestKit.tempDir("spawn")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, dir + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, dir + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = env.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        // posix_spawn_file_actions_addchdir_np is not visible to Swift: env -C changes directory.
        let args = cwd.map { ["/usr/bin/env", "-C", $0] + args } ?? args
        let argv = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawnp(&pid, args[0], &actions, &attr, argv, envp)
        guard rc == 0 else { throw ReproError(.system, "posix_spawnp \(args[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let out = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/out"))) ?? Data()
        let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Ran(status: code, stdout: out, stderr: err)
    }

    /// The repository's root (for recipes and the sandbox Makefile).
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
}

extension Support {
    /// The project the command-level suites run `repro test` on: `tests` written under
    /// DIR/r/proj/tests, and DIR/r/proj.toml, a recipe over the host toolchain whose
    /// input is proj/ and whose [test] runs pytest on proj/tests (`extra`: more lines of
    /// [test]), locked with `repro` (which gets the `lock` arguments). Returns the recipe.
    static func pytestProject(in dir: String, tests: [String: String], extra: String = "",
                              repro: ([String]) throws -> TestKit.Output, store: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir + "/r/proj/tests", withIntermediateDirectories: true)
        for (name, body) in tests {
            try body.write(toFile: dir + "/r/proj/tests/\(name)", atomically: true, encoding: .utf8)
        }
        return try hostRecipe(in: dir, build: "cp -r /build/src/proj $REPRO_OUT/proj", test: """
            framework = "pytest"
            directory = "/build/src/proj"
            args = ["tests"]
            \(extra)
            """, repro: repro, store: store)
    }

    /// DIR/r/proj.toml: a recipe over the host toolchain whose input is DIR/r/proj, with
    /// `build` as its build script and `test` as the lines of its [test] table, locked
    /// with `repro`. Returns its path.
    static func hostRecipe(in dir: String, build: String, test: String,
                           repro: ([String]) throws -> TestKit.Output, store: String) throws -> String {
        let path = dir + "/r/proj.toml"
        try """
        name = "proj"
        [toolchain]
        host = true
        [inputs.proj]
        path = "proj"
        [build]
        script = \"\"\"
        \(build)
        \"\"\"
        [test]
        \(test)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let lock = try repro(["lock", path, "--store", store])
        #expect(lock.status == 0, "\(lock.stderr)")
        return path
    }
}
