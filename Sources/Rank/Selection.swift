/// A prefix of a ranked run chosen to reach a recall target.
public struct Selection: Codable, Sendable, Equatable {
    /// Indices into the plan, in run order.
    public var selected: [Int]
    public var recallTarget: Double
    /// Expected share of the failing tests inside the selection: the sum of the
    /// predicted failure probabilities selected over the sum over all tests.
    public var estimatedRecall: Double
    /// Share of the expected test time not spent: 1 - selected time / total time.
    public var timeSaved: Double
    /// Tests included regardless of the target (new tests, tests whose file changed).
    public var forced: Int
}

public enum Selector {
    /// The smallest prefix of `order` whose summed failure probability reaches
    /// `recall` of the total, plus every test with `mustRun` set (kept at its ranked
    /// position). With no expected failures at all only the forced tests are selected.
    public static func select(order: [Int], probabilities: [Double], durations: [Double],
                              mustRun: [Bool], recall: Double) -> Selection {
        precondition(probabilities.count == durations.count && mustRun.count == durations.count)
        let total = probabilities.reduce(0, +)
        let goal = recall * total
        var inPrefix = [Bool](repeating: false, count: probabilities.count)
        var sum = 0.0
        if total > 0 && recall > 0 {
            for i in order {
                inPrefix[i] = true
                sum += probabilities[i]
                if sum >= goal * (1 - 1e-12) { break }
            }
        }
        return summary(order: order, kept: inPrefix, mustRun: mustRun, weights: probabilities,
                       durations: durations, recall: recall)
    }

    /// The tests of `order` that are `kept` or must run, in order, with the share of the
    /// `weights` (predicted failures) and of the expected time they hold.
    static func summary(order: [Int], kept: [Bool], mustRun: [Bool], weights: [Double], durations: [Double],
                        recall: Double) -> Selection {
        var selected: [Int] = []
        var forced = 0, chosenWeight = 0.0, chosenTime = 0.0
        for i in order where kept[i] || mustRun[i] {
            selected.append(i)
            if !kept[i] { forced += 1 }
            chosenWeight += weights[i]
            chosenTime += durations[i]
        }
        let total = weights.reduce(0, +), totalTime = durations.reduce(0, +)
        return Selection(selected: selected, recallTarget: recall,
                         estimatedRecall: total > 0 ? chosenWeight / total : 1,
                         timeSaved: totalTime > 0 ? 1 - chosenTime / totalTime : 0,
                         forced: forced)
    }

    /// New tests and tests whose file is among the changed files must always run.
    public static func mustRun(_ plan: RunPlan, state: FeatureState) -> [Bool] {
        let changed = Set(plan.changedFiles ?? [])
        return plan.tests.map { test in
            state.tests[test.test] == nil || (test.testFile.map { changed.contains($0) } ?? false)
        }
    }
}
