import TestKit
import Testing
@testable import Rank

private func close(_ a: Double?, _ b: Double, _ eps: Double = 1e-12) -> Bool {
    guard let a else { return false }
    return abs(a - b) < eps
}

@Suite(.tags(.unit)) struct MetricsTests {
    @Test func apfdHandComputed() {
        // n = 4, m = 2, failures at positions 1 and 4: 1 - 5/8 + 1/8.
        #expect(close(Metrics.apfd([true, false, false, true]), 0.5))
        // n = 3, m = 1, failure at 2: 1 - 2/3 + 1/6.
        #expect(close(Metrics.apfd([false, true, false]), 0.5))
        // n = 2, failure first: 1 - 1/2 + 1/4.
        #expect(close(Metrics.apfd([true, false]), 0.75))
        // n = 5, m = 2, failures at 1 and 2: 1 - 3/10 + 1/10.
        #expect(close(Metrics.apfd([true, true, false, false, false]), 0.8))
        #expect(Metrics.apfd([false, false]) == nil)
    }

    @Test func napfdHandComputed() {
        // Suite of 4 tests with 2 failures; only [F, P] ran: p = 1/2,
        // NAPFD = 1/2 - 1/(4*2) + (1/2)/(2*4) = 0.4375.
        #expect(close(Metrics.napfd([true, false], totalFailures: 2, totalTests: 4), 0.4375))
        // Everything ran: NAPFD equals APFD.
        let full = [false, true, true, false]
        #expect(close(Metrics.napfd(full, totalFailures: 2, totalTests: 4), Metrics.apfd(full)!))
        // Nothing detected.
        #expect(close(Metrics.napfd([false], totalFailures: 1, totalTests: 3), 0))
    }

    @Test func apfdcHandComputed() {
        // Durations 1,2,3,4 (total 10), failures first and last:
        // (10 - 1/2) + (4 - 4/2) = 11.5, over 10 * 2.
        #expect(close(Metrics.apfdc([true, false, false, true], durations: [1, 2, 3, 4]), 0.575))
        // Cheap failure first beats expensive failure first.
        let cheap = Metrics.apfdc([true, false], durations: [1, 9])!
        let costly = Metrics.apfdc([true, false], durations: [9, 1])!
        #expect(close(cheap, 0.95) && close(costly, 0.55))
        // Equal durations: APFDc equals APFD.
        let order = [false, true, false, true, false]
        #expect(close(Metrics.apfdc(order, durations: Array(repeating: 2, count: 5)), Metrics.apfd(order)!))
    }

    @Test func timeShareToRecall() {
        // m = 2: 95% rounds up to both failures, reached after all 4 seconds.
        #expect(close(Metrics.timeShare(toRecall: 0.95, [true, false, true], durations: [1, 1, 2]), 1))
        // 50% needs one failure: the first second of four.
        #expect(close(Metrics.timeShare(toRecall: 0.5, [true, false, true], durations: [1, 1, 2]), 0.25))
    }

    @Test func ordersAreStableAndOptimalIsOptimal() {
        #expect(descendingOrder([0.1, 0.5, 0.5, 0.2]) == [1, 2, 3, 0])
        let run = Run(id: "r", executions: [
            Execution(test: "a", verdict: .pass, duration: 1),
            Execution(test: "b", verdict: .fail, duration: 5),
            Execution(test: "c", verdict: .error, duration: 2),
        ])
        let input = RankingInput(plan: run.plan, probabilities: [0, 0, 0], expectedDurations: [1, 1, 1])
        var rng = SplitMix64(seed: 1)
        #expect(Strategy.optimal.order(input, state: FeatureState(), run: run, rng: &rng) == [2, 1, 0])
    }
}
