import Foundation
import Store
import TestKit
import Testing

/// What goes wrong around a build, each with a clear message, the exit code of
/// DESIGN.md, and a store that stays whole: a full file system, `kill -9` in the middle
/// of a build, two builds of the same recipe at once, a missing input file.
@Suite(.serialized, .tags(.sandbox)) struct BuildFailureTests {
    let dir: String
    let env: [String: String]

    init() throws {
        dir = NSTemporaryDirectory() + "repro-build-failure-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir + "/r", withIntermediateDirectories: true)
        env = ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin"]
    }

    func repro(_ args: [String]) throws -> TestKit.Output {
        try TestKit.run([TestKit.repro] + args, environment: env)
    }

    func recipe(_ name: String, _ script: String, extra: String = "") throws -> String {
        let path = dir + "/r/\(name).toml"
        try """
        name = "\(name)"
        [toolchain]
        host = true
        \(extra)
        [build]
        script = '''
        \(script)
        '''
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The store is whole: every blob rehashes, and no temporary is left.
    func expectWholeStore(_ store: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let v = try repro(["store", "verify", "--store", store])
        #expect(v.status == 0, "store verify: \(v.stderr)", sourceLocation: sourceLocation)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: store + "/tmp")) ?? []
        #expect(left.isEmpty, "left in the store's tmp: \(left)", sourceLocation: sourceLocation)
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func fullFileSystemFailsWithWhatToDo() throws {
        let store = dir + "/small-store"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        _ = try TestKit.run(["/bin/mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", store])
        defer {
            _ = try? TestKit.run(["/bin/umount", store])
            try? FileManager.default.removeItem(atPath: dir)
        }
        let big = try recipe("big", "head -c 6000000 /dev/zero > $REPRO_OUT/big.bin")
        #expect(try repro(["lock", big, "--store", store]).status == 0)
        let r = try repro(["build", big, "--store", store, "--out", dir + "/out"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("No space left on device"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
        try expectWholeStore(store)
        // The same store still builds what fits.
        let small = try recipe("small", "echo ok > $REPRO_OUT/ok")
        #expect(try repro(["lock", small, "--store", store]).status == 0)
        let ok = try repro(["build", small, "--store", store])
        #expect(ok.status == 0, "\(ok.stderr)")
        try expectWholeStore(store)
    }

    @Test func killNineMidBuildLeavesNothingBehind() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        let marker = "repro-kill-test-\(UUID().uuidString.prefix(8))"
        // The step never ends by itself: repro is killed while it runs, whatever the load.
        let slow = try recipe("slow", "echo partial > $REPRO_OUT/a\nsh -c 'sleep 600' \(marker)\necho done > $REPRO_OUT/b")
        #expect(try repro(["lock", slow, "--store", store]).status == 0)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestKit.repro)
        p.arguments = ["build", slow, "--store", store]
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until the build step runs in the sandbox, then kill -9 repro.
        #expect(waitFor(seconds: 60) { !pids(matching: marker).isEmpty }, "the build step never started")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        // The sandbox dies with its parent: no process of the build is left.
        #expect(waitFor(seconds: 60) { pids(matching: marker).isEmpty }, "left running: \(pids(matching: marker))")
        #expect(try repro(["store", "verify", "--store", store]).status == 0)

        // The next build in that store succeeds, cleans up what the killed one left, and
        // is whole.
        _ = try recipe("slow", "echo partial > $REPRO_OUT/a\necho done > $REPRO_OUT/b")
        #expect(try repro(["lock", slow, "--store", store]).status == 0)
        let again = try repro(["build", slow, "--store", store, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.out.contains(#""files":2"#))
        try expectWholeStore(store)
    }

    @Test func twoBuildsOfTheSameRecipeAtOnce() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        // A gate the two build steps wait on: a file in their /build, which is a folder
        // of the store's tmp on the host. Opened once both steps run, so the two builds
        // overlap for certain rather than by timing.
        let r = try recipe("twice", "sh -c 'while [ ! -e /build/open ]; do sleep 0.05; done' gate-\(dir.suffix(6))\nseq 1 20000 > $REPRO_OUT/numbers; echo x > $REPRO_OUT/x")
        #expect(try repro(["lock", r, "--store", store]).status == 0)
        let results = Locked<[TestKit.Output]>([])
        let group = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                if let o = try? repro(["build", r, "--store", store, "--no-cache"]) { results.mutate { $0.append(o) } }
            }
        }
        // Both steps are waiting at the gate: two shells whose command line has it (the
        // script itself is a file, /.repro/build.sh, so the gate is a child shell's $0).
        let bothWaiting = waitFor(seconds: 120) { shells(matching: "gate-\(dir.suffix(6))").count >= 2 }
        // Open every gate, again until both builds end (one that started late waits too).
        repeat {
            for work in (try? FileManager.default.contentsOfDirectory(atPath: store + "/tmp")) ?? [] {
                _ = FileManager.default.createFile(atPath: store + "/tmp/" + work + "/build/open", contents: nil)
            }
        } while group.wait(timeout: .now() + 0.2) == .timedOut
        #expect(bothWaiting, "the two build steps never ran at the same time")
        let outs = results.value
        #expect(outs.count == 2)
        for o in outs { #expect(o.status == 0, "\(o.stderr)") }
        #expect(Set(outs.map(\.out)).count == 1, "different digests: \(outs.map(\.out))")
        // Both were first builds: one generated the signing key, the other waited and
        // used it (it used to fail: "signing.pem exists").
        #expect(outs.filter { $0.stderr.contains("generated a signing key") }.count == 1, "\(outs.map(\.stderr))")
        try expectWholeStore(store)
    }

    /// The store's `builds` row is written when the build starts and updated when it
    /// ends, failed or not (docs/store.md).
    @Test func buildsAreRecordedAsTheyStartAndEnd() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        let bad = try recipe("bad", "echo x > $REPRO_OUT/a; exit 3")
        #expect(try repro(["lock", bad, "--store", store]).status == 0)
        #expect(try repro(["build", bad, "--store", store]).status == 1)
        var builds = try Store(root: store).builds()
        #expect(builds.map(\.status) == [.failed])
        #expect(builds.first?.finished != nil && builds.first?.tree == nil)
        let good = try recipe("good", "echo x > $REPRO_OUT/a")
        #expect(try repro(["lock", good, "--store", store]).status == 0)
        #expect(try repro(["build", good, "--store", store]).status == 0)
        #expect(try repro(["build", good, "--store", store]).status == 0) // a cache hit: no row
        builds = try Store(root: store).builds()
        #expect(builds.map(\.status) == [.failed, .succeeded])
        #expect(builds.last?.tree != nil)
    }

    @Test func missingInputFileIsBadInputNamingIt() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        let r = try recipe("needs", "cp src/data/* $REPRO_OUT/", extra: "[inputs.data]\npath = \"data.txt\"")
        let lock = try repro(["lock", r, "--store", store])
        #expect(lock.status == 2)
        #expect(lock.stderr.contains("data.txt"), "\(lock.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/r/needs.lock"))
        try "x\n".write(toFile: dir + "/r/data.txt", atomically: true, encoding: .utf8)
        #expect(try repro(["lock", r, "--store", store]).status == 0)
        try FileManager.default.removeItem(atPath: dir + "/r/data.txt")
        let build = try repro(["build", r, "--store", store])
        #expect(build.status == 2)
        #expect(build.stderr.contains("data.txt"), "\(build.stderr)")
    }
}

/// Pids of processes whose command line contains `text`.
func pids(matching text: String) -> [Int32] {
    let me = getpid()
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name -> Int32? in
        guard let pid = Int32(name), pid != me,
              let raw = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
        let cmd = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        return cmd.contains(text) && !cmd.contains("pids(matching") ? pid : nil
    }
}

/// Pids of shells (not the launcher) whose command line contains `text`.
func shells(matching text: String) -> [Int32] {
    pids(matching: text).filter { pid in
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
        return exe.hasSuffix("sh")
    }
}

func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

final class Locked<T>: @unchecked Sendable {
    private var v: T
    private let lock = NSLock()
    init(_ v: T) { self.v = v }
    var value: T { lock.lock(); defer { lock.unlock() }; return v }
    func mutate(_ f: (inout T) -> Void) { lock.lock(); f(&v); lock.unlock() }
}
