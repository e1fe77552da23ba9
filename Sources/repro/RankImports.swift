import ArgumentParser
import Core
import Foundation
import Rank

/// `repro rank imports`: write the import graph of Python source trees, for `--imports`.
struct RankImports: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imports",
        abstract: "Write which Python files of a source tree import which (for --imports).",
        discussion: """
        Reads every .py file under each DIR (symlinks, hidden directories and \
        __pycache__ are skipped) and resolves its import statements to files of the same \
        tree. Paths are relative to DIR, like a history's changed files and test files. \
        With several DIRs (e.g. releases of the same project) the graph is their union. \
        `repro test` builds the same graph from the tree it tests by itself; this command \
        is for replaying a history with `repro rank eval --imports FILE`.

        Example:
          repro rank imports boltons-25.0.0 boltons-26.2.0 -o boltons-imports.json
          repro rank eval --replay boltons.jsonl --format jsonl --imports boltons-imports.json
        """)

    @Argument(help: "Source trees to read.")
    var directories: [String]
    @Option(name: .shortAndLong, help: "Where to write the graph (JSON); - for standard output.")
    var output: String
    @Flag(help: "Print a JSON summary.")
    var json = false

    func validate() throws {
        if directories.isEmpty { throw ValidationError("give at least one source directory, e.g. `repro rank imports src -o imports.json`") }
    }

    func run() throws {
        var union: [String: Set<String>] = [:]
        for dir in directories {
            let graph: ImportGraph
            do {
                graph = try PythonImports.scan(directory: dir)
            } catch PythonImports.ScanError.unreadable {
                throw ReproError(.invalidInput, "\(dir): not a readable directory; pass the root of a Python source tree")
            } catch PythonImports.ScanError.tooManyFiles {
                throw ReproError(.invalidInput, "\(dir): more than \(PythonImports.maxFiles) Python files, \(PythonImports.maxStatements) import statements or \(PythonImports.maxTotalBytes >> 20) MiB of source; pass the project's own source tree, not a whole environment")
            }
            for (file, targets) in graph.imports { union[file, default: []].formUnion(targets) }
        }
        let graph = ImportGraph(imports: union.mapValues { Array($0) })
        let data = try ImportGraphFile.encode(graph)
        if output == "-" {
            FileHandle.standardOutput.write(data)
        } else {
            do { try data.write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                throw ReproError(.invalidInput, "\(output): cannot write the imports file; check the directory exists and is writable")
            }
        }
        let edges = graph.imports.values.reduce(0) { $0 + $1.count }
        struct Summary: Encodable { var output: String; var files: Int; var edges: Int }
        let summary = Summary(output: output, files: graph.imports.count, edges: edges)
        if output == "-" { return }
        if json { return try printJSON(summary, pretty: true) }
        print("\(summary.files) Python files, \(edges) imports within the tree; wrote \(output)")
    }
}
