import Core
import Foundation
import TestKit
import Testing
@testable import Recipe

/// Parses or fails the test with the error text.
func toml(_ text: String) throws -> TOMLTable { try TOML.parse(text, file: "t.toml") }

/// The message of the error a document raises, or nil when it parses.
func tomlError(_ text: String) -> String? {
    do {
        _ = try TOML.parse(text, file: "t.toml")
        return nil
    } catch let e as ReproError {
        #expect(e.code == .invalidInput)
        return e.message
    } catch {
        return "unexpected \(error)"
    }
}

/// Looks up a dotted path through tables (and the last element of arrays of tables).
func lookup(_ t: TOMLTable, _ path: String) -> TOMLValue? {
    var table = t
    let parts = path.split(separator: ".").map(String.init)
    for (i, p) in parts.enumerated() {
        guard let v = table[p] else { return nil }
        if i == parts.count - 1 { return v }
        if let sub = v.table { table = sub } else if let last = v.array?.last?.table { table = last } else { return nil }
    }
    return nil
}

@Suite(.tags(.unit)) struct TOMLValueTests {
    @Test func scalarsAndComments() throws {
        let t = try toml("""
        # a comment
        name = "hello" # trailing comment
        count = 1_000
        negative = -17
        plus = +5
        hex = 0xDEAD_beef
        oct = 0o755
        bin = 0b1101
        pi = 3.141_5
        exp = 1e6
        expneg = -2.5E-3
        inf = -inf
        nan = nan
        yes = true
        no = false
        """)
        #expect(t["name"]?.string == "hello")
        #expect(t["count"]?.integer == 1000)
        #expect(t["negative"]?.integer == -17)
        #expect(t["plus"]?.integer == 5)
        #expect(t["hex"]?.integer == 0xDEADBEEF)
        #expect(t["oct"]?.integer == 0o755)
        #expect(t["bin"]?.integer == 13)
        #expect(t["pi"]?.float == 3.1415)
        #expect(t["exp"]?.float == 1e6)
        #expect(t["expneg"]?.float == -2.5e-3)
        #expect(t["inf"]?.float == -.infinity)
        #expect(t["nan"]?.float?.isNaN == true)
        #expect(t["yes"]?.boolean == true)
        #expect(t["no"]?.boolean == false)
        #expect(t.keys == ["name", "count", "negative", "plus", "hex", "oct", "bin", "pi", "exp", "expneg", "inf", "nan", "yes", "no"])
        #expect(t["name"]?.position == TOMLPosition(line: 2, column: 8))
        #expect(t.entry("count")?.keyPosition == TOMLPosition(line: 3, column: 1))
    }

    @Test func strings() throws {
        let t = try toml(#"""
        basic = "tab\there \"q\" \\ \u00e9 \U0001F600"
        literal = 'C:\no\escapes'
        empty = ""
        quote = "'"
        """#)
        #expect(t["basic"]?.string == "tab\there \"q\" \\ é 😀")
        #expect(t["literal"]?.string == #"C:\no\escapes"#)
        #expect(t["empty"]?.string == "")
        #expect(t["quote"]?.string == "'")
    }

    @Test func multilineStrings() throws {
        let t = try toml(#"""
        script = """
        ./configure --prefix=/usr
        make -j$REPRO_JOBS
        """
        folded = """\
            one \
            two"""
        quotes = """a ""b"" c"""""
        raw = '''
        no \escapes here
          indented'''
        rawquote = '''it's'''''
        after = 1
        crlf = "x"
        """#)
        #expect(t["script"]?.string == "./configure --prefix=/usr\nmake -j$REPRO_JOBS\n")
        #expect(t["folded"]?.string == "one two")
        #expect(t["quotes"]?.string == #"a ""b"" c"""#)
        #expect(t["raw"]?.string == "no \\escapes here\n  indented")
        #expect(t["rawquote"]?.string == "it's''")
        // Lines keep counting through multi-line strings.
        #expect(t["after"]?.line == 13)
        #expect(t["script"]?.line == 1)
    }

    @Test func crlfLineEndings() throws {
        let t = try toml("a = 1\r\ns = \"\"\"\r\nx\r\ny\"\"\"\r\nb = 2\r\n")
        #expect(t["s"]?.string == "x\ny")
        #expect(t["b"]?.line == 5)
    }

    @Test func keys() throws {
        let t = try toml("""
        bare-key_1 = 1
        "quoted key" = 2
        'literal.key' = 3
        site."google.com" = true
        a.b.c = 4
        a . b . d = 5
        "" = 6
        1234 = 7
        """)
        #expect(t["bare-key_1"]?.integer == 1)
        #expect(t["quoted key"]?.integer == 2)
        #expect(t["literal.key"]?.integer == 3)
        #expect(lookup(t, "site")?.table?["google.com"]?.boolean == true)
        #expect(lookup(t, "a.b.c")?.integer == 4)
        #expect(lookup(t, "a.b.d")?.integer == 5)
        #expect(t[""]?.integer == 6)
        #expect(t["1234"]?.integer == 7)
    }

    @Test func tables() throws {
        let t = try toml("""
        top = 0
        [a.b]
        x = 1
        [a]
        y = 2
        [a.c]
        z = 3
        [ "q k" . 'r' ]
        w = 4
        [fruit]
        apple.color = "red"
        [fruit.apple.texture]
        smooth = true
        """)
        #expect(lookup(t, "a.b.x")?.integer == 1)
        #expect(lookup(t, "a.y")?.integer == 2)
        #expect(lookup(t, "a.c.z")?.integer == 3)
        #expect(t["q k"]?.table?["r"]?.table?["w"]?.integer == 4)
        #expect(lookup(t, "fruit.apple.color")?.string == "red")
        #expect(lookup(t, "fruit.apple.texture.smooth")?.boolean == true)
        #expect(lookup(t, "a.b")?.line == 2)
        #expect(t.keys == ["top", "a", "q k", "fruit"])
    }

    @Test func arraysOfTables() throws {
        let t = try toml("""
        [[products]]
        name = "Hammer"
        [[products]]
        [[products]]
        name = "Nail"
        [products.size]
        mm = 20
        [[products.variants]]
        color = "grey"
        """)
        let products = try #require(t["products"]?.array)
        #expect(products.count == 3)
        #expect(products[0].table?["name"]?.string == "Hammer")
        #expect(products[1].table?.isEmpty == true)
        #expect(products[2].table?["size"]?.table?["mm"]?.integer == 20)
        #expect(products[2].table?["variants"]?.array?.first?.table?["color"]?.string == "grey")
        #expect(products[1].line == 3)
    }

    @Test func arraysAndInlineTables() throws {
        let t = try toml("""
        packages = [
          "gcc",   # the compiler
          "make",
        ]
        empty = []
        nested = [[1, 2], ["a", 'b'], []]
        mixed = [1, "x", 2.5, true, { k = "v" }]
        point = { x = 1, y.z = 2, "s p" = "q" }
        none = {}
        """)
        #expect(t["packages"]?.array?.compactMap(\.string) == ["gcc", "make"])
        #expect(t["packages"]?.array?[1].line == 3)
        #expect(t["empty"]?.array?.isEmpty == true)
        #expect(t["nested"]?.array?[1].array?.compactMap(\.string) == ["a", "b"])
        #expect(t["mixed"]?.array?[4].table?["k"]?.string == "v")
        #expect(lookup(t, "point.x")?.integer == 1)
        #expect(lookup(t, "point.y.z")?.integer == 2)
        #expect(lookup(t, "point.s p")?.string == "q")
        #expect(t["none"]?.table?.isEmpty == true)
    }

    @Test func edgeCases() throws {
        let t = try toml(#"""
        3.14159 = "pi"
        zero = -0
        pzero = +0
        fzero = -0.0
        small = 6e-2
        sep = 1_0.0_1
        esc = """a\"""b"""
        [ spaced . header ]
        k = 1
        """#)
        #expect(lookup(t, "3.14159")?.string == "pi")
        #expect(t["zero"]?.integer == 0)
        #expect(t["pzero"]?.integer == 0)
        #expect(t["fzero"]?.float == 0)
        #expect(t["small"]?.float == 0.06)
        #expect(t["sep"]?.float == 10.01)
        #expect(t["esc"]?.string == #"a"""b"#)
        #expect(lookup(t, "spaced.header.k")?.integer == 1)
    }

    @Test func emptyAndBlankDocuments() throws {
        #expect(try toml("").isEmpty)
        #expect(try toml("\n\n  # only a comment\n\t\n").isEmpty)
        #expect(try toml("\u{FEFF}a = 1")["a"]?.integer == 1)
    }
}

@Suite(.tags(.unit)) struct TOMLErrorTests {
    /// Each case: document, expected `t.toml:LINE:COL:` prefix, a fragment of the message.
    static let cases: [(String, String, String)] = [
        ("a = 1\na = 2", "t.toml:2:1:", "duplicate key 'a' (first defined at line 1)"),
        ("a.b = 1\na.b = 2", "t.toml:2:3:", "duplicate key 'a.b'"),
        ("[a]\nx = 1\n[a]\ny = 2", "t.toml:3:1:", "table [a] is defined twice (first at line 1)"),
        ("[a.b]\n[a]\n[a]", "t.toml:3:1:", "defined twice"),
        ("a.b = 1\n[a]", "t.toml:2:1:", "already defined by dotted keys"),
        ("[a]\nb.c = 1\n[a.b]", "t.toml:3:1:", "already defined by dotted keys"),
        ("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", "t.toml:4:1:", "defined by a header at line 1"),
        ("a = 1\n[a]", "t.toml:2:1:", "'a' is already a integer (line 1), not a table"),
        ("a = 1\n[a.b]", "t.toml:2:2:", "'a' is already a integer"),
        ("a = {x = 1}\n[a]", "t.toml:2:1:", "inline table (line 1) and cannot be extended"),
        ("a = {x = 1}\na.y = 2", "t.toml:2:1:", "inline table"),
        ("[[a]]\n[a]", "t.toml:2:1:", "redefines the array of tables 'a' from line 1"),
        ("[a]\n[[a]]", "t.toml:2:1:", "redefines table 'a' from line 1"),
        ("a = []\n[[a]]", "t.toml:2:1:", "already a array"),
        ("name = hello", "t.toml:1:8:", "strings need quotes: \"hello\""),
        ("b = True", "t.toml:1:5:", "booleans are lowercase: true"),
        ("s = \"open\nx = 1", "t.toml:1:5:", "unterminated string"),
        ("s = 'open", "t.toml:1:5:", "unterminated literal string"),
        ("x = 1\ns = \"\"\"never\nclosed", "t.toml:2:5:", "unterminated multi-line string; close it with \"\"\""),
        ("s = \"bad \\q escape\"", "t.toml:1:10:", "invalid escape \\q"),
        ("s = \"\\uD800\"", "t.toml:1:6:", "not a Unicode scalar value"),
        ("s = \"\\u12\"", "t.toml:1:6:", "needs 4 hex digits"),
        ("n = 01", "t.toml:1:5:", "leading zeros"),
        ("n = 1__0", "t.toml:1:5:", "underscore must sit between two digits"),
        ("n = _1", "t.toml:1:5:", "strings need quotes"),
        ("n = 1_", "t.toml:1:5:", "underscore"),
        ("n = 1.", "t.toml:1:5:", "digits are missing"),
        ("n = .5", "t.toml:1:5:", "invalid value '.5'"),
        ("n = 9223372036854775808", "t.toml:1:5:", "out of range"),
        ("n = -0x10", "t.toml:1:5:", "cannot have a sign"),
        ("d = 1979-05-27T07:32:00Z", "t.toml:1:5:", "dates and times are not supported"),
        ("t = 07:32:00", "t.toml:1:5:", "write \"07:32:00\" as a string"),
        ("a = 1 b = 2", "t.toml:1:7:", "unexpected 'b' after a value"),
        ("a", "t.toml:1:2:", "expected '=' after the key 'a'"),
        ("a =", "t.toml:1:4:", "expected a value after '='"),
        ("a = # nothing", "t.toml:1:5:", "expected a value"),
        ("= 1", "t.toml:1:1:", "expected a key"),
        ("[a", "t.toml:1:3:", "expected ']' to close the table header [a"),
        ("[[a]\n", "t.toml:1:4:", "expected ']]'"),
        ("[a] x = 1", "t.toml:1:5:", "after a table header"),
        ("a = [1, 2", "t.toml:1:5:", "unterminated array"),
        ("a = [1 2]", "t.toml:1:8:", "expected ',' or ']'"),
        ("a = {x = 1,}", "t.toml:1:12:", "trailing comma in an inline table"),
        ("a = {x = 1,\ny = 2}", "t.toml:1:12:", "inline table must be on one line"),
        ("a = {x = 1, x = 2}", "t.toml:1:13:", "duplicate key 'x'"),
        ("key with space = 1", "t.toml:1:5:", "expected '=' after the key 'key'"),
        ("\"\"\"k\"\"\" = 1", "t.toml:1:1:", "a key cannot be a multi-line string"),
        ("a = 1\r", "t.toml:1:6:", "carriage return without a line feed"),
        ("s = \"a\u{01}b\"", "t.toml:1:7:", "control character U+0001"),
        ("a = 1 # bell \u{07}", "t.toml:1:14:", "control character U+0007 in a comment"),
        ("é = 1", "t.toml:1:1:", "cannot start a key"),
        ("s = \"é\" x", "t.toml:1:9:", "unexpected 'x'"),
        ("s = \"\"\"x\"\"\"\"\"\"", "t.toml:1:9:", "too many quotes at the end of a multi-line string"),
    ]

    @Test(arguments: cases.indices) func errorsNamePosition(_ i: Int) {
        let (doc, prefix, fragment) = Self.cases[i]
        let message = tomlError(doc)
        #expect(message != nil, "expected an error for \(doc.debugDescription)")
        guard let message else { return }
        #expect(message.hasPrefix(prefix + " "), "\(doc.debugDescription): \(message)")
        #expect(message.contains(fragment), "\(doc.debugDescription): \(message)")
    }

    @Test func invalidUTF8NamesTheLine() {
        var bytes = Array("a = 1\nb = \"".utf8)
        bytes += [0xFF, 0x22, 0x0A]
        do {
            _ = try TOML.parse(data: Data(bytes), file: "x.toml")
            Issue.record("expected an error")
        } catch let e as ReproError {
            #expect(e.message == "x.toml:2: the file is not valid UTF-8; save it as UTF-8")
        } catch { Issue.record("\(error)") }
    }
}
