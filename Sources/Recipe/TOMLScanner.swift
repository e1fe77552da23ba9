import Core

/// The lexical half of the TOML parser: a cursor over UTF-8 bytes that knows its line
/// and column, and reads keys, strings and numbers. Errors are `ReproError(.invalidInput)`
/// written `FILE:LINE:COL: what is wrong; what to do`.
struct TOMLScanner {
    let file: String
    let bytes: [UInt8]
    var offset = 0
    var line = 1
    var lineStart = 0

    /// Bounds that keep the parser's time and memory linear in the input and its
    /// recursion shallow (a 40,000-part dotted key or 7,000 nested arrays overflowed the
    /// stack; a 10 MB key took 18 s): no recipe comes near them.
    static let maxKeyBytes = 1024
    static let maxKeyParts = 64
    static let maxStringBytes = 4 << 20
    static let maxDepth = 64

    /// Where `position` last counted columns, so that many positions on one long line
    /// cost the line once, not once each (a class: `position` is read on a `let`).
    private final class ColumnMark { var offset = 0, column = 1 }
    private let mark = ColumnMark()

    init(file: String, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
    }

    // MARK: Cursor

    var atEnd: Bool { offset >= bytes.count }
    var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }
    func peek(_ ahead: Int) -> UInt8? { offset + ahead < bytes.count ? bytes[offset + ahead] : nil }

    var position: TOMLPosition {
        var column = 1
        var i = lineStart
        if mark.offset >= lineStart && mark.offset <= offset { i = mark.offset; column = mark.column }
        defer { mark.offset = min(offset, bytes.count); mark.column = column }
        while i < offset && i < bytes.count {
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        // Columns count scalars: the loop counted every lead byte before the cursor.
        return TOMLPosition(line: line, column: column)
    }

    func error(_ message: String, at pos: TOMLPosition? = nil) -> ReproError {
        let p = pos ?? position
        return ReproError(.invalidInput, "\(file):\(p.line):\(p.column): \(message)")
    }

    func starts(with text: String) -> Bool {
        let u = Array(text.utf8)
        guard offset + u.count <= bytes.count else { return false }
        return Array(bytes[offset..<offset + u.count]) == u
    }

    /// Skips spaces and tabs.
    mutating func skipWhitespace() {
        while let c = peek, c == 0x20 || c == 0x09 { offset += 1 }
    }

    var atNewline: Bool { peek == 0x0A || (peek == 0x0D && peek(1) == 0x0A) }

    /// Consumes `\n` or `\r\n` and moves to the next line.
    mutating func consumeNewline() {
        if peek == 0x0D { offset += 1 }
        offset += 1
        line += 1
        lineStart = offset
    }

    /// Skips a `#` comment up to (not including) the newline.
    mutating func skipComment() throws {
        guard peek == UInt8(ascii: "#") else { return }
        while let c = peek, c != 0x0A {
            if c == 0x0D && peek(1) == 0x0A { break }
            if isControl(c) && c != 0x09 {
                throw error("control character U+\(hex(c)) in a comment; remove it")
            }
            offset += 1
        }
    }

    /// Skips whitespace, comments and newlines (inside arrays).
    mutating func skipBlank() throws {
        while true {
            skipWhitespace()
            if peek == UInt8(ascii: "#") { try skipComment() }
            if atNewline { consumeNewline(); continue }
            return
        }
    }

    /// After a key/value pair or a header: only whitespace, a comment, then a newline.
    mutating func expectLineEnd(after what: String) throws {
        skipWhitespace()
        try skipComment()
        if atEnd { return }
        if atNewline { consumeNewline(); return }
        if peek == 0x0D { throw error("carriage return without a line feed; use \\n or \\r\\n line endings") }
        throw error("unexpected '\(printable(peek!))' after \(what); put one key = value per line, or start a comment with #")
    }

    // MARK: Keys

    static func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    /// A dotted key: `a`, `a.b`, `"quoted key".c`, each part with its position.
    mutating func key() throws -> [(name: String, position: TOMLPosition)] {
        var parts: [(String, TOMLPosition)] = []
        while true {
            skipWhitespace()
            let pos = position
            guard let c = peek else { throw error("expected a key, found the end of the file") }
            if c == UInt8(ascii: "\"") {
                if starts(with: "\"\"\"") { throw error("a key cannot be a multi-line string; use \"key\"") }
                parts.append((try basicString(), pos))
            } else if c == UInt8(ascii: "'") {
                if starts(with: "'''") { throw error("a key cannot be a multi-line string; use 'key'") }
                parts.append((try literalString(), pos))
            } else if Self.isBareKeyByte(c) {
                let start = offset
                while let b = peek, Self.isBareKeyByte(b) { offset += 1 }
                parts.append((String(decoding: bytes[start..<offset], as: UTF8.self), pos))
            } else if atNewline || c == UInt8(ascii: "=") || c == UInt8(ascii: "#") {
                throw error("expected a key; bare keys use A-Z a-z 0-9 _ -, others need quotes")
            } else {
                throw error("'\(printable(c))' cannot start a key; bare keys use A-Z a-z 0-9 _ -, others need quotes")
            }
            if parts.last!.0.utf8.count > Self.maxKeyBytes {
                throw error("a key of \(parts.last!.0.utf8.count) bytes is too long (at most \(Self.maxKeyBytes)); recipe keys are short names", at: pos)
            }
            if parts.count > Self.maxKeyParts {
                throw error("a dotted key of more than \(Self.maxKeyParts) parts is too deep; use [table] sections", at: pos)
            }
            skipWhitespace()
            if peek == UInt8(ascii: ".") { offset += 1; continue }
            return parts
        }
    }

    // MARK: Strings

    /// `"..."` with escapes, on one line. The cursor is on the opening quote.
    mutating func basicString() throws -> String {
        let start = position
        offset += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated string; close it with \"", at: start) }
            if c == UInt8(ascii: "\"") { offset += 1; break }
            if c == 0x0A || c == 0x0D {
                throw error("unterminated string; close it with \" on the same line, or use \"\"\" for a multi-line string", at: start)
            }
            if c == UInt8(ascii: "\\") { try escape(into: &out); continue }
            if isControl(c) && c != 0x09 { throw error("control character U+\(hex(c)) in a string; write it as \\u\(hex4(c))") }
            out.append(c)
            offset += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `'...'`, no escapes, on one line. The cursor is on the opening quote.
    mutating func literalString() throws -> String {
        let start = position
        offset += 1
        let begin = offset
        while true {
            guard let c = peek else { throw error("unterminated literal string; close it with '", at: start) }
            if c == UInt8(ascii: "'") { break }
            if c == 0x0A || c == 0x0D {
                throw error("unterminated literal string; close it with ' on the same line, or use ''' for a multi-line string", at: start)
            }
            if isControl(c) && c != 0x09 { throw error("control character U+\(hex(c)) in a literal string; use a basic string with \\u\(hex4(c))") }
            offset += 1
        }
        let s = String(decoding: bytes[begin..<offset], as: UTF8.self)
        offset += 1
        return s
    }

    /// `"""..."""` or `'''...'''`. A newline right after the opening delimiter is dropped;
    /// up to two quotes may touch the closing delimiter; `\r\n` becomes `\n`.
    mutating func multilineString(literal: Bool) throws -> String {
        let start = position
        let quote = literal ? UInt8(ascii: "'") : UInt8(ascii: "\"")
        let delimiter = literal ? "'''" : "\"\"\""
        offset += 3
        if atNewline { consumeNewline() }
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated multi-line string; close it with \(delimiter)", at: start) }
            if c == quote {
                var n = 0
                while peek(n) == quote { n += 1 }
                if n >= 3 {
                    if n > 5 { throw error("too many quotes at the end of a multi-line string; escape some of them") }
                    out.append(contentsOf: [UInt8](repeating: quote, count: n - 3))
                    offset += n
                    return String(decoding: out, as: UTF8.self)
                }
                out.append(contentsOf: [UInt8](repeating: quote, count: n))
                offset += n
                continue
            }
            if atNewline { consumeNewline(); out.append(0x0A); continue }
            if c == 0x0D { throw error("carriage return without a line feed in a string; write \\r") }
            if !literal && c == UInt8(ascii: "\\") {
                // A line-ending backslash trims the newline and the whitespace after it.
                var look = offset + 1
                while look < bytes.count, bytes[look] == 0x20 || bytes[look] == 0x09 { look += 1 }
                if look < bytes.count, bytes[look] == 0x0A || (bytes[look] == 0x0D && look + 1 < bytes.count && bytes[look + 1] == 0x0A) {
                    offset = look
                    while true {
                        skipWhitespace()
                        if atNewline { consumeNewline() } else { break }
                    }
                    continue
                }
                try escape(into: &out)
                continue
            }
            if isControl(c) && c != 0x09 {
                throw error(literal ? "control character U+\(hex(c)) in a literal string; use a basic string with \\u\(hex4(c))"
                                    : "control character U+\(hex(c)) in a string; write it as \\u\(hex4(c))")
            }
            out.append(c)
            offset += 1
        }
    }

    /// One escape sequence; the cursor is on the backslash.
    private mutating func escape(into out: inout [UInt8]) throws {
        let pos = position
        offset += 1
        guard let e = peek else { throw error("unterminated string after \\") }
        offset += 1
        switch e {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let n = e == UInt8(ascii: "u") ? 4 : 8
            guard offset + n <= bytes.count else { throw error("\\\(Character(UnicodeScalar(e))) needs \(n) hex digits", at: pos) }
            let digits = String(decoding: bytes[offset..<offset + n], as: UTF8.self)
            guard digits.allSatisfy(\.isHexDigit), let v = UInt32(digits, radix: 16) else {
                throw error("\\\(Character(UnicodeScalar(e))) needs \(n) hex digits, found '\(digits)'", at: pos)
            }
            guard let scalar = Unicode.Scalar(v) else {
                throw error("\\\(Character(UnicodeScalar(e)))\(digits) is not a Unicode scalar value (surrogates and values above 10FFFF are not allowed)", at: pos)
            }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
            offset += n
        default:
            throw error("invalid escape \\\(printable(e)); valid escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX (or use a 'literal string')", at: pos)
        }
    }

    // MARK: Numbers and other bare values

    /// The run of bytes that can make up a number, boolean or date.
    mutating func bareToken() -> String {
        let start = offset
        while let c = peek, Self.isBareKeyByte(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: ":") {
            offset += 1
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }
}

func isControl(_ c: UInt8) -> Bool { c < 0x20 || c == 0x7F }
func hex(_ c: UInt8) -> String { String(c, radix: 16, uppercase: true).leftPadded(to: 4) }
func hex4(_ c: UInt8) -> String { String(c, radix: 16, uppercase: true).leftPadded(to: 4) }
func printable(_ c: UInt8) -> String {
    if c == 0x09 { return "\\t" }
    if isControl(c) { return "U+\(hex(c))" }
    if c >= 0x80 { return "non-ASCII character" }
    return String(Character(UnicodeScalar(c)))
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
