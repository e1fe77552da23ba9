import Core
import Foundation
import TestKit
import Testing
@testable import Recipe

/// Issue 13, finding 5: the TOML parser under hostile input. Deep nesting and long
/// dotted keys crashed it (stack overflow, exit 139); a 10 MB key cost 18 s and 1.7 GB.
/// Then seeded fuzzing of the example recipes, and a differential test against Python's
/// tomllib on generated valid documents. Seeds are fixed, so every run is the same.
@Suite(.tags(.unit)) struct TOMLFuzzTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The hostile documents by name (built in the test, so the test list stays short).
    static func hostile(_ name: String) -> (text: String, message: String) {
        switch name {
        case "7000 nested arrays": ("a = " + String(repeating: "[", count: 7000) + String(repeating: "]", count: 7000), "nested more than 64")
        case "20000 nested inline tables": ("a = " + String(repeating: "{b = ", count: 20000) + "1" + String(repeating: "}", count: 20000), "nested more than 64")
        case "40000-part dotted key": ((0..<40000).map { "k\($0)" }.joined(separator: ".") + " = 1", "more than 64 parts")
        case "100000-part table header": ("[" + (0..<100000).map { _ in "t" }.joined(separator: ".") + "]", "more than 64 parts")
        case "10 MB key": (String(repeating: "k", count: 10 << 20) + " = 1", "too long")
        case "10 MB quoted key": ("\"" + String(repeating: "k", count: 10 << 20) + "\" = 1", "too long")
        default: ("a = \"" + String(repeating: "x", count: 5 << 20) + "\"", "too long")
        }
    }

    @Test(arguments: ["7000 nested arrays", "20000 nested inline tables", "40000-part dotted key",
                      "100000-part table header", "10 MB key", "10 MB quoted key", "5 MB string"])
    func hostileDocumentsFailWithAClearError(_ name: String) {
        let (text, message) = Self.hostile(name)
        let error = tomlError(text).map { String($0.prefix(300)) }
        #expect(error?.contains(message) == true, "\(name): \(error ?? "parsed")")
        #expect(error?.hasPrefix("t.toml:1:") == true, "\(name): \(error ?? "parsed")")
    }

    @Test func deepButAllowedNestingParses() throws {
        let t = try toml("a = " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
                         + "\n" + (0..<64).map { "k\($0)" }.joined(separator: ".") + " = 1")
        #expect(t["a"]?.array != nil)
        // Many keys on one long line: columns are counted once per line, not per key.
        let wide = "t = {" + (0..<20000).map { "k\($0) = \($0)" }.joined(separator: ", ") + "}"
        #expect(try toml(wide)["t"]?.table?.entries.count == 20000)
        #expect(tomlError(wide + ", k5 = 1}")?.hasPrefix("t.toml:1:") == true)
    }

    /// Thousands of mutations of the real recipes: each parses, or fails with a
    /// `FILE:LINE:COL` bad-input error; nothing crashes.
    @Test func mutatedRecipesFailCleanly() throws {
        var rng = SplitMix(seed: 13)
        let tokens = ["[", "]", "[[", "]]", "{", "}", "\"", "'", "'''", "\"\"\"", "=", ".", ",", "\n", "#", "\\", "\\u",
                      "\\U0001F600", "0x", "0o7", "inf", "nan", "1e", "_", "-", "+", "\r", "\t", "\u{0}", "é", "a.b.c",
                      "[inputs.x]", "[[a]]", "true", "1979-05-27", "{a=1}", "[1,2,]"]
        var checked = 0
        for file in ["hello", "lua", "zlib"] {
            let base = Array(try String(contentsOfFile: Self.root + "/recipes/\(file).toml", encoding: .utf8).utf8)
            for _ in 0..<1000 {
                var b = base
                for _ in 0..<(1 + rng.next(3)) {
                    let at = rng.next(b.count)
                    switch rng.next(4) {
                    case 0: b[at] = UInt8(truncatingIfNeeded: rng.next(256))
                    case 1: b.removeSubrange(at..<min(b.count, at + 1 + rng.next(40)))
                    case 2: b.insert(contentsOf: b[at..<min(b.count, at + rng.next(60))], at: rng.next(b.count))
                    default: b.insert(contentsOf: Array(tokens[rng.next(tokens.count)].utf8), at: at)
                    }
                    if b.isEmpty { b = base }
                }
                do {
                    _ = try TOML.parse(data: Data(b), file: "m.toml")
                    _ = try? Recipe.parse(String(decoding: b, as: UTF8.self), file: "m.toml")
                } catch let e as ReproError {
                    #expect(e.code == .invalidInput && e.message.hasPrefix("m.toml:"), "\(e.message)")
                } catch {
                    Issue.record("not a ReproError: \(error)")
                }
                checked += 1
            }
        }
        #expect(checked == 3000)
    }

    /// Generated valid documents (every value type, key style, string form and number
    /// base, tables, arrays of tables, dotted keys, comments) parse to what tomllib
    /// gives, value for value.
    @Test func agreesWithPythonTomllib() throws {
        var rng = SplitMix(seed: 2026)
        let docs = (0..<400).map { _ in var g = Generator(rng: &rng); return g.document() }
        let python = try pythonCanonical(docs)
        #expect(python.count == docs.count)
        var mismatches = 0
        for (doc, theirs) in zip(docs, python) {
            let ours: String
            do { ours = canonical(.table(try toml(doc))) } catch { ours = "error: \(error)" }
            if ours != theirs {
                mismatches += 1
                if mismatches <= 3 { Issue.record("differs from tomllib:\n\(doc)\nours:   \(ours)\ntheirs: \(theirs)") }
            }
        }
        #expect(mismatches == 0)
    }

    /// The canonical text of a value; `pythonCanonical` writes the same for tomllib's.
    func canonical(_ kind: TOMLValue.Kind) -> String {
        func text(_ s: String) -> String { s.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: ".") }
        switch kind {
        case .boolean(let b): return "b:\(b)"
        case .integer(let i): return "i:\(i)"
        case .float(let d): return d.isNaN ? "f:nan" : "f:\(d.bitPattern)"
        case .string(let s): return "s:" + text(s)
        case .array(let a): return "[" + a.map { canonical($0.kind) }.joined(separator: ",") + "]"
        case .table(let t):
            let sorted = t.entries.sorted { $0.key.unicodeScalars.map(\.value).lexicographicallyPrecedes($1.key.unicodeScalars.map(\.value)) }
            return "{" + sorted.map { text($0.key) + "=" + canonical($0.value.kind) }.joined(separator: ",") + "}"
        }
    }

    func pythonCanonical(_ docs: [String]) throws -> [String] {
        let dir = NSTemporaryDirectory() + "repro-tomllib-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try JSONSerialization.data(withJSONObject: docs).write(to: URL(fileURLWithPath: dir + "/docs.json"))
        try """
        import json, struct, sys, tomllib
        def text(s): return ".".join("%x" % ord(c) for c in s)
        def c(v):
            if isinstance(v, bool): return "b:" + ("true" if v else "false")
            if isinstance(v, int): return "i:%d" % v
            if isinstance(v, float): return "f:nan" if v != v else "f:%d" % struct.unpack("<Q", struct.pack("<d", v))[0]
            if isinstance(v, str): return "s:" + text(v)
            if isinstance(v, list): return "[" + ",".join(c(x) for x in v) + "]"
            if isinstance(v, dict): return "{" + ",".join(text(k) + "=" + c(v[k]) for k in sorted(v)) + "}"
            return "unsupported:" + type(v).__name__
        out = []
        for d in json.load(open(sys.argv[1])):
            try: out.append(c(tomllib.loads(d)))
            except Exception as e: out.append("error: %s" % e)
        json.dump(out, sys.stdout)
        """.write(toFile: dir + "/canon.py", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", dir + "/canon.py", dir + "/docs.json"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let list = try JSONSerialization.jsonObject(with: data) as? [String] else {
            throw ReproError(.internal, "python3 with tomllib (3.11 or later) is needed for this test; it exited \(p.terminationStatus)")
        }
        return list
    }
}

/// A small seeded random generator (SplitMix64): the same documents on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(_ n: Int) -> Int { n <= 0 ? 0 : Int(next64() % UInt64(n)) }
}

/// Writes valid TOML documents with unique keys (a counter in every name).
struct Generator {
    var rng: SplitMix
    var counter = 0
    init(rng: inout SplitMix) { self.rng = SplitMix(seed: rng.next64()) }

    mutating func pick<T>(_ xs: [T]) -> T { xs[rng.next(xs.count)] }
    mutating func name() -> String { counter += 1; return "k\(counter)" }

    mutating func key() -> String {
        let n = name()
        switch rng.next(5) {
        case 0: return "\"\(n) sp.ace\\t\\u00e9\""
        case 1: return "'\(n).lit'"
        case 2: return "\(n)-x_y"
        default: return n
        }
    }

    mutating func space() -> String { pick(["", " ", "  ", "\t"]) }

    mutating func integer() -> String {
        let v = Int64(bitPattern: rng.next64()) >> Int64(rng.next(63))
        switch rng.next(6) {
        case 0: return String(v.magnitude, radix: 16).uppercased().isEmpty ? "0" : "0x" + String(v.magnitude & 0x7FFF_FFFF_FFFF_FFFF, radix: 16)
        case 1: return "0o" + String(v.magnitude & 0xFFFF_FFFF, radix: 8)
        case 2: return "0b" + String(v.magnitude & 0xFFFF, radix: 2)
        case 3:
            let d = String(v.magnitude & 0xFF_FFFF)
            return "+" + d.enumerated().map { $0.offset > 0 && $0.offset % 3 == 0 ? "_" + String($0.element) : String($0.element) }.joined()
        default: return String(v)
        }
    }

    mutating func float() -> String {
        pick(["1.5", "-0.0", "+0.0", "1e10", "6.02e+23", "-1E-7", "inf", "-inf", "+inf", "nan", "-nan", "3_1.4_1",
              "0.1", "1.7976931348623157e308", "5e-324", "9_224_617.445_991_228_313", "\(rng.next(1000)).\(rng.next(1000))",
              "-\(rng.next(100))e\(rng.next(30))"])
    }

    mutating func string() -> String {
        switch rng.next(5) {
        case 0: return "\"plain \(rng.next(100)) \\\" \\\\ \\n \\t \\b \\f \\r \\u00E9 \\U0001F600 é\""
        case 1: return "'C:\\path\\\(rng.next(100)) \"quoted\"'"
        case 2: return "\"\"\"\nline one\n  line \(rng.next(9)) \\\n     joined\n\"\"\""
        case 3: return "'''\nraw \\n \(rng.next(9))\n'' two quotes'''"
        default: return "\"\""
        }
    }

    mutating func value(_ depth: Int) -> String {
        switch rng.next(depth > 2 ? 5 : 7) {
        case 0: return integer()
        case 1: return float()
        case 2: return pick(["true", "false"])
        case 3, 4: return string()
        case 5:
            let n = rng.next(4)
            let sep = pick([",", " , ", ",\n  "])
            return "[" + (0..<n).map { _ in value(depth + 1) }.joined(separator: sep) + (n > 0 && rng.next(2) == 0 ? "," : "") + "]"
        default:
            return "{" + (0..<rng.next(3)).map { _ in "\(key())\(space())=\(space())\(value(depth + 1))" }.joined(separator: ", ") + "}"
        }
    }

    mutating func pairs(_ n: Int) -> String {
        (0..<n).map { _ in
            let k = rng.next(4) == 0 ? "\(name()).\(key())" : key()
            return "\(space())\(k)\(space())=\(space())\(value(0))\(pick(["", " # comment", "\t#c"]))\n"
        }.joined()
    }

    mutating func document() -> String {
        var doc = pairs(1 + rng.next(4))
        for _ in 0..<rng.next(4) {
            let t = name()
            switch rng.next(3) {
            case 0: doc += "\n[\(t)]\n" + pairs(rng.next(3)) + "[\(t).\(key())]\n" + pairs(1)
            case 1: doc += "\n[[\(t)]]\n" + pairs(rng.next(3)) + "[[\(t)]]\n" + pairs(1 + rng.next(2))
            default: doc += "\n[ \(t) . \(key()) ]  # header\n" + pairs(1 + rng.next(3))
            }
        }
        return doc
    }
}
