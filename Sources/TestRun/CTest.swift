import Core
import Foundation

/// The ctest adapter's listing: `ctest --show-only=json-v1` (run inside the sandbox, in
/// the build directory) turned into the tests and a `repro-testexec` plan that runs each
/// test's own command as its own process, honouring its properties.
///
/// Honoured: WORKING_DIRECTORY, ENVIRONMENT, WILL_FAIL, TIMEOUT, DISABLED,
/// SKIP_RETURN_CODE. Properties that change a verdict in ways testexec does not model
/// (PASS_REGULAR_EXPRESSION, FAIL_REGULAR_EXPRESSION, SKIP_REGULAR_EXPRESSION,
/// ENVIRONMENT_MODIFICATION) are listed in `Listing.unsupported` so the runner can warn.
public enum CTest {
    /// The most bytes of listing kept: about 100,000 tests with their properties; a
    /// suite printing more is refused rather than held in memory.
    public static let listingLimit = 64 << 20
    /// The listing command; the recipe's `args` (`-L unit`, `-E slow`) follow it.
    public static let listCommand = ["ctest", "--show-only=json-v1"]

    public struct Listing: Sendable, Equatable {
        /// Every listed test, in ctest's order, with the CMake file that added it.
        public var tests: [TestCase]
        /// One entry per test, in the same order (DISABLED ones marked, reported `skip`).
        public var plan: TestExecPlan
        /// Test name -> properties it has that testexec does not honour.
        public var unsupported: [String: [String]]
    }

    static let unsupportedProperties: Set<String> = [
        "PASS_REGULAR_EXPRESSION", "FAIL_REGULAR_EXPRESSION", "SKIP_REGULAR_EXPRESSION", "ENVIRONMENT_MODIFICATION",
    ]

    /// Parses the json-v1 listing.
    /// - Parameters:
    ///   - defaultTimeout: seconds for a test without a TIMEOUT property (the recipe's
    ///     `test-timeout`); a TIMEOUT property wins, as in ctest.
    ///   - sourceRoot: when given, a test's file (the CMakeLists.txt whose add_test made
    ///     it) is written relative to it if it lies below it.
    /// - Throws: `ReproError(.invalidInput)` saying what is wrong when the text is not a
    ///   json-v1 listing (not JSON, another kind or major version, a test without a name).
    public static func parse(_ data: Data, defaultTimeout: Double, sourceRoot: String? = nil) throws -> Listing {
        let doc: Document
        do {
            doc = try JSONDecoder().decode(Document.self, from: data)
        } catch let DecodingError.dataCorrupted(ctx) where ctx.codingPath.isEmpty {
            let detail = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? ctx.debugDescription
            throw ReproError(.invalidInput, "ctest --show-only=json-v1 printed no valid JSON (\(detail)); the test directory must be a CMake build directory (enable_testing() and add_test), with a ctest of CMake 3.14 or newer. It began: \(preview(data))")
        } catch let e as DecodingError {
            throw ReproError(.invalidInput, "ctest --show-only=json-v1 printed JSON that is not a test listing: \(describe(e))")
        }
        guard doc.kind == "ctestInfo" else {
            throw ReproError(.invalidInput, "ctest --show-only=json-v1 printed kind \"\(doc.kind)\", expected \"ctestInfo\"")
        }
        if let v = doc.version, v.major != 1 {
            throw ReproError(.invalidInput, "ctest --show-only printed json-v\(v.major); repro reads json-v1 (CMake 3.14 and newer)")
        }
        var tests: [TestCase] = []
        var entries: [TestExecPlan.Entry] = []
        var unsupported: [String: [String]] = [:]
        for (index, t) in doc.tests.enumerated() {
            guard let name = t.name, !name.isEmpty else {
                throw ReproError(.invalidInput, "ctest listing: test #\(index + 1) has no name")
            }
            let file = t.backtrace.flatMap { doc.backtraceGraph?.file(ofNode: $0) }.map { relative($0, to: sourceRoot) }
            var entry = TestExecPlan.Entry(id: name, file: file, argv: t.command ?? [], timeout: defaultTimeout)
            for p in t.properties ?? [] {
                switch p.name {
                case "WORKING_DIRECTORY": entry.cwd = p.value.string
                case "ENVIRONMENT": entry.env = p.value.strings
                case "WILL_FAIL": entry.willFail = p.value.bool
                case "DISABLED": entry.disabled = p.value.bool
                case "TIMEOUT":
                    // ctest: a TIMEOUT of 0 means none.
                    if let s = p.value.number { entry.timeout = max(0, s) }
                case "SKIP_RETURN_CODE":
                    if let c = p.value.number, c >= 0, c <= 255 { entry.skipReturnCode = Int32(c) }
                default:
                    if unsupportedProperties.contains(p.name) { unsupported[name, default: []].append(p.name) }
                }
            }
            tests.append(TestCase(id: name, file: file))
            entries.append(entry)
        }
        return Listing(tests: tests, plan: TestExecPlan(entries: entries), unsupported: unsupported)
    }

    static func relative(_ path: String, to root: String?) -> String {
        guard let root, !root.isEmpty else { return path }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    static func preview(_ data: Data) -> String {
        let text = String(decoding: data.prefix(120), as: UTF8.self)
        return text.isEmpty ? "(nothing)" : "\"\(text)\""
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            p.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch e {
        case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])) is missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    // The json-v1 document (cmake-json-v1 "ctestInfo" object, `man ctest`).
    struct Document: Decodable {
        struct Version: Decodable { var major: Int; var minor: Int? }
        struct Graph: Decodable {
            struct Node: Decodable { var file: Int? }
            var files: [String]?
            var nodes: [Node]?
            func file(ofNode i: Int) -> String? {
                guard let nodes, nodes.indices.contains(i), let f = nodes[i].file, let files, files.indices.contains(f)
                else { return nil }
                return files[f]
            }
        }
        struct Test: Decodable {
            var name: String?
            var command: [String]?
            var backtrace: Int?
            var properties: [Property]?
        }
        struct Property: Decodable { var name: String; var value: Value }
        var kind: String
        var version: Version?
        var backtraceGraph: Graph?
        var tests: [Test]
    }

    /// A property's value: ctest writes strings, numbers, booleans and string arrays.
    enum Value: Decodable, Equatable {
        case string(String), number(Double), bool(Bool), array([Value]), other

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([Value].self) { self = .array(a) }
            else { self = .other }
        }

        var string: String? {
            switch self {
            case .string(let s): return s
            case .number(let n): return n == n.rounded() ? String(Int64(n)) : String(n)
            default: return nil
            }
        }
        var strings: [String] {
            switch self {
            case .array(let a): return a.compactMap(\.string)
            case .string(let s): return s.split(separator: ";").map(String.init)
            default: return []
            }
        }
        var number: Double? {
            switch self {
            case .number(let n): return n
            case .string(let s): return Double(s)
            default: return nil
            }
        }
        /// CMake's truth: ON, TRUE, YES, Y, a non-zero number.
        var bool: Bool {
            switch self {
            case .bool(let b): return b
            case .number(let n): return n != 0
            case .string(let s): return ["1", "ON", "TRUE", "YES", "Y"].contains(s.uppercased())
            default: return false
            }
        }
    }
}
