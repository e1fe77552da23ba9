import Core
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The junit adapter's import: JUnit XML in the Jenkins/Ant schema, as pytest
/// `--junitxml`, ctest `--output-junit` and Maven Surefire write it, read with
/// Foundation's XMLParser (libxml2) into `TestResult`s.
///
/// `<testsuites>` or a lone `<testsuite>` at the root; suites may nest; every
/// `<testcase name= classname= time= file=>` is one result: a `<failure>` child makes it
/// `fail`, an `<error>` child `error`, a `<skipped>` child (or ctest's status="notrun" /
/// "disabled") `skip`, none of these `pass`. The id is `classname::name`, or `name` alone
/// when the classname is empty or the same (ctest). JUnit has no CPU or RSS.
///
/// Bounded: the file's size, the element depth and the number of test cases; a message
/// keeps at most `TestRecord.messageLimit` bytes. Malformed XML does not lose what came
/// before it: `Report` holds the results read up to the error and the error itself.
public enum JUnit {
    public struct Limits: Sendable {
        public var maxBytes: Int = 256 << 20
        public var maxDepth: Int = 64
        public var maxTests: Int = 1_000_000
        public init() {}
    }

    public struct Report: Sendable {
        /// The test cases read, in document order (up to the error, if any).
        public var results: [TestResult]
        /// Why reading stopped early: malformed XML (with line and column), not a JUnit
        /// report, over a limit. `nil` when the whole file was read.
        public var error: ReproError?
    }

    /// Reads the report at `path` (bounded by `limits.maxBytes`).
    public static func parse(file path: String, limits: Limits = Limits()) -> Report {
        guard let h = FileHandle(forReadingAtPath: path) else {
            return Report(results: [], error: ReproError(.failed, "JUnit report \(path) was not written (or cannot be read); check the [test] script and its reports = [...]"))
        }
        defer { try? h.close() }
        let data: Data
        do { data = try h.read(upToCount: limits.maxBytes + 1) ?? Data() } catch {
            return Report(results: [], error: ReproError(.system, "cannot read JUnit report \(path): \(error.localizedDescription)"))
        }
        guard data.count <= limits.maxBytes else {
            return Report(results: [], error: ReproError(.invalidInput, "JUnit report \(path) is over \(limits.maxBytes) bytes; repro does not import it"))
        }
        return parse(data, source: path, limits: limits)
    }

    /// Reads a report from memory; `source` names it in errors.
    public static func parse(_ data: Data, source: String, limits: Limits = Limits()) -> Report {
        guard data.count <= limits.maxBytes else {
            return Report(results: [], error: ReproError(.invalidInput, "JUnit report \(source) is over \(limits.maxBytes) bytes; repro does not import it"))
        }
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        let reader = Reader(limits: limits)
        parser.delegate = reader
        let ok = parser.parse()
        var error: ReproError?
        if let stop = reader.stop {
            error = ReproError(.invalidInput, "JUnit report \(source):\(stop.line):\(stop.column): \(stop.message)")
        } else if let bad = reader.syntaxError {
            error = ReproError(.invalidInput, "JUnit report \(source):\(bad.line):\(bad.column): malformed XML (\(bad.message)); \(reader.results.count) test case(s) before it were kept")
        } else if !ok {
            let e = parser.parserError as NSError?
            let what = (e?.userInfo[NSLocalizedDescriptionKey] as? String).flatMap { $0.isEmpty ? nil : $0 }
                ?? e.map { "XML parser error \($0.code)" } ?? "malformed XML"
            error = ReproError(.invalidInput, "JUnit report \(source):\(parser.lineNumber):\(parser.columnNumber): malformed XML (\(what)); \(reader.results.count) test case(s) before it were kept")
        } else if reader.depth > 0 {
            // libxml2 through XMLParser accepts a document that simply stops: a report
            // cut short (the test run killed while writing it) ends with open elements.
            let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let column = String(decoding: lines.last ?? Data(), as: UTF8.self).count + 1
            error = ReproError(.invalidInput, "JUnit report \(source):\(lines.count):\(column): malformed XML (the document ends inside <\(reader.open.last ?? "?")>; was it cut short?); \(reader.results.count) test case(s) before it were kept")
        } else if !reader.sawRoot {
            error = ReproError(.invalidInput, "JUnit report \(source) is empty; the script must write JUnit XML there")
        }
        return Report(results: reader.results, error: error)
    }

    /// At most `TestRecord.messageLimit` bytes of `s`, cut between characters.
    static func truncated(_ s: String) -> String {
        guard s.utf8.count > TestRecord.messageLimit else { return s }
        var out = String.UnicodeScalarView()
        var bytes = 0
        for u in s.unicodeScalars {
            bytes += String(u).utf8.count
            if bytes > TestRecord.messageLimit { break }
            out.append(u)
        }
        return String(out)
    }

    /// The XMLParser delegate: a stack of open elements, the test case being read.
    final class Reader: NSObject, XMLParserDelegate {
        struct Stop { var line: Int; var column: Int; var message: String }
        let limits: Limits
        var results: [TestResult] = []
        var stop: Stop?
        var sawRoot = false
        var depth = 0
        /// Names of the open elements (for the message of a document cut short).
        var open: [String] = []
        var current: TestResult?
        /// ctest's status attribute when it says the test did not run.
        var statusSkip: String?
        /// The outcome child being read (failure, error, skipped) and its text so far.
        var outcome: (verdict: TestVerdict, message: String)?
        var outcomeDepth = 0
        var text = ""

        init(limits: Limits) { self.limits = limits }

        func halt(_ parser: XMLParser, _ message: String) {
            guard stop == nil else { return }
            stop = Stop(line: parser.lineNumber, column: parser.columnNumber, message: message)
            parser.abortParsing()
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            guard stop == nil, syntaxError == nil else { return }
            depth += 1
            open.append(name)
            if depth > limits.maxDepth { return halt(parser, "elements nested deeper than \(limits.maxDepth)") }
            if depth == 1 {
                sawRoot = true
                guard name == "testsuites" || name == "testsuite" else {
                    return halt(parser, "<\(name)> is not a JUnit report (expected <testsuites> or <testsuite> at the root)")
                }
                return
            }
            switch name {
            case "testcase":
                guard current == nil else { return halt(parser, "<testcase> inside <testcase>") }
                guard results.count < limits.maxTests else { return halt(parser, "more than \(limits.maxTests) test cases") }
                let n = attributes["name"] ?? ""
                let cls = attributes["classname"] ?? ""
                let id = cls.isEmpty || cls == n ? n : cls + "::" + n
                let seconds = attributes["time"].flatMap { Double($0.replacingOccurrences(of: ",", with: "")) } ?? 0
                let r = TestResult(id: id, file: attributes["file"].flatMap { $0.isEmpty ? nil : $0 }, verdict: .pass,
                                   wallMs: max(0, seconds) * 1000)
                // ctest --output-junit: status="notrun" (SKIP_RETURN_CODE, no executable)
                // and "disabled" come with or without a <skipped> child.
                if let status = attributes["status"], status == "notrun" || status == "disabled" {
                    statusSkip = status
                }
                current = r
            case "failure", "error", "skipped":
                guard current != nil, outcome == nil else { return }
                let verdict: TestVerdict = name == "failure" ? .fail : name == "error" ? .error : .skip
                var message = attributes["message"] ?? ""
                if let type = attributes["type"], !type.isEmpty, !message.contains(type) {
                    message = message.isEmpty ? type : "\(type): \(message)"
                }
                outcome = (verdict, message)
                outcomeDepth = depth
                text = ""
            default:
                break
            }
        }

        /// libxml2's error as it happens (XMLParser on Linux may still return true from
        /// parse() after a fatal error in a later chunk); the position is the parser's now.
        var syntaxError: Stop?
        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
            guard syntaxError == nil else { return }
            let e = parseError as NSError
            let what = (e.userInfo[NSLocalizedDescriptionKey] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "XML parser error \(e.code)"
            syntaxError = Stop(line: parser.lineNumber, column: parser.columnNumber, message: what)
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard outcome != nil, text.utf8.count < TestRecord.messageLimit else { return }
            text += string
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            guard outcome != nil, text.utf8.count < TestRecord.messageLimit else { return }
            text += String(decoding: CDATABlock.prefix(TestRecord.messageLimit), as: UTF8.self)
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            // Nothing after a syntax error counts: libxml2 may recover and go on.
            guard stop == nil, syntaxError == nil else { return }
            defer { depth -= 1; open.removeLast() }
            if let o = outcome, depth == outcomeDepth {
                outcome = nil
                // The strongest outcome wins: failure over error over skipped.
                let rank: [TestVerdict: Int] = [.pass: 0, .skip: 1, .error: 2, .fail: 3]
                if var r = current, rank[o.verdict, default: 0] > rank[r.verdict, default: 0] {
                    r.verdict = o.verdict
                    let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    let msg = [o.message, body].filter { !$0.isEmpty }.joined(separator: "\n")
                    r.message = msg.isEmpty ? nil : JUnit.truncated(msg)
                    current = r
                }
                return
            }
            if name == "testcase", var r = current {
                if r.verdict == .pass, let s = statusSkip {
                    r.verdict = .skip
                    r.message = s
                }
                results.append(r)
                current = nil
                statusSkip = nil
            }
        }
    }
}
