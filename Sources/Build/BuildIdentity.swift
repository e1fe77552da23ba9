import Core
import Fetch
import Recipe

extension Builder {
    /// The toolchain id a build of `lock` reports (`sha256:<root id>`, or `host`).
    public static func toolchainID(of lock: LockFile) -> String {
        guard lock.toolchain.kind == "debian" else { return "host" }
        return "sha256:" + ToolchainRoot.id(of: lock.toolchain.packages.map(DebPin.init))
    }

    /// The action digest (docs/build.md): sha256 of the canonical JSON of the action
    /// format, the recipe's canonical digest, the toolchain id, each input's pinned
    /// sha256 and the sandbox policy version. `repro bundle export` uses it to find the
    /// build of a recipe *and* its lock.
    public static func actionDigest(recipe: Recipe, lock: LockFile, toolchain: String, policy: String) throws -> Digest {
        struct ActionKey: Encodable {
            let format: String, recipe: String, toolchain: String, policy: String
            let inputs: [String: String]
        }
        let key = ActionKey(format: actionFormat, recipe: recipe.digest.hex, toolchain: toolchain, policy: policy,
                            inputs: lock.inputs.mapValues { $0.sha256 })
        return Digest.of(try CanonicalJSON.encode(key))
    }
}
