import Foundation
import Sandbox
import TestKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Containment (issue 2, "Tests"): limits stop what they should, the timeout and kill
/// grace are honoured, and nothing of a sandbox outlives it, even when `repro` itself is
/// killed with SIGKILL. No wall-clock upper bounds (the machines that run this are
/// shared and noisy): a sandbox that outlives its limits fails the test's time limit.
@Suite(.serialized, .enabled(if: Probe.built, "cc could not compile Probes/probe.c"), .tags(.sandbox))
struct ContainmentTests {
    /// A command line that is unique to this test run, for pgrep on the host.
    static func marker() -> String { "3\(Int.random(in: 10...99)).\(Int.random(in: 100_000...999_999))" }

    static func spec(_ command: [String]) -> SandboxSpec {
        TestSupport.hostSpec(command, extra: [.readOnly(host: Probe.dir, inside: "/probe")])
    }

    static func run(_ spec: SandboxSpec) throws -> SandboxRunner.Completed {
        try TestSupport.runner().run(spec, output: .capture)
    }

    @Test(.timeLimit(.minutes(1))) func forkBombIsStoppedByThePidsLimit() throws {
        var s = Self.spec(["/probe/probe", "forkbomb"])
        s.limits.pids = 64
        s.timeout = 5
        s.killGrace = 1
        let done = try Self.run(s)
        #expect(done.result.pidsLimitHit, "\(done.result)")
        #expect(done.result.timedOut, "the bomb runs until the timeout: \(done.result)")
        // Nothing of it is left, and the host still forks.
        #expect(try TestSupport.poll(seconds: 10) { try TestSupport.pgrep("/probe/probe forkbomb").isEmpty })
        #expect(try TestSupport.sh(["/bin/true"]).status == 0)
    }

    @Test func memoryHogIsKilledAndReported() throws {
        var s = Self.spec(["/probe/probe", "memhog", "1024"])
        s.limits.memory = 64 << 20
        s.timeout = 120
        let done = try Self.run(s)
        let r = done.result
        #expect(r.oomKilled, "\(r)")
        #expect(r.signal == SIGKILL && r.exitCode == 128 + SIGKILL, "\(r)")
        #expect(!r.timedOut)
        #expect(!done.stdoutText.contains("ret=1024"), "the hog got its whole GiB: \(done.stdoutText)")
        #expect(r.summary == "killed: memory limit reached")
    }

    @Test(.timeLimit(.minutes(1))) func infiniteLoopIsKilledAtTheTimeout() throws {
        var s = Self.spec(["sh", "-c", "while :; do :; done"])
        s.timeout = 1
        let done = try Self.run(s)
        #expect(done.result.timedOut, "\(done.result)")
        #expect(done.result.exitCode == 124)
        #expect(done.launcherExit == 124)
        #expect(done.result.wallSeconds >= 0.9)
        #expect(done.result.summary.hasPrefix("timed out after"))
    }

    @Test(.timeLimit(.minutes(1))) func childIgnoringSIGTERMIsKilledAfterTheGrace() throws {
        var s = Self.spec(["sh", "-c", "trap '' TERM; sleep 60"])
        s.timeout = 1
        s.killGrace = 2
        let done = try Self.run(s)
        #expect(done.result.timedOut, "\(done.result)")
        #expect(done.result.exitCode == 124)
        #expect(done.result.signal == SIGKILL, "SIGTERM was ignored, so SIGKILL ended it: \(done.result)")
        // Not before timeout + grace (a lower bound only: load cannot make it early).
        #expect(done.result.wallSeconds >= 2.9, "\(done.result)")
    }

    /// Two background sleeps outlive the shell that started them; they are seen on the
    /// host while the sandbox runs and are gone once it has ended.
    @Test func grandchildrenDieWithTheSandbox() throws {
        let mark = Self.marker()
        let s = Self.spec(["sh", "-c", "sleep \(mark) & sleep \(mark) & sleep 3; exit 0"])
        let finished = DispatchSemaphore(value: 0)
        let box = ResultBox()
        // A thread of its own: the runner's die-with-parent is tied to the spawning
        // thread, and a dispatch queue may not start the work while the test polls.
        Thread {
            box.set(Result { try TestSupport.runner().run(s, output: .capture) })
            finished.signal()
        }.start()
        let sawThem = try TestSupport.poll(seconds: 10) { try TestSupport.pgrep("^sleep \(mark)$").count == 2 }
        finished.wait()
        let done = try box.get()
        #expect(done.result.exitCode == 0, "\(done.result)")
        #expect(sawThem, "the two sleeps never showed up on the host")
        let gone = try TestSupport.poll(seconds: 5) { try TestSupport.pgrep("sleep \(mark)").isEmpty }
        let left = try TestSupport.pgrep("sleep \(mark)")
        #expect(gone, "left behind: \(left)")
    }

    /// SIGKILL of the real CLI: the launcher dies with its parent, and the pid namespace
    /// with it.
    @Test func killingReproLeavesNothingBehind() throws {
        let mark = Self.marker()
        let repro = Process()
        repro.executableURL = URL(fileURLWithPath: TestSupport.repro)
        repro.arguments = ["run", "--", "sleep", mark]
        repro.standardOutput = FileHandle.nullDevice
        repro.standardError = FileHandle.nullDevice
        try repro.run()
        defer {
            if repro.isRunning { kill(repro.processIdentifier, SIGKILL); repro.waitUntilExit() }
            for pid in (try? TestSupport.pgrep("sleep \(mark)")) ?? [] { kill(pid, SIGKILL) }
        }
        let started = try TestSupport.poll(seconds: 10) { try !TestSupport.pgrep("^sleep \(mark)$").isEmpty }
        try #require(started, "the sandboxed sleep never started")
        #expect(!(try TestSupport.pgrep("repro-sandbox .*sleep \(mark)")).isEmpty, "the launcher runs")

        kill(repro.processIdentifier, SIGKILL)
        repro.waitUntilExit()
        #expect(repro.terminationReason == .uncaughtSignal)
        let gone = try TestSupport.poll(seconds: 10) { try TestSupport.pgrep(mark).isEmpty }
        let left = try TestSupport.pgrep(mark)
        #expect(gone, "left behind after kill -9 of repro: \(left)")
    }
}

extension ContainmentTests {
    /// SIGKILL of the launcher itself: its pid 1 and everything under it go too. `repro
    /// run` without --json execs the launcher, so the launcher is the process repro
    /// started as.
    @Test func killingTheLauncherLeavesNothingBehind() throws {
        let mark = Self.marker()
        let repro = Process()
        repro.executableURL = URL(fileURLWithPath: TestSupport.repro)
        repro.arguments = ["run", "--", "sleep", mark]
        repro.standardOutput = FileHandle.nullDevice
        repro.standardError = FileHandle.nullDevice
        try repro.run()
        defer {
            if repro.isRunning { kill(repro.processIdentifier, SIGKILL); repro.waitUntilExit() }
            for pid in (try? TestSupport.pgrep("sleep \(mark)")) ?? [] { kill(pid, SIGKILL) }
        }
        let started = try TestSupport.poll(seconds: 10) { try !TestSupport.pgrep("^sleep \(mark)$").isEmpty }
        try #require(started, "the sandboxed sleep never started")
        let launcher = try #require(try TestSupport.pgrep("repro-sandbox .*sleep \(mark)").first, "no launcher")
        #expect(launcher == repro.processIdentifier, "repro run should have become the launcher")

        kill(launcher, SIGKILL)
        let exited = TestSupport.poll(seconds: 10) { !repro.isRunning }
        #expect(exited, "the launcher did not die")
        let gone = try TestSupport.poll(seconds: 10) { try TestSupport.pgrep(mark).isEmpty }
        let left = try TestSupport.pgrep(mark)
        #expect(gone, "left behind after kill -9 of the launcher: \(left)")
    }
}

/// Hands a result from the thread that runs a sandbox to the test.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<SandboxRunner.Completed, any Error>?
    func set(_ v: Result<SandboxRunner.Completed, any Error>) { lock.lock(); value = v; lock.unlock() }
    func get() throws -> SandboxRunner.Completed {
        lock.lock(); defer { lock.unlock() }
        guard let value else { throw POSIXError(.EAGAIN) }
        return try value.get()
    }
}
