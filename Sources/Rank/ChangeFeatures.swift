import Foundation

/// What earlier runs with change data taught about changed files: how often each file
/// changed, which tests (and test files) failed in those runs, and when each file name
/// last changed. Counts decay per change of the file, so an old association fades as
/// the file keeps changing without the test failing. Updated only by
/// `FeatureState.absorb(_:)`.
struct ChangeMemory: Sendable {
    /// Weight of the older counts each time the file changes again: half-life of 8
    /// changes of that file. Fixed in advance, not tuned.
    static let keep = exp2(-1.0 / 8)
    /// Runs that change more files than this teach no co-failures. Fixed in advance;
    /// no run of the replayed histories comes near it (the largest changes 62 files).
    static let coFailureMaxChanged = 1000
    /// Half-life, in runs, of `related_change_recency`. Fixed in advance, not tuned.
    static let recencyHalfLife = 4.0

    /// Decayed number of runs in which the file changed.
    var changeWeight: [String: Double] = [:]
    /// changed file -> test -> decayed runs in which the file changed and the test failed.
    var coFailures: [String: [String: Double]] = [:]
    /// changed file -> test file -> decayed runs in which the file changed and a test
    /// of that test file failed.
    var fileCoFailures: [String: [String: Double]] = [:]
    /// Name token (of a changed file's name) -> index of the last run it changed in.
    var tokenLastChanged: [Substring: Int] = [:]
    /// The changed files of the failing runs just absorbed, newest last, since the last
    /// run without failures or without change data; at most `openRuns` runs. A fault a
    /// run introduced and the next run did not fix is still there: CI culprit finders
    /// look at every change since the last green run for the same reason.
    var open: [[String]] = []
    /// Fixed in advance (session 7 pre-registration), not tuned.
    static let openRuns = 10

    /// Keeps `open` up to date with one finished run (every run, with or without changes).
    mutating func track(_ run: Run) {
        guard let changed = run.changedFiles, run.failureCount > 0 else { open.removeAll(); return }
        open.append(changed)
        if open.count > Self.openRuns { open.removeFirst(open.count - Self.openRuns) }
    }

    mutating func absorb(_ run: Run, index: Int) {
        guard let changed = run.changedFiles else { return }
        var failing: [String] = []
        var failingFiles: [String] = []
        var seenTests = Set<String>(), seenFiles = Set<String>()
        for e in run.executions where e.verdict.isFailure {
            if seenTests.insert(e.test).inserted { failing.append(e.test) }
            if let f = e.testFile, seenFiles.insert(f).inserted { failingFiles.append(f) }
        }
        let keep = Self.keep
        let files = Set(changed)
        // A change of thousands of files (a vendored tree, a mass rename) says nothing
        // about which file broke which test, and its rows would hold files x failing
        // tests entries: it teaches no co-failures (the rows are left as they were).
        let associate = files.count <= Self.coFailureMaxChanged
        for file in files {
            changeWeight[file] = changeWeight[file, default: 0] * keep + 1
            if associate {
                Self.decayAndAdd(&coFailures[file], keys: failing, keep: keep)
                Self.decayAndAdd(&fileCoFailures[file], keys: failingFiles, keep: keep)
            }
            for token in ChangeContext.nameTokens(file) { tokenLastChanged[token] = index }
        }
    }

    private static func decayAndAdd(_ row: inout [String: Double]?, keys: [String], keep: Double) {
        guard row != nil || !keys.isEmpty else { return }
        var r = row ?? [:]
        for k in r.keys { r[k]! *= keep }
        for k in keys { r[k, default: 0] += 1 }
        row = r
    }
}

/// The changed files of a plan, tokenized once, and the change columns of each test.
struct ChangeContext {
    let changed: [String]
    let changedSet: Set<String>
    /// Name tokens of each changed file (in `changed` order).
    let nameTokens: [[Substring]]
    let memory: ChangeMemory
    let runCount: Int
    var hasChanges: Bool { !changed.isEmpty }
    /// Every distinct name token of the changed files, as bytes: a test whose id and
    /// file contain none of them as a substring cannot share a token with them, so it
    /// is not tokenized at all (the common case, and the cost of ranking 10,000 tests).
    /// nil past `prefilterTokens` tokens: scanning each test for thousands of tokens
    /// costs more than tokenizing it.
    let tokenBytes: TokenIndex?
    static let prefilterTokens = 64
    /// For each name token of the changed files: the files (index in `changed`) whose
    /// name has it, and how many times. A test's tokens meet only the files that share
    /// one, so a change of 20,000 files costs what the matches cost, not tests x files.
    let filesByToken: [Substring: [(file: Int, count: Int)]]
    /// Name-token count of each changed file (with repeats).
    let tokenCounts: [Int]
    /// Index of each changed file in `changed`.
    let changedIndex: [String: Int]
    /// The largest co-failure (scaled by 1 / (decayed changes + 1)) of each test, and of
    /// each test file, over the changed files: the rows folded once per plan, so the cost
    /// is their size, not tests x changed files.
    let coFailureByTest: [String: Double]
    let coFailureByFile: [String: Double]
    /// Import steps from each file that imports a changed file (`ImportGraph.distances`);
    /// empty without an import graph.
    let importDistance: [String: Int]
    /// The files changed since the last run without failures that this plan does not
    /// change itself (`ChangeMemory.open`), as a context of their own; nil if none.
    private(set) var carried: CarriedContext?
    /// True when `fill` has anything to write: changed files, or carried ones.
    var hasEvidence: Bool { hasChanges || carried != nil }

    /// `imports: false` skips the import distances (callers that only match names).
    init(plan: RunPlan, memory: ChangeMemory, runCount: Int, imports: Bool = true) {
        changed = Array(Set(plan.changedFiles ?? [])).sorted()
        changedSet = Set(changed)
        importDistance = changed.isEmpty || !imports ? [:] : plan.imports?.distances(from: changed) ?? [:]
        nameTokens = changed.map { Self.nameTokens($0) }
        var byToken: [Substring: [(file: Int, count: Int)]] = [:]
        for (j, tokens) in nameTokens.enumerated() {
            var counts: [Substring: Int] = [:]
            for t in tokens { counts[t, default: 0] += 1 }
            for (t, c) in counts { byToken[t, default: []].append((j, c)) }
        }
        filesByToken = byToken
        tokenCounts = nameTokens.map(\.count)
        changedIndex = Dictionary(changed.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        tokenBytes = byToken.count > Self.prefilterTokens ? nil : TokenIndex(byToken.keys.sorted().map { Array($0.utf8) })
        var byTest: [String: Double] = [:], byFile: [String: Double] = [:]
        for file in changed {
            guard let weight = memory.changeWeight[file] else { continue }
            let scale = 1 / (weight + 1)
            for (t, c) in memory.coFailures[file] ?? [:] { byTest[t] = max(byTest[t] ?? 0, c * scale) }
            for (f, c) in memory.fileCoFailures[file] ?? [:] { byFile[f] = max(byFile[f] ?? 0, c * scale) }
        }
        coFailureByTest = byTest
        coFailureByFile = byFile
        self.memory = memory
        self.runCount = runCount
        if plan.changedFiles != nil {
            let open = Set(memory.open.joined()).subtracting(changedSet)
            if !open.isEmpty {
                var p = plan
                p.changedFiles = open.sorted()
                carried = CarriedContext(context: ChangeContext(plan: p, memory: ChangeMemory(), runCount: 0, imports: imports))
            }
        }
    }

    /// Writes the change columns of `test` into `f`; `idTokens` are the test id's tokens
    /// when known (`TestStats.idTokens`), else the id is matched from scratch.
    mutating func fill(_ f: inout [Double], for test: PlannedTest, idTokens: Set<Substring>? = nil) {
        if let carried { f[FeatureSet.carriedChange] = carried.tie(of: test, idTokens: idTokens) }
        guard hasChanges else { return }
        let file = test.testFile.map { facts(of: $0) }
        f[FeatureSet.testFileChanged] = file?.changed != nil ? 1 : 0
        f[FeatureSet.pathSimilarity] = pathSimilarity(of: test, idTokens: idTokens, file: file)
        f[FeatureSet.coFailure] = coFailureByTest[test.test] ?? 0
        f[FeatureSet.fileCoFailure] = file?.coFailure ?? 0
        if let file {
            f[FeatureSet.relatedChangeRecency] = file.recency
        } else if let r = idRecency[test.test] {
            f[FeatureSet.relatedChangeRecency] = r
        } else {
            let r = recency(of: test.test)
            idRecency[test.test] = r
            f[FeatureSet.relatedChangeRecency] = r
        }
        f[FeatureSet.logChangedFiles] = log1p(Double(changed.count))
        f[FeatureSet.importsChanged] = file?.importCloseness ?? 0
    }

    /// What a plan needs of one test file: found once per file. The tests of a file are
    /// planned together as a rule, so the last file's facts are kept at hand and a test
    /// of the same file costs one string comparison instead of six hash lookups of its
    /// path (they were most of the cost of ranking 10,000 tests).
    ///
    /// Plain values only (the tokens live in `fileTokenStore`): copying it to and from
    /// the cache costs no reference counting.
    struct FileFacts {
        /// Where the file's name tokens that some changed file has (each once) are in
        /// `fileTokenStore`; empty as a rule.
        var tokens: Range<Int>
        /// Index in `changed` when the file is itself a changed file.
        var changed: Int?
        /// 1 / (import steps from the file to a changed file); 0 if none.
        var importCloseness: Double
        var coFailure: Double
        var recency: Double
    }
    private var lastFile: String?
    private var lastFacts: FileFacts?
    private var factsByFile: [String: FileFacts] = [:]
    private var fileTokenStore: [Substring] = []
    /// `related_change_recency` of the tests planned without a file, by id.
    private var idRecency: [String: Double] = [:]

    mutating func facts(of file: String) -> FileFacts {
        if let lastFacts, lastFile == file { return lastFacts }
        let f: FileFacts
        if let known = factsByFile[file] {
            f = known
        } else {
            let d = importDistance[file] ?? 0
            let start = fileTokenStore.count
            if mayContain(file) { fileTokenStore += matching(Self.tokenize(file)) }
            f = FileFacts(tokens: start..<fileTokenStore.count,
                          changed: changedIndex[file],
                          importCloseness: d > 0 ? 1 / Double(d) : 0,
                          coFailure: coFailureByFile[file] ?? 0,
                          recency: recency(of: file))
            factsByFile[file] = f
        }
        lastFile = file
        lastFacts = f
        return f
    }

    /// 1 / (import steps from the test's file to a changed file); 0 if none.
    mutating func importCloseness(_ test: PlannedTest) -> Double {
        test.testFile.map { facts(of: $0).importCloseness } ?? 0
    }

    /// Path similarity of a test (see `pathSimilarity(_:)`).
    mutating func pathSimilarity(of test: PlannedTest, idTokens: Set<Substring>? = nil) -> Double {
        pathSimilarity(of: test, idTokens: idTokens, file: test.testFile.map { facts(of: $0) })
    }

    private mutating func pathSimilarity(of test: PlannedTest, idTokens: Set<Substring>?, file: FileFacts?) -> Double {
        let own = testTokens(test, idTokens: idTokens, file: file)
        return own.isEmpty ? 0 : pathSimilarity(own)
    }

    /// The name tokens of the test's id and file that some changed file has, each once;
    /// empty when none (the common case, which allocates nothing). With the id's tokens
    /// known (`TestStats.idTokens`) they are looked up as they are; otherwise the
    /// tokenizer is skipped when no changed-file token occurs in the id at all
    /// (`mayContain`). Tokens that no changed file has add nothing to a similarity, so
    /// leaving them out gives the same ties.
    private func testTokens(_ test: PlannedTest, idTokens: Set<Substring>?, file: FileFacts?) -> [Substring] {
        if filesByToken.isEmpty { return [] }
        var found: [Substring]
        if let idTokens {
            found = []
            for t in idTokens where isChangedToken(t) { found.append(t) }
        } else {
            found = mayContain(test.test) ? matching(Self.tokenize(test.test)) : []
        }
        for k in file?.tokens ?? 0..<0 where !found.contains(fileTokenStore[k]) { found.append(fileTokenStore[k]) }
        return found
    }

    /// The tokens of `tokens` that some changed file has, each once, in order.
    private func matching(_ tokens: [Substring]) -> [Substring] {
        var found: [Substring] = []
        for t in tokens where isChangedToken(t) && !found.contains(t) { found.append(t) }
        return found
    }

    /// True if some changed file's name has the (lower-case) token. The first byte is
    /// checked before the token is hashed: most tokens start with a byte no changed
    /// file's token starts with.
    private func isChangedToken(_ t: Substring) -> Bool {
        if let index = tokenBytes, let c = t.utf8.first, index.byFirst[Int(c)].isEmpty { return false }
        return filesByToken[t] != nil
    }

    /// False when no changed-file token can occur in `text` (then it shares none);
    /// true when one may, or when there are too many tokens to pre-filter with.
    func mayContain(_ text: String) -> Bool {
        if filesByToken.isEmpty { return false }
        return tokenBytes.map { Self.mayContain(text, $0) } ?? true
    }

    /// True if some token occurs in `text`, compared ASCII case-insensitively. One pass
    /// over the text, trying only the tokens that start with each byte: it runs for
    /// every planned test, against the changed and the carried files' tokens.
    static func mayContain(_ text: String, _ tokens: TokenIndex) -> Bool {
        guard !tokens.isEmpty else { return false }
        var found = false
        text.utf8.withContiguousStorageIfAvailable { raw in
            let n = raw.count
            for i in 0..<n {
                let c = raw[i] >= 65 && raw[i] <= 90 ? raw[i] + 32 : raw[i]
                for token in tokens.byFirst[Int(c)] where i + token.count <= n {
                    var k = 1
                    while k < token.count {
                        let d = raw[i + k] >= 65 && raw[i + k] <= 90 ? raw[i + k] + 32 : raw[i + k]
                        if d != token[k] { break }
                        k += 1
                    }
                    if k == token.count { found = true; return }
                }
            }
        } ?? { found = true }()
        return found
    }

    /// The largest share of a changed file's name tokens found among the test's id and
    /// file tokens: `boltons/cacheutils.py` and `tests/test_cacheutils.py::test_lru` give 1.
    /// `own` holds each token once.
    func pathSimilarity(_ own: [Substring]) -> Double {
        similarities(own).values.max() ?? 0
    }

    /// The share of each changed file's name tokens found among `own` (each token once),
    /// by index in `changed`, for the files that share at least one (the others are 0).
    func similarities(_ own: [Substring]) -> [Int: Double] {
        var found: [Int: Int] = [:]
        for t in own {
            for (j, c) in filesByToken[t] ?? [] { found[j, default: 0] += c }
        }
        return found.reduce(into: [:]) { $0[$1.key] = Double($1.value) / Double(tokenCounts[$1.key]) }
    }

    /// How strongly `test` is tied to each changed file it is tied to at all (by index in
    /// `changed`; the others are 0): 1 for its own file, else the path similarity to that
    /// file; nil when it shares no token with any changed file and is not one of them.
    mutating func ties(of test: PlannedTest, idTokens: Set<Substring>? = nil) -> [Int: Double]? {
        let file = test.testFile.map { facts(of: $0) }
        let tokens = testTokens(test, idTokens: idTokens, file: file)
        let own = file?.changed
        guard !tokens.isEmpty || own != nil else { return nil }
        var result = tokens.isEmpty ? [:] : similarities(tokens)
        if let own { result[own] = 1 }
        return result
    }

    /// 2^(-runs since a file sharing a name token with `path` (the test's file, or its id
    /// when it has none) last changed / 4), from earlier runs only; 0 if none did.
    func recency(of path: String) -> Double {
        var last = -1
        for token in Self.nameTokens(path) {
            if let r = memory.tokenLastChanged[token] { last = max(last, r) }
        }
        guard last >= 0 else { return 0 }
        return exp2(-Double(runCount - 1 - last) / ChangeMemory.recencyHalfLife)
    }

    /// Words too common in paths and test names to say anything.
    static let stopWords: Set<Substring> = ["test", "tests", "src", "source", "sources", "lib", "main", "spec", "specs"]

    /// Tokens of a file's name only (no directories): what identifies a module.
    static func nameTokens(_ path: String) -> [Substring] {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return tokenize(name)
    }

    /// Alphanumeric words of at least three characters, split at camelCase humps and
    /// lower-cased, without the file extension (`.swift` would otherwise match every
    /// file) and without stop words. Works on UTF-8 bytes (ASCII rules; other bytes
    /// count as lower-case letters) because it runs for every test of every ranked run.
    static func tokenize(_ text: String) -> [Substring] {
        var bytes = Array(text.utf8)
        if let dot = bytes.lastIndex(of: UInt8(ascii: ".")), !bytes[dot...].contains(UInt8(ascii: "/")),
           bytes.count - dot <= 6 {
            bytes.removeSubrange(dot...)
        }
        func isUpper(_ c: UInt8) -> Bool { c >= 65 && c <= 90 }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        func isWord(_ c: UInt8) -> Bool { isUpper(c) || isDigit(c) || (c >= 97 && c <= 122) || c >= 128 }
        var words: [Substring] = []
        var current: [UInt8] = []
        var previous: UInt8 = 32
        func flush() {
            if current.count >= 3 {
                let word = Substring(decoding: current, as: UTF8.self)
                if !stopWords.contains(word) { words.append(word) }
            }
            current.removeAll(keepingCapacity: true)
        }
        for c in bytes {
            if !isWord(c) {
                flush()
            } else {
                let lowerBefore = (previous >= 97 && previous <= 122) || isDigit(previous)
                if isUpper(c) && lowerBefore && !current.isEmpty { flush() }
                current.append(isUpper(c) ? c + 32 : c)
            }
            previous = c
        }
        flush()
        return words
    }
}

/// Lower-case tokens grouped by their first byte, for `ChangeContext.mayContain`.
struct TokenIndex {
    let byFirst: [[[UInt8]]]
    let isEmpty: Bool
    init(_ tokens: [[UInt8]]) {
        var groups = [[[UInt8]]](repeating: [], count: 256)
        for t in tokens where !t.isEmpty { groups[Int(t[0])].append(t) }
        byFirst = groups
        isEmpty = !tokens.contains { !$0.isEmpty }
    }
}

/// The files a plan carries over from the failing runs before it (`ChangeMemory.open`).
/// A class because a struct cannot hold a context of its own type; it lives only as long
/// as the plan's `ChangeContext`.
final class CarriedContext {
    var context: ChangeContext
    init(context: ChangeContext) { self.context = context }

    /// 1 if the test's own file is a carried file, else its name similarity to one
    /// (when >= `ChangeEvidence.similarityThreshold`) or 1 / import steps to one,
    /// whichever is larger; 0 if it is not tied.
    func tie(of test: PlannedTest, idTokens: Set<Substring>? = nil) -> Double {
        var best = context.importCloseness(test)
        if let row = context.ties(of: test, idTokens: idTokens), let m = row.values.max(), m >= ChangeEvidence.similarityThreshold {
            best = max(best, m)
        }
        return best
    }
}

/// How the model's order uses strong change evidence: tests whose own file changed,
/// whose name matches a changed file (path similarity >= 0.5), whose file imports a
/// changed file (directly or not, when the import graph is known), or that failed with a
/// changed file before (co-failure >= 0.2, for the test or its file) form the first
/// tier; tests tied the same way only to a file a failing run just before changed (a
/// fault not fixed yet, `carried_change`) form a middle tier 0.5; each tier is ordered
/// by the learned probability (or probability per second).
/// Without change data every tier is 0 and the order is the model's alone.
public enum ChangeEvidence {
    /// Fixed when the rule was written (see docs/ranking.md for what was tried).
    static let similarityThreshold = 0.5
    static let coFailureThreshold = 0.2

    /// The tier of each row of a feature matrix (1 strong evidence, 0 otherwise).
    public static func tiers(_ features: FeatureMatrix) -> [Double] {
        (0..<features.count).map { i in
            let r = features.row(i), b = r.startIndex
            let strong = r[b + FeatureSet.testFileChanged] > 0
                || r[b + FeatureSet.pathSimilarity] >= similarityThreshold
                || r[b + FeatureSet.coFailure] >= coFailureThreshold
                || r[b + FeatureSet.fileCoFailure] >= coFailureThreshold
                || r[b + FeatureSet.importsChanged] > 0
            return strong ? 1 : r[b + FeatureSet.carriedChange] > 0 ? carriedTier : 0
        }
    }

    /// The middle tier: tests tied only to a file changed since the last run without
    /// failures (`carried_change`), after tier 1 and before tier 0.
    public static let carriedTier = 0.5

    /// Indices by descending tier, then by each of `strength` descending in turn (how
    /// strongly the test is tied to the change), then descending score; ties keep the
    /// original order.
    public static func order(_ scores: [Double], tiers: [Double], strength: [[Double]] = []) -> [Int] {
        Array(0..<scores.count).sorted { a, b in
            if tiers[a] != tiers[b] { return tiers[a] > tiers[b] }
            for s in strength where s[a] != s[b] { return s[a] > s[b] }
            return scores[a] != scores[b] ? scores[a] > scores[b] : a < b
        }
    }

    /// The `cofailure` column of each row of a feature matrix.
    public static func coFailures(_ features: FeatureMatrix) -> [Double] {
        (0..<features.count).map { features.row($0)[features.row($0).startIndex + FeatureSet.coFailure] }
    }

    /// The `imports_changed_file` column of each row of a feature matrix.
    public static func importCloseness(_ features: FeatureMatrix) -> [Double] {
        (0..<features.count).map { features.row($0)[features.row($0).startIndex + FeatureSet.importsChanged] }
    }

    /// The strength keys of the model's order inside a tier (see `evidence(for:)`): by
    /// probability, the spread of the change's risk, then the test's own co-failure with
    /// a changed file (a module that broke this test before, e.g. `typeutils.py` breaking
    /// `test_iterutils.py`), then how close its file imports a changed file; cost-aware,
    /// the relatedness. Tests tied only through imports have spread and relatedness 0, so
    /// they follow the tests tied by name (the import key was placed last when it was
    /// written, before any replay with it).
    public static func strength(costAware: Bool, related: [Double], spread: [Double], coFailure: [Double],
                                imports: [Double]? = nil) -> [[Double]] {
        costAware ? [related] : [spread, coFailure] + (imports.map { [$0] } ?? [])
    }

    /// How each planned test is tied to the run's changed files, for ordering inside the
    /// first tier (issue 16, second round; docs/ranking.md):
    /// - `related`: 1 if its own file changed, else its path similarity (what the
    ///   name-match heuristic orders by); the cost-aware model order uses it;
    /// - `spread`: the change's risk spread over the tests tied to it: over the changed
    ///   files f the test is tied to (own file, or similarity >= 0.5), the largest
    ///   tie(f) / (number of tests of the plan tied to f). A file tied to 124 tests makes
    ///   each of them less likely to fail than a file tied to 3 (a broken module fails a
    ///   few of its tests, not a fixed share). The model order by probability uses it.
    /// All 0 without change data, and when `groups` (the model's feature groups) leave out
    /// path similarity (an ablation without name evidence has none in its order either).
    public static func evidence(for plan: RunPlan, groups: FeatureGroups = .all,
                                idTokens: (String) -> Set<Substring>? = { _ in nil }) -> (related: [Double], spread: [Double]) {
        evidence(for: plan, groups: groups, idTokensAt: { idTokens(plan.tests[$0].test) })
    }

    /// `evidence(for:groups:idTokens:)` with each test's id tokens by its index in the plan.
    static func evidence(for plan: RunPlan, groups: FeatureGroups,
                         idTokensAt: (Int) -> Set<Substring>?) -> (related: [Double], spread: [Double]) {
        let n = plan.tests.count
        var context = ChangeContext(plan: plan, memory: ChangeMemory(), runCount: 0, imports: false)
        guard context.hasChanges, groups.contains(.similarity) else { return ([Double](repeating: 0, count: n), [Double](repeating: 0, count: n)) }
        let ties = plan.tests.indices.map { context.ties(of: plan.tests[$0], idTokens: idTokensAt($0)) }
        var tied = [Int](repeating: 0, count: context.changed.count)
        for row in ties {
            guard let row else { continue }
            for (j, v) in row where v >= similarityThreshold { tied[j] += 1 }
        }
        var related = [Double](repeating: 0, count: n), spread = [Double](repeating: 0, count: n)
        for (i, row) in ties.enumerated() {
            guard let row else { continue }
            related[i] = max(row.values.max() ?? 0, 0)
            for (j, v) in row where v >= similarityThreshold {
                spread[i] = max(spread[i], v / Double(tied[j]))
            }
        }
        return (related, spread)
    }
}
