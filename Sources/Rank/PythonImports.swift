#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads the import statements of a tree's Python files and resolves them to files of
/// the same tree (`ImportGraph`). Written by hand: there is no Swift library that parses
/// Python, and running Python itself (`ast`) on the host would execute nothing but still
/// need an interpreter repro does not otherwise require. The scan is static and
/// over-approximates: an import inside `try`, `if` or a function counts; imports inside
/// triple-quoted strings (doctests) and comments do not; `importlib` and `__import__`
/// calls are not seen. An import names a module, and the edge goes to that module's file
/// (`pkg/mod.py` or `pkg/mod/__init__.py`), not to the `__init__.py` of every package on
/// the way (which would tie every test to a package that imports its submodules).
public enum PythonImports {
    /// Files larger than this are not read (generated code); they get no edges.
    public static let maxFileBytes = 4 << 20
    /// A tree with more Python files than this is refused: the graph is meant for a
    /// project's own sources, not a vendored world.
    public static let maxFiles = 200_000
    /// Import statements kept per file, and in all: bounds the scan's memory whatever a
    /// build leaves in its tree (a 4 MiB file of `import a` lines holds 450,000).
    public static let maxStatementsPerFile = 10_000
    public static let maxStatements = 2_000_000
    /// Bytes of Python source read in all: bounds the scan's time the same way.
    public static let maxTotalBytes = 1 << 30

    /// The graph of `files` (path relative to the tree -> source text).
    public static func graph(files: [String: String]) -> ImportGraph {
        resolve(files.mapValues { statements($0) })
    }

    /// The graph of files given by their import statements (path -> statements).
    static func resolve(_ parsed: [String: [Statement]]) -> ImportGraph {
        let index = ModuleIndex(paths: Array(parsed.keys))
        var imports: [String: [String]] = [:]
        for (path, list) in parsed {
            var targets = Set<String>()
            for statement in list {
                for target in index.resolve(statement, from: path) { targets.insert(target) }
            }
            imports[path] = targets.sorted()
        }
        return ImportGraph(imports: imports)
    }

    /// One import statement: `import a.b` gives `module: "a.b", names: []`;
    /// `from ..x import y, z` gives `level: 2, module: "x", names: ["y", "z"]`.
    struct Statement: Equatable {
        var level = 0
        var module: String
        var names: [String] = []
        var isFrom: Bool
    }

    /// The import statements of a source text, in order.
    static func statements(_ text: String) -> [Statement] {
        var result: [Statement] = []
        for logical in logicalLines(text) {
            for part in logical.split(separator: ";") {
                result += parse(part.trimmingCharacters(in: .whitespaces))
            }
        }
        return result
    }

    /// Physical lines joined into the logical lines that may hold an import statement
    /// (backslash continuations, and parentheses left open by `from x import (`), with
    /// triple-quoted strings and comments removed. Works on bytes: it reads every line of
    /// every Python file of the tree on each `repro test` of a changed Python tree.
    static func logicalLines(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        let n = bytes.count
        var lines: [String] = []
        var quote: UInt8 = 0       // the character of the open triple quote, 0 in code
        var pending: [UInt8] = []  // a statement continued on the next line
        var parens = 0
        var code: [UInt8] = []
        var i = 0
        while i <= n {
            var end = i
            while end < n && bytes[end] != 10 && bytes[end] != 13 { end += 1 }
            // The line's code: outside triple-quoted strings, before a comment.
            code.removeAll(keepingCapacity: true)
            var j = i
            var comment = false
            while j < end {
                let c = bytes[j]
                let triple = (c == 34 || c == 39) && j + 2 < end && bytes[j + 1] == c && bytes[j + 2] == c
                if quote != 0 {
                    if triple && c == quote { quote = 0; j += 3 } else { j += 1 }
                } else if triple {
                    quote = c
                    j += 3
                } else {
                    if c == 35 { comment = true }  // '#'
                    if !comment { code.append(c) }
                    j += 1
                }
            }
            i = end + (end + 1 < n && bytes[end] == 13 && bytes[end + 1] == 10 ? 2 : 1)  // CRLF is one break
            var a = 0, b = code.count
            while a < b && (code[a] == 32 || code[a] == 9) { a += 1 }
            while b > a && (code[b - 1] == 32 || code[b - 1] == 9) { b -= 1 }
            let line = code[a..<b]
            if pending.isEmpty && !(line.starts(with: Self.importWord) || line.starts(with: Self.fromWord) || line.contains(59)) {
                continue
            }
            var piece = line
            let continued = piece.last == 92  // backslash
            if continued { piece = piece.dropLast() }
            for c in piece { parens += c == 40 ? 1 : c == 41 ? -1 : 0 }
            if !pending.isEmpty { pending.append(32) }
            pending.append(contentsOf: piece)
            // A runaway parenthesis cannot swallow the rest of the file.
            if (continued || parens > 0) && pending.count < 64 << 10 && i <= n { continue }
            lines.append(String(decoding: pending, as: UTF8.self))
            pending.removeAll(keepingCapacity: true)
            parens = 0
        }
        if !pending.isEmpty { lines.append(String(decoding: pending, as: UTF8.self)) }
        return lines
    }

    static let importWord = Array("import".utf8)
    static let fromWord = Array("from".utf8)

    static func parse(_ s: String) -> [Statement] {
        let words = s.replacingOccurrences(of: "(", with: " ").replacingOccurrences(of: ")", with: " ")
        if s.hasPrefix("import ") || s.hasPrefix("import\t") {
            return String(words.dropFirst(6)).split(separator: ",").compactMap { item in
                let name = item.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
                return isDotted(name) ? Statement(module: name, isFrom: false) : nil
            }
        }
        guard s.hasPrefix("from ") || s.hasPrefix("from\t") else { return [] }
        let tokens = words.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard tokens.count >= 3, tokens[2] == "import" else { return [] }
        let source = tokens[1]
        let level = source.prefix { $0 == "." }.count
        let module = String(source.dropFirst(level))
        guard module.isEmpty ? level > 0 : isDotted(module) else { return [] }
        let names = tokens[3...].joined(separator: " ").split(separator: ",").compactMap { item -> String? in
            let name = item.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
            return name == "*" || isIdentifier(name) ? name : nil
        }
        return [Statement(level: level, module: module, names: names, isFrom: true)]
    }

    static func isIdentifier(_ s: some StringProtocol) -> Bool {
        guard let first = s.unicodeScalars.first, !CharacterSet.decimalDigits.contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || CharacterSet.alphanumerics.contains($0) }
    }

    static func isDotted(_ s: String) -> Bool {
        !s.isEmpty && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isIdentifier($0) }
    }

    /// Module names of the tree's files: every file answers to each dotted suffix of its
    /// path (`src/pkg/mod.py` is `src.pkg.mod`, `pkg.mod` and `mod`), since which
    /// directory is on `sys.path` is not known; the shortest path wins a shared name.
    struct ModuleIndex {
        var paths: Set<String>
        var byName: [String: String] = [:]

        init(paths: [String]) {
            self.paths = Set(paths)
            for path in paths.sorted(by: { ($0.count, $0) < ($1.count, $1) }) {
                var parts = path.split(separator: "/").map(String.init)
                guard let last = parts.popLast(), last.hasSuffix(".py") else { continue }
                if last != "__init__.py" { parts.append(String(last.dropLast(3))) }
                for start in parts.indices {
                    let name = parts[start...].joined(separator: ".")
                    if byName[name] == nil { byName[name] = path }
                }
            }
        }

        /// The file of a module given as path components under `directory`.
        func file(_ components: [String], under directory: [String]) -> String? {
            let base = (directory + components).joined(separator: "/")
            guard !base.isEmpty else { return nil }
            for candidate in [base + ".py", base + "/__init__.py"] where paths.contains(candidate) { return candidate }
            return nil
        }

        /// A module named absolutely: the importer's own directory first (pytest puts a
        /// test's directory on `sys.path`), then the index.
        func absolute(_ name: String, from directory: [String]) -> String? {
            let parts = name.split(separator: ".").map(String.init)
            return file(parts, under: directory) ?? byName[name]
        }

        func resolve(_ s: Statement, from path: String) -> [String] {
            let directory = Array(path.split(separator: "/").map(String.init).dropLast())
            if !s.isFrom { return absolute(s.module, from: directory).map { [$0] } ?? [] }
            if s.level > 0 {
                guard s.level - 1 <= directory.count else { return [] }
                let package = Array(directory.dropLast(s.level - 1))
                let parts = s.module.isEmpty ? [] : s.module.split(separator: ".").map(String.init)
                var out: [String] = []
                for name in s.names where name != "*" {
                    if let f = file(parts + [name], under: package) { out.append(f) }
                }
                if out.count < s.names.count, let f = file(parts, under: package) { out.append(f) }
                return out
            }
            var out: [String] = []
            for name in s.names where name != "*" {
                if let f = absolute(s.module + "." + name, from: directory) { out.append(f) }
            }
            if out.count < s.names.count, let f = absolute(s.module, from: directory) { out.append(f) }
            return out
        }
    }

    /// Reads every `.py` file under `root` and builds the graph. Only regular files and
    /// real directories are visited: a symlink (to a host file or a loop), a FIFO or a
    /// device is skipped, and files are opened with `O_NOFOLLOW | O_NONBLOCK`, so a tree
    /// made by a build cannot make the host read elsewhere or block. Hidden directories,
    /// `__pycache__` and `node_modules` are skipped; files over `maxFileBytes` or holding
    /// a NUL byte get no edges.
    /// - Throws: `ScanError.tooManyFiles` past `maxFiles` files, `maxStatements` import
    ///   statements or `maxTotalBytes` of source; `ScanError.unreadable` if
    ///   `root` is not a readable directory.
    public static func scan(directory root: String, maxStatements: Int = maxStatements,
                            maxTotalBytes: Int = maxTotalBytes) throws -> ImportGraph {
        var parsed: [String: [Statement]] = [:]
        var total = 0, bytes = 0
        var stack = [""]
        while let relative = stack.popLast() {
            let dirPath = relative.isEmpty ? root : root + "/" + relative
            guard let dir = opendir(dirPath) else {
                if relative.isEmpty { throw ScanError.unreadable(root) }
                continue
            }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let rel = relative.isEmpty ? name : relative + "/" + name
                var st = stat()
                guard lstat(root + "/" + rel, &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    if !name.hasPrefix("."), name != "__pycache__", name != "node_modules" { stack.append(rel) }
                case S_IFREG where name.hasSuffix(".py"):
                    if parsed.count >= maxFiles { throw ScanError.tooManyFiles(root) }
                    // Only the statements are kept: memory follows the imports, not the sources.
                    let text = readSource(root + "/" + rel)
                    bytes += text?.utf8.count ?? 0
                    if bytes > maxTotalBytes { throw ScanError.tooManyFiles(root) }
                    let list = text.map { Array(statements($0).prefix(maxStatementsPerFile)) } ?? []
                    total += list.count
                    if total > maxStatements { throw ScanError.tooManyFiles(root) }
                    parsed[rel] = list
                default:
                    continue
                }
            }
        }
        return resolve(parsed)
    }

    public enum ScanError: Error, Equatable {
        case unreadable(String)
        case tooManyFiles(String)
    }

    /// A regular file's text, or nil if it is not one, too large or binary.
    static func readSource(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size <= maxFileBytes else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, $0.count - got) }
            if n <= 0 { break }
            got += n
        }
        bytes.removeSubrange(got...)
        if bytes.contains(0) { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
