import Core
import Foundation

/// A run as JUnit XML (Jenkins/Ant schema) or as the JSON lines `Rank` reads.
public enum TestExport {
    /// One <testsuite> named after the recipe; each test once with its last attempt's
    /// verdict (flaky tests carry a <flakyFailure>-free <system-out> note and a
    /// `flaky="true"` attribute, which Jenkins ignores).
    public static func junit(_ run: TestRunRow, _ executions: [TestExecutionRow]) -> Data {
        var last: [String: TestExecutionRow] = [:]
        var order: [String] = []
        for e in executions {
            if last[e.test] == nil { order.append(e.test) }
            last[e.test] = e
        }
        let flaky = Set(executions.filter(\.flaky).map(\.test))
        var failures = 0, errors = 0, skipped = 0
        var body = ""
        for id in order {
            let e = last[id]!
            let (classname, name) = split(id)
            body += "    <testcase classname=\"\(xml(classname))\" name=\"\(xml(name))\" time=\"\(String(format: "%.3f", e.wallMs / 1000))\""
            if let f = e.file { body += " file=\"\(xml(f))\"" }
            if flaky.contains(id) { body += " flaky=\"true\"" }
            let msg = xml(e.message ?? "")
            switch e.verdict {
            case .pass: body += "/>\n"
            case .skip: skipped += 1; body += ">\n      <skipped message=\"\(msg)\"/>\n    </testcase>\n"
            case .notSelected: skipped += 1; body += ">\n      <skipped message=\"not selected (--select)\"/>\n    </testcase>\n"
            case .fail: failures += 1; body += ">\n      <failure message=\"\(msg)\" type=\"fail\"/>\n    </testcase>\n"
            case .error, .timeout, .crashed:
                errors += 1
                body += ">\n      <error message=\"\(msg)\" type=\"\(e.verdict.rawValue)\"/>\n    </testcase>\n"
            }
        }
        let time = executions.reduce(0) { $0 + $1.wallMs } / 1000
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        out += "  <testsuite name=\"\(xml(run.recipe))\" tests=\"\(order.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", time))\">\n"
        out += body + "  </testsuite>\n</testsuites>\n"
        return Data(out.utf8)
    }

    /// `{"run","test","verdict","duration","changed_files","test_file"}` per execution
    /// (first attempts; timeouts and crashes as `fail`, flaky as `fail`).
    public static func jsonl(_ runs: [(TestRunRow, [TestExecutionRow])]) throws -> Data {
        struct Line: Encodable {
            var run: String, test: String, verdict: String, duration: Double
            var changed_files: [String]?, test_file: String?
        }
        var out = Data()
        for (r, execs) in runs {
            for e in execs where e.attempt == 0 && e.verdict != .notSelected {
                let v = e.historyVerdict
                out += try CanonicalJSON.encode(Line(run: String(r.id ?? 0), test: e.test, verdict: v, duration: e.wallMs / 1000,
                                                     changed_files: r.changedFiles, test_file: e.file))
                out += Data("\n".utf8)
            }
        }
        return out
    }

    static func split(_ id: String) -> (String, String) {
        if let r = id.range(of: "::", options: .backwards) { return (String(id[..<r.lowerBound]), String(id[r.upperBound...])) }
        return ("", id)
    }

    /// XML attribute text: markup escaped, characters XML 1.0 cannot carry dropped.
    static func xml(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF { out += "\\x" + String(format: "%02x", u.value) }
                else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }
}

extension TestExecutionRow {
    /// The verdict as a ranking history has it (pass, fail, error, skip): timeouts and
    /// crashes are failures, and a flaky test counts as failed (never a clean pass).
    public var historyVerdict: String { Telemetry.rankVerdict(verdict, flaky: flaky).rawValue }
}
