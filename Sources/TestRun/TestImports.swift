import Core
import Foundation
import Rank
import Recipe
import Store

/// The import graph of the tree a Python suite runs in, for the change evidence of the
/// order and the selection: a change to `pkg/typeutils.py` also ties the tests whose
/// file imports it, directly or through other modules (docs/ranking.md). Read on the
/// host from the tree as the build left it (before the suite runs), only through real
/// directories and regular files (`PythonImports.scan`).
enum TestImports {
    /// The graph of `sources` (the tree's `/build/src`, whose paths the changed files and
    /// the tests' files use), or nil when it cannot matter: not a pytest suite, or no
    /// change known since the last run. A tree too large to scan gets a note and no graph.
    static func graph(framework: Recipe.Test.Framework, changed: [String]?, sources: String,
                      progress: (any TestProgress)?) -> ImportGraph? {
        guard framework == .pytest, let changed, !changed.isEmpty else { return nil }
        do {
            let graph = try PythonImports.scan(directory: sources)
            return graph.isEmpty ? nil : graph
        } catch PythonImports.ScanError.tooManyFiles {
            progress?.note("more than \(PythonImports.maxFiles) Python files, \(PythonImports.maxStatements) import statements or \(PythonImports.maxTotalBytes >> 20) MiB of source in the tree: ordering without its imports")
            return nil
        } catch {
            return nil
        }
    }
}

extension ImportGraphCache {
    /// Graphs kept in `store` by `repro test` (a blob that is gone reads as nil).
    public convenience init(store: Store) {
        self.init { digest in
            guard let d = try? Digest.parse(digest), let path = try? store.path(for: d) else { return nil }
            return try? ImportGraphFile.load(path: path)
        }
    }
}
