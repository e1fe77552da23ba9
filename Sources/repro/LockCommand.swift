import ArgumentParser
import Fetch
import Core
import Foundation
import Recipe
import Store

/// `repro lock RECIPE`: pin the toolchain closure and every input in RECIPE.lock.
struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Pin a recipe's toolchain closure and inputs in its lock file.",
        discussion: "Writes NAME.lock next to NAME.toml (docs/recipes.md). Resolution uses a private apt state in the store ($REPRO_HOME/apt) derived from this host's apt sources; the system's apt state is never touched. With --check, nothing is written: exit 0 when the lock is current, 2 with the list of changes when it is stale."
    )

    @Argument(help: "The recipe file.")
    var recipe: String

    @Flag(help: "Check that the lock is current instead of writing it.")
    var check = false

    @Flag(help: "Refresh the private apt lists first.")
    var update = false

    @Option(help: "Store directory (default $REPRO_HOME or ~/.cache/repro).")
    var store: String?

    @Flag(help: "Print a JSON summary on stdout.")
    var json = false

    func run() throws {
        do {
            let r = try Recipe.load(path: recipe)
            if check {
                let lock = try LockFile.read(path: r.lockPath)
                let changes = lock.changes(for: r, contentDigests: try Locker.pathDigests(r))
                if json {
                    try printJSON(["lock": r.lockPath, "stale": changes.isEmpty ? "false" : "true",
                                   "changes": changes.map(\.message).joined(separator: "; ")])
                }
                guard changes.isEmpty else {
                    throw ReproError(.invalidInput, "\(r.lockPath) is stale: \(changes.map(\.message).joined(separator: "; ")); run 'repro lock \(recipe)'")
                }
                if !json { print("\(r.lockPath) is current") }
                return
            }
            let s = try Store(root: store)
            let lock = try Locker(store: s, progress: isatty(2) != 0).lock(r, update: update)
            try lock.write(to: r.lockPath)
            if json {
                try printJSON(["lock": r.lockPath, "packages": String(lock.toolchain.packages.count),
                               "inputs": String(lock.inputs.count), "recipe_digest": r.digest.description])
            } else {
                print("\(r.lockPath): \(lock.toolchain.packages.count) toolchain packages, \(lock.inputs.count) inputs")
            }
        }
    }
}
