import ArgumentParser
import Foundation
import TestRun

/// What `repro test --chaos N` prints, and its exit status: 0 when no test is broken
/// (fails without faults), 1 otherwise. Fault-sensitive tests are reported, not failed.
enum TestChaosOutput {
    static func finish(_ r: ChaosReport, json: Bool) throws {
        if json {
            try printJSON(r, pretty: true)
        } else {
            let counts = Dictionary(grouping: r.tests, by: \.verdict).mapValues(\.count)
            print("chaos (\(r.profile), \(r.runs.count - 1) fault runs): \(counts[.robust] ?? 0) robust, \(counts[.faultSensitive] ?? 0) fault-sensitive, \(counts[.broken] ?? 0) broken; resilience \(String(format: "%.2f", r.resilience))")
            for t in r.tests where t.verdict != .robust {
                var line = "\(t.verdict.rawValue.uppercased()) \(Escape.controls(t.test))"
                if let seed = t.seed, let run = t.run {
                    let injected = (t.injected ?? [:]).keys.sorted().map { "\($0) \(t.injected![$0]!)" }.joined(separator: ", ")
                    let first = t.firstFault.map { "first fault while it ran: \($0.family) \($0.errno) at call \($0.call); " } ?? ""
                    line += ": failed under seed \(seed) (test run \(run); \(first)\(injected.isEmpty ? "no fault injected" : "injected " + injected)); replay: --fault '\(t.spec ?? "")'"
                }
                print(line)
            }
        }
        if r.tests.contains(where: { $0.verdict == .broken }) { throw ExitCode(1) }
    }
}
