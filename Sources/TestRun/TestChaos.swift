import Core
import Faults
import Foundation
import Recipe

/// Named fault profiles for `repro test --chaos` (docs/faults.md). Each is a spec
/// without a seed; run k of a chaos session appends `seed=k`.
public enum FaultProfile {
    public static let profiles: [(name: String, spec: String, about: String)] = [
        ("io", "write:EIO@5%,path=/build;fsync:EIO@10%,path=/build;open:EMFILE@1%,path=/build/src",
         "disk errors under /build: failed writes and fsyncs, a rare EMFILE"),
        ("net", "connect:ECONNREFUSED@10%;send:ECONNRESET@5%;recv:ECONNRESET@5%",
         "loopback network: refused connections, resets on send and receive"),
        ("slow", "read@20%,delay=1ms,path=/build;write@20%,delay=1ms,path=/build",
         "slow disk: delays on reads and writes under /build, no errors"),
        ("default", "write:EIO@5%,path=/build;fsync:EIO@10%,path=/build;connect:ECONNREFUSED@10%;send:ECONNRESET@5%;recv:ECONNRESET@5%",
         "io and net together"),
    ]

    /// The spec of profile `name` with `seed`.
    /// - Throws: `ReproError(.invalidInput)` naming the known profiles.
    public static func spec(_ name: String, seed: UInt64) throws -> String {
        guard let p = profiles.first(where: { $0.name == name }) else {
            throw ReproError(.invalidInput, "unknown fault profile '\(name)'; known: \(profiles.map(\.name).joined(separator: ", "))")
        }
        return p.spec + ";seed=\(seed)"
    }
}

/// `repro test --chaos N`: the suite once without faults, then N times under seeded
/// faults from a profile (seeds 1...N). Per test: robust (passes every run),
/// fault-sensitive (passes without faults, fails under some; with the first seed and
/// the faults that run injected) or broken (fails without faults). The resilience score
/// is the share of tests passing without faults that pass under every fault run.
public struct ChaosReport: Codable, Sendable {
    public enum Verdict: String, Codable, Sendable { case robust, faultSensitive = "fault-sensitive", broken }

    public struct Entry: Codable, Sendable {
        public var test: String
        public var verdict: Verdict
        /// For fault-sensitive tests: the first seed whose run failed it, that run's id,
        /// its spec and the faults it injected per kind.
        public var seed: UInt64?
        public var run: Int64?
        public var spec: String?
        public var injected: [String: UInt64]?
        /// The first fault injected while the test ran in that run, e.g. write EIO at call 17.
        public var firstFault: FaultReport.Event?
        public var message: String?

        enum CodingKeys: String, CodingKey {
            case test, verdict, seed, run, spec, injected, message
            case firstFault = "first_fault"
        }
    }

    public var profile: String
    public var runs: [Int64]
    public var tests: [Entry]
    public var resilience: Double

    public static func run(_ runner: TestRunner, recipe: Recipe, lock: LockFile, options: TestOptions, count: Int,
                           profile: String, progress: (any TestProgress)?) throws -> ChaosReport {
        _ = try FaultProfile.spec(profile, seed: 0)
        var clean = options
        clean.faultsDisabled = true
        progress?.note("chaos: run without faults")
        let base = try runner.run(recipe, lock: lock, options: clean, progress: progress)
        var runs = [base.run]
        var failedClean = Set<String>(), all: [String] = []
        for e in try runner.telemetry.executions(run: base.run) where e.attempt == 0 {
            all.append(e.test)
            if e.verdict.isFailure { failedClean.insert(e.test) }
        }
        var firstFailure: [String: Entry] = [:]
        for seed in 1...UInt64(max(1, count)) {
            if TestRunner.interrupted.isSet { break }
            var o = options
            o.faults = try FaultProfile.spec(profile, seed: seed)
            progress?.note("chaos: run \(seed) of \(count): \(o.faults!)")
            let s = try runner.run(recipe, lock: lock, options: o, progress: progress)
            runs.append(s.run)
            for e in try runner.telemetry.executions(run: s.run) where e.attempt == 0 && e.verdict.isFailure {
                if firstFailure[e.test] == nil && !failedClean.contains(e.test) {
                    firstFailure[e.test] = Entry(test: e.test, verdict: .faultSensitive, seed: seed, run: s.run, spec: s.faults?.spec,
                                                 injected: s.faults?.injected, firstFault: s.faults?.firstFaults[e.test],
                                                 message: e.message)
                }
            }
        }
        let entries = all.map { t -> Entry in
            if failedClean.contains(t) { return Entry(test: t, verdict: .broken) }
            return firstFailure[t] ?? Entry(test: t, verdict: .robust)
        }
        let passingClean = entries.filter { $0.verdict != .broken }.count
        let robust = entries.filter { $0.verdict == .robust }.count
        return ChaosReport(profile: profile, runs: runs, tests: entries,
                           resilience: passingClean == 0 ? 0 : Double(robust) / Double(passingClean))
    }
}
