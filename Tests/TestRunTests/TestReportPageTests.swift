import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestKit
import Testing

/// `repro test report`: two real runs (host pytest in the sandbox), the page written
/// for the second, rendered by headless Chromium (Debian's chromium), and its DOM read.
@Suite(.serialized, .tags(.sandbox)) struct TestReportPageTests {
    let dir = NSTemporaryDirectory() + "repro-test-report-\(getpid())-\(UUID().uuidString.prefix(6))"
    var store: String { dir + "/store" }
    var env: [String: String] { ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin"] }

    func repro(_ args: [String]) throws -> TestKit.Output {
        try TestKit.run([TestKit.repro] + args, environment: env)
    }

    @Test func pageShowsTimelineOrdersFlakyTestsAndHistory() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tests = [
            "test_ok.py": "def test_ok():\n    pass\n\ndef test_ok2():\n    pass\n",
            "test_broken.py": "def test_broken():\n    assert False\n",
            "test_f.py": "import os\n\ndef test_flaky():\n    m = '/build/flaky-marker'\n    first = not os.path.exists(m)\n    open(m, 'w').close()\n    assert not first\n",
        ]
        let recipe = try Support.pytestProject(in: dir, tests: tests, repro: { try repro($0) }, store: store)
        #expect(try repro(["test", recipe, "--store", store, "--order", "original"]).status == 1)
        let second = try repro(["test", recipe, "--store", store, "--rerun-failures", "2", "--json"])
        #expect(second.status == 1, "\(second.stderr)")
        struct Summary: Decodable { var run: Int }
        let run = try JSONDecoder().decode(Summary.self, from: second.stdout).run

        let page = dir + "/report.html"
        let written = try repro(["test", "report", String(run), "--store", store, "-o", page])
        if let keep = ProcessInfo.processInfo.environment["REPRO_KEEP_REPORT"] { try? FileManager.default.copyItem(atPath: page, toPath: keep) }
        #expect(written.status == 0, "\(written.stderr)")
        let missing = try repro(["test", "report", "999", "--store", store, "-o", page + ".x"])
        #expect(missing.status == 2 && missing.stderr.contains("999"))

        let chrome = try TestKit.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                      "--user-data-dir=\(dir)/chrome", "--dump-dom", "file://" + page])
        #expect(chrome.status == 0, "\(chrome.stderr)")
        let dom = try XMLDocument(xmlString: chrome.out, options: [.documentTidyHTML])
        func nodes(_ xpath: String) throws -> [XMLNode] { try dom.nodes(forXPath: xpath) }
        func text(_ xpath: String) throws -> String { try nodes(xpath).compactMap(\.stringValue).joined(separator: " ") }

        #expect(try text("//title").contains("run \(run) of proj"))
        #expect(try text("//*[@id='summary']").contains("4 tests, 2 failing"))
        // The timeline: one bar per test, coloured by verdict, the flaky one marked.
        let bars = try nodes("//*[@id='timeline']/div") as? [XMLElement] ?? []
        #expect(bars.count == 4)
        let classes = bars.compactMap { $0.attribute(forName: "class")?.stringValue }
        #expect(classes.filter { $0.contains("v-pass") }.count == 2)
        #expect(classes.filter { $0.contains("v-fail") }.count == 1)
        #expect(classes.filter { $0.contains("v-flaky") }.count == 1)
        #expect(bars.allSatisfy { ($0.attribute(forName: "style")?.stringValue ?? "").hasPrefix("flex: ") })
        // The orders: executed, model, optimal; the optimal order puts both failures first.
        let rows = try nodes("//*[@id='orders']//tr")
        #expect(rows.count == 5)
        let optimalFirstTwo = try text("//*[@id='orders']//tr[2]/td[4]") + " " + text("//*[@id='orders']//tr[3]/td[4]")
        #expect(optimalFirstTwo.contains("test_broken") && optimalFirstTwo.contains("test_flaky"))
        #expect(try text("//*[@id='apfd']").contains("optimal 0.750"))
        // Flaky tests and history: test_flaky listed; test_broken failed in the first run.
        #expect(try text("//*[@id='flaky']").contains("test_flaky"))
        let brokenHistory = try nodes("//*[@id='history']//tr[td[1][contains(., 'test_broken')]]/td[2]/span") as? [XMLElement] ?? []
        #expect(brokenHistory.compactMap { $0.attribute(forName: "class")?.stringValue } == ["cell v-fail"])
    }
}
