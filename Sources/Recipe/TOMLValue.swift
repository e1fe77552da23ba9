/// A position in a TOML source file: 1-based line and column (columns count Unicode
/// scalars, so a tab or an accented letter is one column).
public struct TOMLPosition: Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// One TOML value and where it starts in the source.
///
/// Offset date-times, local dates and times are not part of this subset: the parser
/// rejects them with a message that says to quote them.
public struct TOMLValue: Sendable {
    public enum Kind: Sendable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case array([TOMLValue])
        case table(TOMLTable)
    }

    public let kind: Kind
    public let position: TOMLPosition

    public init(_ kind: Kind, at position: TOMLPosition) {
        self.kind = kind
        self.position = position
    }

    public var line: Int { position.line }

    /// The TOML name of the value's type, for error messages ("string", "table", ...).
    public var typeName: String {
        switch kind {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }

    public var string: String? { if case .string(let s) = kind { s } else { nil } }
    public var integer: Int64? { if case .integer(let i) = kind { i } else { nil } }
    public var float: Double? { if case .float(let d) = kind { d } else { nil } }
    public var boolean: Bool? { if case .boolean(let b) = kind { b } else { nil } }
    public var array: [TOMLValue]? { if case .array(let a) = kind { a } else { nil } }
    public var table: TOMLTable? { if case .table(let t) = kind { t } else { nil } }
}

/// A TOML table: keys in document order, each with the position of the key itself and
/// its value (a value's position is where the value starts; a table's is its header).
public struct TOMLTable: Sendable {
    public struct Entry: Sendable {
        public let key: String
        public let keyPosition: TOMLPosition
        public let value: TOMLValue
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]

    public init() {}

    /// Appends an entry; the parser has already rejected duplicates.
    mutating func append(_ key: String, at keyPosition: TOMLPosition, _ value: TOMLValue) {
        index[key] = entries.count
        entries.append(Entry(key: key, keyPosition: keyPosition, value: value))
    }

    public var keys: [String] { entries.map(\.key) }
    public var isEmpty: Bool { entries.isEmpty }

    public func entry(_ key: String) -> Entry? { index[key].map { entries[$0] } }
    public subscript(key: String) -> TOMLValue? { entry(key)?.value }
}
