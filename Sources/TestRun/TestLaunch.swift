import Core
import Foundation
import Sandbox

/// One start of the test sandbox, watched from the host: the record stream is read as
/// it grows (`$REPRO_TEST_DIR/records.jsonl`), each record handed on at once, the
/// running test held to its timeout, and the whole launch stopped on request
/// (fail-fast, SIGINT). Output goes to a capped log, never into memory.
final class TestLaunch: @unchecked Sendable {
    struct Outcome {
        /// The sandbox's status; nil when the launcher could not run it.
        var sandbox: SandboxResult?
        var error: (any Error)?
        /// The adapter wrote `done`: every requested test ran.
        var done: Bool
        /// A test that started and has no result: it took the process down, or it was
        /// killed at its timeout (`timedOut`).
        var unfinished: (id: String, position: Int, started: Double)?
        var timedOut: Bool
        var stopped: Bool
    }

    enum Reply { case proceed, stop }

    let runner: SandboxRunner
    let spec: SandboxSpec
    let dir: String
    let testTimeout: Double
    let log: CappedLog

    private let state = NSLock()
    private var pid: pid_t = 0
    private var finished = false
    private var completed: SandboxRunner.Completed?
    private var failure: (any Error)?

    init(runner: SandboxRunner, spec: SandboxSpec, dir: String, testTimeout: Double, log: CappedLog) {
        self.runner = runner; self.spec = spec; self.dir = dir; self.testTimeout = testTimeout; self.log = log
    }

    var recordsPath: String { dir + "/records.jsonl" }

    /// Runs the sandbox to its end. `onRecord` sees every record in order and may ask
    /// to stop (the sandbox is then killed); `shouldStop` is polled (SIGINT).
    /// `onBatch` follows each read of the stream that found records (the caller commits
    /// what it buffered: one transaction per batch, not per test).
    func run(onRecord: (TestRecord, Double) throws -> Reply, onBatch: () throws -> Void,
             shouldStop: () -> Bool) throws -> Outcome {
        FileManager.default.createFile(atPath: recordsPath, contents: nil)
        let thread = Thread { [self] in
            do {
                let c = try runner.run(spec, output: .stream, onOutput: { _, chunk in self.log.append(chunk) }, onSpawn: { p in
                    self.state.lock(); self.pid = p; self.state.unlock()
                })
                state.lock(); completed = c; state.unlock()
            } catch {
                state.lock(); failure = error; state.unlock()
            }
            state.lock(); finished = true; state.unlock()
        }
        thread.stackSize = 1 << 20
        thread.start()

        let fd = open(recordsPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReproError(.system, "open \(recordsPath): \(Syscall.errorString(errno))") }
        defer { close(fd) }
        var pending: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var outcome = Outcome(sandbox: nil, error: nil, done: false, unfinished: nil, timedOut: false, stopped: false)
        var killed = false
        var killedAt = Date.distantFuture

        // SIGTERM to the launcher, which forwards it into the sandbox and still writes
        // its status; SIGKILL only if it has not ended 5 s later.
        func kill(_ why: String) {
            guard !killed else { return }
            killed = true
            killedAt = Date()
            state.lock(); let p = pid; state.unlock()
            if p > 0 { Foundation.kill(p, SIGTERM) }
        }
        func drainRecords() throws {
            while true {
                let n = read(fd, &buf, buf.count)
                if n <= 0 { break }
                pending.append(contentsOf: buf[0..<n])
            }
            var any = false
            var start = pending.startIndex
            defer { pending.removeSubrange(..<start) }
            while let nl = pending[start...].firstIndex(of: 0x0A) {
                any = true
                let line = pending[start..<nl]
                start = nl + 1
                if line.isEmpty { continue }
                guard !killed || !outcome.timedOut else { continue }
                let text = Substring(decoding: line, as: UTF8.self)
                let record = try TestRecord.parse(text)
                var now = Date().timeIntervalSince1970
                // A start record's own time (stamped in the sandbox) is when the test began;
                // reading it here may come later on a loaded host.
                if case .start = record, let t = TestRecord.startTime(text) { now = t }
                switch record {
                case let .start(id, pos): outcome.unfinished = (id, pos, now)
                case .result: outcome.unfinished = nil
                case .done: outcome.done = true
                default: break
                }
                if try onRecord(record, now) == .stop { outcome.stopped = true; kill("stop") }
            }
            if any { try onBatch() }
            if pending.count - start > TestRecord.lineLimit {
                throw ReproError(.internal, "the test adapter wrote a record line over \(TestRecord.lineLimit) bytes")
            }
        }

        while true {
            state.lock(); let over = finished; state.unlock()
            try drainRecords()
            if over { break }
            if shouldStop() { outcome.stopped = true; kill("interrupt") }
            if let u = outcome.unfinished, !killed, Date().timeIntervalSince1970 - u.started > testTimeout {
                outcome.timedOut = true
                kill("timeout")
            }
            if killed, Date().timeIntervalSince(killedAt) > 5 {
                state.lock(); let p = pid; state.unlock()
                if p > 0 { Foundation.kill(p, SIGKILL) }
                killedAt = .distantFuture
            }
            usleep(5_000)
        }
        try drainRecords()
        state.lock()
        outcome.sandbox = completed?.result
        // A launcher repro killed on purpose may end without a status: not an error.
        outcome.error = killed ? nil : failure
        state.unlock()
        return outcome
    }
}
