/// A model and the feature state it ranks with, learned from a history fed one run at a
/// time, in time order: what `Replay.continueTraining` does, without ever holding the
/// history. `repro test` streams a recipe's telemetry through one, so its memory is
/// one run plus the per-test state, however long the history grows.
public struct Learner: Sendable {
    /// What the runs fed so far taught (the state the next run is ranked with).
    public private(set) var state: FeatureState
    public private(set) var model: LogisticModel
    /// Runs and executions fed so far.
    public private(set) var runs = 0
    public private(set) var executions = 0

    /// A learner that continues `model`: the first `model.runs` runs fed only build the
    /// feature state (the model has learned from them already); later runs train it.
    public init(model: LogisticModel, groups: FeatureGroups = .all) {
        var state = FeatureState()
        state.groups = groups
        self.state = state
        self.model = model
    }

    /// A learner with a new model (deterministic for `seed`).
    public init(seed: UInt64, hyperparameters: Hyperparameters = Hyperparameters(), groups: FeatureGroups = .all) {
        self.init(model: LogisticModel(features: FeatureSet.names.count, seed: seed, hyperparameters: hyperparameters),
                  groups: groups)
    }

    /// Feeds the next finished run: the model learns from its features (computed from
    /// the earlier runs only) and verdicts, unless it saw it already; then the state
    /// absorbs it.
    public mutating func feed(_ run: Run) { feed(run, visiting: false) { _ in } }

    /// `feed(_:)`, showing `visit` each step (features and predictions) before the model
    /// learns from it.
    public mutating func feed(_ run: Run, visit: (Replay.Step) -> Void) { feed(run, visiting: true, visit) }

    private mutating func feed(_ run: Run, visiting: Bool, _ visit: (Replay.Step) -> Void) {
        if runs >= model.runs {
            let plan = run.plan
            let stats = state.stats(for: plan)
            let features = state.features(for: plan, stats: stats)
            let failed = run.executions.map { $0.verdict.isFailure }
            let p = model.probabilities(features)
            let durations = FeatureState.expectedDurations(stats)
            let tiers = ChangeEvidence.tiers(features)
            if visiting {
                // The name-match heuristic's relatedness ignores the model's feature groups;
                // the model's strength keys follow them (ablation).
                let evidence = ChangeEvidence.evidence(for: plan, groups: state.groups) { stats[$0]?.idTokens }
                let input = RankingInput(plan: plan, probabilities: p, expectedDurations: durations,
                                         related: state.relatedness(for: plan), tiers: tiers, spread: evidence.spread,
                                         coFailure: ChangeEvidence.coFailures(features),
                                         modelRelated: evidence.related,
                                         imports: ChangeEvidence.importCloseness(features))
                visit(Replay.Step(index: runs, run: run, features: features, input: input, state: state,
                                  calibration: model.calibration))
            }
            // What the selection threshold learns: this run's predictions (made before it
            // ran) against its verdicts. The threshold learns only from runs that ran
            // every test: a selected subset holds the tests the model found risky, and
            // learning from their failures raised it run after run (on IOF/ROL the
            // closed loop's recall fell to 0.57 that way; docs/ranking.md).
            model.calibrate(probabilities: p, tiers: tiers, durations: durations, failed: failed,
                            complete: run.complete)
            model.train(features, failed: failed)
        }
        state.absorb(run)
        runs += 1
        executions += run.executions.count
    }
}
