import Core
import Foundation
import Testing
import TestKit
@testable import TestRun

/// JUnit import of real reports (pytest --junitxml, ctest --output-junit) and of broken ones.
@Suite(.serialized, .tags(.unit)) struct JUnitTests {
    static let suite = """
    import pytest

    @pytest.fixture
    def broken():
        raise RuntimeError("fixture broke")

    def test_pass(): pass
    def test_fail(): assert 1 == 2, "one is not two <&>"
    def test_error(broken): pass
    def test_skip(): pytest.skip("later")
    @pytest.mark.xfail(reason="known")
    def test_xfail(): assert False
    class TestGroup:
        def test_inner(self): pass
    """

    /// Runs Debian's pytest on the suite with --junitxml; returns the XML file's path.
    static func pytestReport(_ dir: String, family: String) throws -> String {
        try Support.write(suite, to: dir + "/proj/tests/test_j.py")
        let xml = dir + "/report-\(family).xml"
        let r = try Support.run(["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests",
                                 "--junitxml", xml, "-o", "junit_family=\(family)"],
                                environment: ["PATH": "/usr/bin:/bin", "HOME": dir], cwd: dir + "/proj")
        #expect(r.status == 1, "\(r.out)\(r.stderr)")
        return xml
    }

    @Test(arguments: ["xunit1", "xunit2"]) func importsPytestReports(family: String) throws {
        let dir = try TestKit.tempDir("junit-pytest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let report = JUnit.parse(file: try Self.pytestReport(dir, family: family))
        #expect(report.error == nil)
        let byId = Dictionary(uniqueKeysWithValues: report.results.map { ($0.id, $0) })
        let c = "tests.test_j::"
        #expect(report.results.map(\.id) == ["test_pass", "test_fail", "test_error", "test_skip", "test_xfail"].map { c + $0 }
                + ["tests.test_j.TestGroup::test_inner"])
        #expect(byId[c + "test_pass"]?.verdict == .pass)
        #expect(byId[c + "test_fail"]?.verdict == .fail)
        #expect(byId[c + "test_fail"]?.message?.contains("one is not two <&>") == true)
        #expect(byId[c + "test_error"]?.verdict == .error)
        #expect(byId[c + "test_error"]?.message?.contains("fixture broke") == true)
        #expect(byId[c + "test_skip"]?.verdict == .skip)
        #expect(byId[c + "test_skip"]?.message?.contains("later") == true)
        #expect(byId[c + "test_xfail"]?.verdict == .skip)
        #expect(byId["tests.test_j.TestGroup::test_inner"]?.verdict == .pass)
        #expect(report.results.allSatisfy { $0.wallMs >= 0 && $0.userMs == nil && $0.maxRssKb == nil })
        // xunit1 writes file= on each test case; xunit2 does not.
        #expect(report.results.allSatisfy { $0.file == (family == "xunit1" ? "tests/test_j.py" : nil) })
    }

    @Test func importsCTestReports() throws {
        let dir = try TestKit.tempDir("junit-ctest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, build) = try CTestTests.project(dir)
        let r = try Support.run(["ctest", "--output-junit", dir + "/ctest.xml"], cwd: build)
        #expect(r.status == 8, "\(r.out)")  // ctest: some tests failed
        let report = JUnit.parse(file: dir + "/ctest.xml")
        #expect(report.error == nil)
        let v = Dictionary(uniqueKeysWithValues: report.results.map { ($0.id, $0.verdict) })
        // ctest's JUnit has no crash or timeout status: both are failures there.
        #expect(v == ["passes": .pass, "fails": .fail, "crashes": .fail, "hangs": .fail, "expected_failure": .pass,
                      "unexpected_pass": .fail, "skipped": .skip, "env": .pass, "wd": .pass, "off": .skip,
                      "name with spaces": .pass, "sub_passes": .pass, "regex": .fail])
        #expect(report.results.first { $0.id == "skipped" }?.message?.contains("SKIP_RETURN_CODE=77") == true)
        #expect((report.results.first { $0.id == "hangs" }?.wallMs ?? 0) >= 900)
    }

    @Test func importsSurefireShapedReports() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuite name="com.example.MathTest" tests="3" failures="1" errors="1" skipped="0" time="0.5">
          <properties><property name="java.version" value="17"/></properties>
          <testcase name="adds" classname="com.example.MathTest" time="0.001"/>
          <testcase name="divides" classname="com.example.MathTest" time="1,234.5">
            <failure message="expected 2" type="org.opentest4j.AssertionFailedError"><![CDATA[at com.example.MathTest.divides(MathTest.java:12)]]></failure>
            <system-out>noise</system-out>
          </testcase>
          <testcase name="crashes" classname="com.example.MathTest" time="0.2">
            <error message="boom" type="java.lang.NullPointerException">trace</error>
          </testcase>
        </testsuite>
        """
        let report = JUnit.parse(Data(xml.utf8), source: "surefire.xml")
        #expect(report.error == nil)
        #expect(report.results.map(\.verdict) == [.pass, .fail, .error])
        #expect(report.results[1].id == "com.example.MathTest::divides")
        #expect(report.results[1].wallMs == 1_234_500)
        let m = try #require(report.results[1].message)
        #expect(m.contains("org.opentest4j.AssertionFailedError: expected 2") && m.contains("MathTest.java:12"))
        #expect(!m.contains("noise"))
    }

    @Test func malformedReportsKeepWhatCameBefore() throws {
        let dir = try TestKit.tempDir("junit-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let full = try Data(contentsOf: URL(fileURLWithPath: try Self.pytestReport(dir, family: "xunit2")))
        // Cut inside the fourth <testcase ...>: three results survive.
        let text = String(decoding: full, as: UTF8.self)
        let fourth = text.components(separatedBy: "<testcase")[0...3].joined(separator: "<testcase").utf8.count
        let cut = JUnit.parse(full.prefix(fourth + 12), source: "cut.xml")
        #expect(cut.results.map(\.verdict) == [.pass, .fail, .error])
        let e = try #require(cut.error)
        #expect(e.code == .invalidInput)
        #expect(e.message.range(of: #"^JUnit report cut\.xml:\d+:\d+: malformed XML"#, options: .regularExpression) != nil, "\(e.message)")
        #expect(e.message.contains("3 test case(s) before it were kept"))

        // A bad character on a known line and column.
        let bad = "<testsuite>\n  <testcase name=\"a\"/>\n  <testcase name=\"b\" <oops/>\n</testsuite>\n"
        let r = JUnit.parse(Data(bad.utf8), source: "bad.xml")
        #expect(r.results.map(\.id) == ["a"])
        #expect(r.error?.message.hasPrefix("JUnit report bad.xml:3:") == true, "\(String(describing: r.error))")

        for (xml, needle) in [("", "is empty"), ("not xml at all", "malformed XML"),
                              ("<html><body/></html>", "bad.xml:1:"),
                              ("<testsuites>" + String(repeating: "<testsuite>", count: 100), "nested deeper than 64"),
                              ("<testsuite><testcase name='a'><testcase name='b'/></testcase></testsuite>", "inside <testcase>")] {
            let r = JUnit.parse(Data(xml.utf8), source: "bad.xml")
            #expect(r.error?.message.contains(needle) == true, "\(xml.prefix(40)): \(String(describing: r.error))")
        }
        var small = JUnit.Limits()
        small.maxTests = 2
        let many = "<testsuite>" + String(repeating: "<testcase name='x'/>", count: 5) + "</testsuite>"
        let capped = JUnit.parse(Data(many.utf8), source: "many.xml", limits: small)
        #expect(capped.results.count == 2)
        #expect(capped.error?.message.contains("more than 2 test cases") == true)
        small.maxBytes = 10
        #expect(JUnit.parse(Data(many.utf8), source: "many.xml", limits: small).error?.message.contains("over 10 bytes") == true)
        #expect(JUnit.parse(file: dir + "/absent.xml").error?.message.contains("was not written") == true)
    }

    @Test func entityExpansionIsBounded() throws {
        // "Billion laughs": libxml2 refuses the amplification instead of expanding it.
        var doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE t [\n<!ENTITY l0 \"lollollollollollollollollollol\">\n"
        for i in 1...9 { doc += "<!ENTITY l\(i) \"" + String(repeating: "&l\(i - 1);", count: 10) + "\">\n" }
        doc += "]>\n<testsuite><testcase name=\"a\"><failure>&l9;</failure></testcase></testsuite>\n"
        let r = JUnit.parse(Data(doc.utf8), source: "laughs.xml")
        // Either refused, or kept to the message limit: never a 3 GB string.
        if r.error == nil {
            #expect((r.results.first?.message?.utf8.count ?? 0) <= TestRecord.messageLimit)
        } else {
            #expect(r.error?.message.contains("laughs.xml:") == true)
        }
    }
}
