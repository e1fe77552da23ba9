import Core
import Foundation

/// A TOML 1.0 parser for recipes, pure Swift.
///
/// Supported: comments, bare/quoted/dotted keys, `[table]`, `[[array.of.tables]]`, basic
/// and literal strings (single- and multi-line, with escapes), integers (decimal, hex,
/// octal, binary, `_` separators), floats (with `inf`, `nan`), booleans, arrays
/// (multi-line, trailing comma) and inline tables. Dates and times are rejected with a
/// message to quote them. Duplicate keys and redefined tables are errors.
///
/// Every error is `ReproError(.invalidInput, "FILE:LINE:COL: what is wrong; what to do")`.
public enum TOML {
    /// Parses a document into its root table.
    /// - Parameter file: the name errors start with (usually the path as the user gave it).
    /// - Throws: `ReproError(.invalidInput)` with the line and column of the problem.
    public static func parse(_ text: String, file: String) throws -> TOMLTable {
        var parser = TOMLParser(file: file, bytes: Array(text.utf8))
        return try parser.document()
    }

    /// Parses UTF-8 bytes; invalid UTF-8 is an error naming the line.
    public static func parse(data: Data, file: String) throws -> TOMLTable {
        let bytes = [UInt8](data)
        if String(validating: bytes, as: UTF8.self) == nil {
            var line = 1
            for chunk in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                if String(validating: chunk, as: UTF8.self) == nil { break }
                line += 1
            }
            throw ReproError(.invalidInput, "\(file):\(line): the file is not valid UTF-8; save it as UTF-8")
        }
        var parser = TOMLParser(file: file, bytes: bytes)
        return try parser.document()
    }
}

/// The mutable tree the parser builds; frozen into `TOMLTable` at the end.
private final class TableNode {
    /// How a table came to exist decides what may be added to it later.
    enum Origin {
        /// Created as the parent of a `[a.b]` header; `[a]` may still define it.
        case implicit
        /// Defined by its own `[header]` or `[[header]]` element.
        case header
        /// Created by a dotted key (`a.b = 1`); closed to headers naming it.
        case dotted
    }

    var origin: Origin
    let position: TOMLPosition
    var order: [String] = []
    var items: [String: Item] = [:]
    var keyPositions: [String: TOMLPosition] = [:]

    init(_ origin: Origin, at position: TOMLPosition) {
        self.origin = origin
        self.position = position
    }

    func set(_ key: String, at pos: TOMLPosition, _ item: Item) {
        order.append(key)
        items[key] = item
        keyPositions[key] = pos
    }

    func freeze() -> TOMLTable {
        var t = TOMLTable()
        for key in order {
            let value: TOMLValue
            switch items[key]! {
            case .value(let v): value = v
            case .table(let node): value = TOMLValue(.table(node.freeze()), at: node.position)
            case .tables(let array):
                value = TOMLValue(.array(array.elements.map { TOMLValue(.table($0.freeze()), at: $0.position) }), at: array.position)
            }
            t.append(key, at: keyPositions[key]!, value)
        }
        return t
    }
}

private final class TableArrayNode {
    let position: TOMLPosition
    var elements: [TableNode] = []
    init(at position: TOMLPosition) { self.position = position }
}

private enum Item {
    /// A finished value: scalar, array literal or inline table; never extended.
    case value(TOMLValue)
    case table(TableNode)
    case tables(TableArrayNode)
}

private struct TOMLParser {
    var s: TOMLScanner
    let root: TableNode
    /// Arrays and inline tables open around the current value (bounded by maxDepth).
    var depth = 0

    init(file: String, bytes: [UInt8]) {
        s = TOMLScanner(file: file, bytes: bytes)
        root = TableNode(.header, at: TOMLPosition(line: 1, column: 1))
    }

    mutating func document() throws -> TOMLTable {
        var current = root
        // Skip a UTF-8 byte order mark.
        if s.starts(with: "\u{FEFF}") { s.offset += 3 }
        while true {
            s.skipWhitespace()
            try s.skipComment()
            if s.atEnd { break }
            if s.atNewline { s.consumeNewline(); continue }
            if s.peek == UInt8(ascii: "[") {
                current = try header()
                try s.expectLineEnd(after: "a table header")
            } else {
                try keyValue(into: current)
                try s.expectLineEnd(after: "a value")
            }
        }
        return root.freeze()
    }

    // MARK: Headers

    private mutating func header() throws -> TableNode {
        let start = s.position
        let isArray = s.peek(1) == UInt8(ascii: "[")
        s.offset += isArray ? 2 : 1
        let key = try s.key()
        let close = isArray ? "]]" : "]"
        guard s.starts(with: close) else {
            throw s.error("expected '\(close)' to close the table header \(isArray ? "[[" : "[")\(dotted(key))")
        }
        s.offset += close.utf8.count

        var table = root
        var path: [String] = []
        for (name, pos) in key.dropLast() {
            path.append(name)
            switch table.items[name] {
            case nil:
                let t = TableNode(.implicit, at: pos)
                table.set(name, at: pos, .table(t))
                table = t
            case .table(let t):
                table = t
            case .tables(let a):
                table = a.elements.last!
            case .value(let v):
                throw redefinition(path, existing: v, at: pos)
            }
        }
        let (name, pos) = key.last!
        path.append(name)
        let here = isArray ? "[[\(dotted(path))]]" : "[\(dotted(path))]"
        if isArray {
            switch table.items[name] {
            case nil:
                let a = TableArrayNode(at: start)
                let t = TableNode(.header, at: start)
                a.elements.append(t)
                table.set(name, at: pos, .tables(a))
                return t
            case .tables(let a):
                let t = TableNode(.header, at: start)
                a.elements.append(t)
                return t
            case .table(let t):
                throw s.error("\(here) redefines table '\(dotted(path))' from line \(t.position.line) as an array of tables; use one form", at: start)
            case .value(let v):
                throw redefinition(path, existing: v, at: start)
            }
        }
        switch table.items[name] {
        case nil:
            let t = TableNode(.header, at: start)
            table.set(name, at: pos, .table(t))
            return t
        case .table(let t):
            switch t.origin {
            case .implicit:
                t.origin = .header
                return t
            case .header:
                throw s.error("table \(here) is defined twice (first at line \(t.position.line)); merge the two sections", at: start)
            case .dotted:
                throw s.error("table \(here) was already defined by dotted keys at line \(t.position.line); use one form", at: start)
            }
        case .tables(let a):
            throw s.error("\(here) redefines the array of tables '\(dotted(path))' from line \(a.position.line); write [[\(dotted(path))]]", at: start)
        case .value(let v):
            throw redefinition(path, existing: v, at: start)
        }
    }

    private func redefinition(_ path: [String], existing v: TOMLValue, at pos: TOMLPosition) -> ReproError {
        if v.table != nil {
            return s.error("'\(dotted(path))' is an inline table (line \(v.line)) and cannot be extended; move its keys into a [\(dotted(path))] section", at: pos)
        }
        return s.error("'\(dotted(path))' is already a \(v.typeName) (line \(v.line)), not a table; rename one of them", at: pos)
    }

    // MARK: Key/value pairs

    private mutating func keyValue(into table: TableNode) throws {
        let key = try s.key()
        s.skipWhitespace()
        guard s.peek == UInt8(ascii: "=") else {
            if s.atEnd || s.atNewline {
                throw s.error("expected '=' after the key '\(dotted(key))'; write \(dotted(key)) = value")
            }
            throw s.error("expected '=' after the key '\(dotted(key))', found '\(printable(s.peek!))'; quote keys that contain spaces or dots")
        }
        s.offset += 1
        s.skipWhitespace()
        let v = try value()

        var t = table
        var path: [String] = []
        for (name, pos) in key.dropLast() {
            path.append(name)
            switch t.items[name] {
            case nil:
                let n = TableNode(.dotted, at: pos)
                t.set(name, at: pos, .table(n))
                t = n
            case .table(let n) where n.origin == .dotted:
                t = n
            case .table(let n):
                throw s.error("table '\(dotted(path))' was defined by a header at line \(n.position.line); add keys in its [\(dotted(path))] section instead of with dotted keys", at: pos)
            case .tables(let a):
                throw s.error("'\(dotted(path))' is an array of tables (line \(a.position.line)); dotted keys cannot extend it", at: pos)
            case .value(let existing):
                throw redefinition(path, existing: existing, at: pos)
            }
        }
        let (name, pos) = key.last!
        path.append(name)
        if let existing = t.items[name] {
            let line: Int
            switch existing {
            case .value(let e): line = e.line
            case .table(let n): line = n.position.line
            case .tables(let a): line = a.position.line
            }
            throw s.error("duplicate key '\(dotted(path))' (first defined at line \(line)); remove one of them", at: pos)
        }
        t.set(name, at: pos, .value(v))
    }

    // MARK: Values

    private mutating func value() throws -> TOMLValue {
        let pos = s.position
        guard let c = s.peek else { throw s.error("expected a value after '=', found the end of the file") }
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            let literal = c == UInt8(ascii: "'")
            let text = s.starts(with: literal ? "'''" : "\"\"\"") ? try s.multilineString(literal: literal)
                : literal ? try s.literalString() : try s.basicString()
            if text.utf8.count > TOMLScanner.maxStringBytes {
                throw s.error("a string of \(text.utf8.count) bytes is too long (at most \(TOMLScanner.maxStringBytes)); keep large scripts in a file input and run that", at: pos)
            }
            return TOMLValue(.string(text), at: pos)
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            if depth > TOMLScanner.maxDepth {
                throw s.error("arrays and inline tables nested more than \(TOMLScanner.maxDepth) deep; flatten the value", at: pos)
            }
            return c == UInt8(ascii: "[") ? try array(at: pos) : try inlineTable(at: pos)
        default:
            break
        }
        if s.atNewline || c == UInt8(ascii: "#") {
            throw s.error("expected a value after '='; write a string in quotes, a number, true/false, [array] or {table}")
        }
        let token = s.bareToken()
        if token.isEmpty {
            throw s.error("'\(printable(c))' cannot start a value; strings need quotes")
        }
        if token == "true" { return TOMLValue(.boolean(true), at: pos) }
        if token == "false" { return TOMLValue(.boolean(false), at: pos) }
        if TOMLNumber.looksLikeDateTime(token) {
            throw s.error("dates and times are not supported in recipes; write \"\(token)\" as a string", at: pos)
        }
        do {
            switch try TOMLNumber.parse(token) {
            case .integer(let i): return TOMLValue(.integer(i), at: pos)
            case .float(let d): return TOMLValue(.float(d), at: pos)
            case nil: break
            }
        } catch {
            throw s.error(error.message, at: pos)
        }
        let hint = token.lowercased() == "true" || token.lowercased() == "false"
            ? "booleans are lowercase: \(token.lowercased())" : "strings need quotes: \"\(token)\""
        throw s.error("invalid value '\(token)'; \(hint)", at: pos)
    }

    private mutating func array(at pos: TOMLPosition) throws -> TOMLValue {
        s.offset += 1
        var elements: [TOMLValue] = []
        while true {
            try s.skipBlank()
            guard let c = s.peek else { throw s.error("unterminated array; close it with ]", at: pos) }
            if c == UInt8(ascii: "]") { s.offset += 1; break }
            elements.append(try value())
            try s.skipBlank()
            if s.peek == UInt8(ascii: ",") { s.offset += 1; continue }
            if s.peek == UInt8(ascii: "]") { s.offset += 1; break }
            if s.atEnd { throw s.error("unterminated array; close it with ]", at: pos) }
            throw s.error("expected ',' or ']' in the array, found '\(printable(s.peek!))'")
        }
        return TOMLValue(.array(elements), at: pos)
    }

    private mutating func inlineTable(at pos: TOMLPosition) throws -> TOMLValue {
        s.offset += 1
        let table = TableNode(.dotted, at: pos)
        s.skipWhitespace()
        if s.peek == UInt8(ascii: "}") {
            s.offset += 1
            return TOMLValue(.table(table.freeze()), at: pos)
        }
        while true {
            s.skipWhitespace()
            if s.atEnd || s.atNewline {
                throw s.error("an inline table must be on one line; close it with } or use a [table] section", at: s.atEnd ? pos : s.position)
            }
            if s.peek == UInt8(ascii: "}") {
                throw s.error("trailing comma in an inline table; remove it")
            }
            try keyValue(into: table)
            s.skipWhitespace()
            if s.peek == UInt8(ascii: ",") { s.offset += 1; continue }
            if s.peek == UInt8(ascii: "}") { s.offset += 1; break }
            if s.atEnd || s.atNewline {
                throw s.error("an inline table must be on one line; close it with } or use a [table] section")
            }
            throw s.error("expected ',' or '}' in the inline table, found '\(printable(s.peek!))'")
        }
        return TOMLValue(.table(table.freeze()), at: pos)
    }
}

private func dotted(_ key: [(name: String, position: TOMLPosition)]) -> String { dotted(key.map(\.name)) }

private func dotted(_ path: [String]) -> String {
    path.map { name in
        name.utf8.allSatisfy(TOMLScanner.isBareKeyByte) && !name.isEmpty ? name : "\"\(name)\""
    }.joined(separator: ".")
}
