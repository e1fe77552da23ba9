import Build
import Core
import Faults
import Foundation
import Recipe
import Sandbox

/// The sandbox a `[test]` step runs in: the test root read-only as /, the build's
/// working tree writable at /build (pristine for each run: `TestWorktree`), the build's outputs
/// read-only at /out, repro's adapters read-only at /repro, and the record stream's
/// directory writable at /run/repro. Same fixed view as a build otherwise.
struct TestSandbox {
    var recipe: Recipe
    var test: Recipe.Test
    var root: String?
    /// The working tree; host directories of the outputs, the adapters, the records.
    var work: TestWorktree
    var out: String, lib: String, run: String
    var epoch: Int64
    var allowDegrade: Bool
    /// Faults injected into every launch of the suite (`--fault` or `[test] faults`).
    var faults: FaultSpec? = nil

    static let recordsDir = "/run/repro"
    /// Where the suite writes named results (docs/results.md), as $REPRO_RESULTS.
    static let resultsFile = recordsDir + "/results.jsonl"
    static let libDir = "/repro"

    /// Defaults when `[test.limits]` says nothing: memory half the host's RAM (at most
    /// 16 GiB), 4096 pids, and no whole-run timeout (each test has its own).
    static var defaultMemory: Int64 {
        let half = Int64(ProcessInfo.processInfo.physicalMemory / 2)
        return min(half, 16 << 30)
    }
    static let defaultPids = 4096

    func spec(command: [String], extraEnv: [(String, String)] = [], cpuAffinity: String? = nil) -> SandboxSpec {
        let uid: UInt32 = recipe.build.user == .root ? 0 : 1000
        var mounts: [SandboxSpec.Mount] = root.map { Builder.rootMounts($0) } ?? HostToolchain.mounts()
        mounts += SandboxView.etcFiles(uid: uid, gid: uid, home: "/build")
        mounts += SandboxView.system
        mounts += [work.mount, .readOnly(host: out, inside: "/out"),
                   .readOnly(host: lib, inside: Self.libDir), .readWrite(host: run, inside: Self.recordsDir)]
        let jobs = recipe.build.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        var env = SandboxView.environment(home: "/build", jobs: jobs)
        env += [("SOURCE_DATE_EPOCH", String(epoch)), ("REPRO_OUT", "/out"), ("REPRO_TEST_DIR", Self.recordsDir),
                ("REPRO_RESULTS", Self.resultsFile)]
        for k in test.env.keys.sorted() { env.append((k, test.env[k]!)) }
        for (k, v) in extraEnv {
            env.removeAll { $0.key == k }
            env.append((k, v))
        }
        var spec = SandboxSpec(command: command, mounts: mounts, environment: env)
        spec.uid = uid; spec.gid = uid
        spec.workingDirectory = test.directory
        let l = test.limits
        spec.limits = .init(memory: l.memory ?? Self.defaultMemory, pids: l.pids ?? Self.defaultPids, cpus: l.cpus,
                            cpuSeconds: l.cpuTime)
        spec.timeout = l.timeout.map(Double.init)
        spec.allowDegrade = allowDegrade
        spec.cpuAffinity = cpuAffinity
        spec.faults = faults
        return spec
    }

    /// Whether a path inside the sandbox is one `readPath` can read: under /build or
    /// /run/repro.
    static func readable(_ inside: String) -> Bool {
        ["/build", recordsDir].contains { inside.hasPrefix($0 + "/") }
    }

    /// The host file to read a file the suite left under /build or /run/repro; nil when
    /// the path is elsewhere, the suite deleted it, or it is not a regular file reached
    /// through real directories (`HostRead`: no symlink, FIFO or `..` is followed).
    func readPath(_ inside: String) -> String? {
        if inside.hasPrefix("/build/") { return work.readPath(String(inside.dropFirst("/build/".count))) }
        if inside.hasPrefix(Self.recordsDir + "/") {
            return HostRead.regularFile(under: run, String(inside.dropFirst(Self.recordsDir.count + 1)))
        }
        return nil
    }

    /// The error when the root lacks the framework's runner, naming the package to add.
    func checkRunner() throws {
        guard let root else { return }
        func exists(_ p: String) -> Bool { FileManager.default.fileExists(atPath: root + p) }
        switch test.framework {
        case .pytest:
            guard exists("/usr/bin/python3") else {
                throw ReproError(.invalidInput, "\(recipe.file):\(test.line): the test root has no python3; add \"python3-pytest\" to [test] packages and run 'repro lock \(recipe.file)'")
            }
            guard exists("/usr/lib/python3/dist-packages/pytest") || exists("/usr/lib/python3/dist-packages/_pytest") else {
                throw ReproError(.invalidInput, "\(recipe.file):\(test.line): the test root has no pytest; add \"python3-pytest\" to [test] packages and run 'repro lock \(recipe.file)'")
            }
        case .ctest:
            guard exists("/usr/bin/ctest") else {
                throw ReproError(.invalidInput, "\(recipe.file):\(test.line): the test root has no ctest; add \"cmake\" to [test] packages (or [toolchain] packages) and run 'repro lock \(recipe.file)'")
            }
        case .junit:
            break
        }
    }
}
