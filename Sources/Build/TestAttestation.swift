import Attest
import Core
import Fetch
import Foundation
import Recipe

/// The signed test result of a test run (docs/provenance.md, "Test results"): the facts
/// Attest's `TestResultStatement` needs, taken from the recipe, its lock and the tested
/// build, and the signature with the build-provenance key.
///
///     let config = try TestAttestation.configuration(recipe: recipe, lock: lock, build: outcome,
///                                                    order: "random:42", options: ["filter": "test_x"])
///     let statement = TestAttestation.statement(build: outcome, outcomes: outcomes,
///                                               configuration: config, runID: runID, interrupted: false)
///     let envelope = try TestAttestation.sign(statement, key: keyOption) { note in warn(note) }
public enum TestAttestation {
    /// The id of the root tests run over (`sha256:<root id>` of the lock's test packages,
    /// or of the build toolchain when the lock has no test section), or `host`: the
    /// root `Builder.testRoot(lock:offline:progress:)` assembles.
    public static func toolchainID(of lock: LockFile) -> String {
        guard lock.toolchain.kind == "debian" else { return "host" }
        return "sha256:" + ToolchainRoot.id(of: (lock.test?.packages ?? lock.toolchain.packages).map(DebPin.init))
    }

    /// What the run was run with: the recipe (canonical digest, and the file's bytes,
    /// which cover its `[test]` step), the lock file, the test toolchain, the framework,
    /// the order as the user gave it, the fault spec (`faults`, else the `[test]` step's),
    /// the tested build's action, and the other options by long name.
    /// - Throws: `ReproError(.invalidInput)` when the recipe has no `[test]` step or a
    ///   file cannot be read.
    public static func configuration(recipe: Recipe, lock: LockFile, build: BuildOutcome, order: String,
                                     faults: String? = nil, options: [String: String] = [:]) throws -> TestConfiguration {
        guard let test = recipe.test else {
            throw ReproError(.invalidInput, "\(recipe.file): no [test] step to attest")
        }
        return TestConfiguration(
            recipePath: recipe.file, recipeSHA256: recipe.digest.hex, recipeFileSHA256: try fileSHA256(recipe.file, "recipe"),
            lockPath: recipe.lockPath, lockSHA256: try fileSHA256(recipe.lockPath, "lock file"),
            toolchain: toolchainID(of: lock), framework: test.framework.rawValue, order: order,
            faults: faults ?? test.faults, buildAction: build.actionDigest, options: options)
    }

    /// The statement of a run of `build`'s outputs: its tree and archive are the subjects;
    /// `runID` becomes the url `repro-test-run:ID`.
    public static func statement(build: BuildOutcome, outcomes: TestOutcomes, configuration: TestConfiguration,
                                 runID: String?, interrupted: Bool) -> TestResultStatement {
        func hex(_ d: String) -> String { d.hasPrefix("sha256:") ? String(d.dropFirst(7)) : d }
        var archive: (name: String, sha256: String)?
        if let name = build.archive, let digest = build.archiveDigest { archive = (name, hex(digest)) }
        return TestResultStatement(tree: hex(build.treeDigest), archive: archive, outcomes: outcomes,
                                   configuration: configuration, url: runID.map { "repro-test-run:\($0)" },
                                   interrupted: interrupted)
    }

    /// Signs with the key builds are signed with (`BuildAttestation.signingKey`: `key`,
    /// else `$REPRO_SIGNING_KEY`, else the default key, generated on first use) and
    /// returns the envelope as one line of JSON ending in a newline.
    public static func sign(_ statement: TestResultStatement, key: String?, note: (String) -> Void) throws -> Data {
        try statement.sign(key: try BuildAttestation.signingKey(explicit: key, note: note))
    }

    static func fileSHA256(_ path: String, _ what: String) throws -> String {
        do {
            return Digest.of(try Data(contentsOf: URL(fileURLWithPath: path))).hex
        } catch {
            throw ReproError(.invalidInput, "\(path): cannot read the \(what): \(error.localizedDescription)")
        }
    }
}
