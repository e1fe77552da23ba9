import Core
import Foundation

/// Which files of a source tree import which: `imports[file]` are the files `file`
/// imports directly, paths relative to the tree's root (the same paths as a run's
/// changed files and its tests' files). A change evidence no name carries: a fault in
/// `pkg/typeutils.py` breaks the tests of every module that imports it, however they are
/// named. Built by `PythonImports.graph(files:)` from the tree `repro test` runs (or by
/// `repro rank imports DIR` for a replayed history); the same graph is used for every run
/// of a history, an approximation documented in docs/ranking.md.
public struct ImportGraph: Sendable, Equatable {
    public let imports: [String: [String]]
    /// The reverse edges: file -> files that import it directly.
    let importedBy: [String: [String]]

    public init(imports: [String: [String]]) {
        var clean: [String: [String]] = [:]
        var reverse: [String: [String]] = [:]
        for (file, targets) in imports {
            let t = Array(Set(targets.filter { $0 != file })).sorted()
            clean[file] = t
            for target in t { reverse[target, default: []].append(file) }
        }
        self.imports = clean
        importedBy = reverse.mapValues { $0.sorted() }
    }

    public var isEmpty: Bool { imports.values.allSatisfy(\.isEmpty) }

    /// For every file that imports one of `changed`, directly or through other files: the
    /// fewest import steps to a changed file (1 = imports one directly). A changed file
    /// itself is not listed unless it imports another changed file directly (then 1).
    public func distances(from changed: some Sequence<String>) -> [String: Int] {
        let changedSet = Set(changed)
        var result: [String: Int] = [:]
        var frontier = changedSet.sorted()
        var seen = changedSet
        var depth = 0
        while !frontier.isEmpty {
            depth += 1
            var next: [String] = []
            for file in frontier {
                for importer in importedBy[file] ?? [] where seen.insert(importer).inserted {
                    result[importer] = depth
                    next.append(importer)
                }
            }
            frontier = next
        }
        // A changed file counts when it imports another changed file directly (longer
        // paths could lead back to itself).
        for file in changedSet where (imports[file] ?? []).contains(where: changedSet.contains) { result[file] = 1 }
        return result
    }
}

/// The file `repro rank imports` writes and `--imports` reads:
/// `{"format": "repro-imports", "version": 1, "imports": {"tests/test_x.py": ["pkg/x.py"]}}`.
public enum ImportGraphFile {
    public static let formatName = "repro-imports"
    public static let formatVersion = 1
    /// Larger files are refused before they are parsed.
    public static let maxBytes = 256 << 20

    struct Document: Codable {
        var format: String
        var version: Int
        var imports: [String: [String]]
    }

    public static func encode(_ graph: ImportGraph) throws -> Data {
        try CanonicalJSON.encode(Document(format: formatName, version: formatVersion, imports: graph.imports),
                                 pretty: true) + Data("\n".utf8)
    }

    /// - Throws: `ReproError(.invalidInput)` naming the file and what to do when it is
    ///   unreadable, too large, not this format, or holds a path that is empty, absolute,
    ///   has a NUL byte or a `..` component.
    public static func load(path: String) throws -> ImportGraph {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw ReproError(.invalidInput, "\(path): cannot read the imports file; check the path, or write one with `repro rank imports DIR -o FILE`")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        if data.count > maxBytes {
            throw ReproError(.invalidInput, "\(path): the imports file is larger than \(maxBytes >> 20) MiB; write it from the source tree with `repro rank imports`")
        }
        let doc: Document
        do {
            doc = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw ReproError(.invalidInput, "\(path): not a \(formatName) file (\(Self.describe(error))); write one with `repro rank imports DIR -o FILE`")
        }
        guard doc.format == formatName, doc.version == formatVersion else {
            throw ReproError(.invalidInput, "\(path): format \(doc.format) v\(doc.version), expected \(formatName) v\(formatVersion); write it again with `repro rank imports`")
        }
        for (file, targets) in doc.imports {
            for p in [file] + targets {
                if let why = badPath(p) {
                    throw ReproError(.invalidInput, "\(path): imports entry \(String(reflecting: p)) \(why); paths are relative to the source tree, e.g. \"pkg/mod.py\"")
                }
            }
        }
        return ImportGraph(imports: doc.imports)
    }

    static func badPath(_ p: String) -> String? {
        if p.isEmpty { return "is empty" }
        if p.utf8.contains(0) { return "holds a NUL byte" }
        if p.hasPrefix("/") { return "is absolute" }
        if p.split(separator: "/", omittingEmptySubsequences: false).contains("..") { return "has a '..' component" }
        return nil
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): "invalid JSON: \(c.debugDescription)"
        case DecodingError.keyNotFound(let k, _): "missing key \(k.stringValue)"
        case DecodingError.typeMismatch(_, let c): "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        default: "\(error)"
        }
    }
}
