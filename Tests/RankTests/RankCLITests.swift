import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestKit
import Testing
@testable import Rank

/// Writes `history` as the JSON lines `repro rank` reads.
private func writeJSONLines(_ history: History, to path: String) throws {
    var lines: [String] = []
    for run in history.runs {
        for e in run.executions {
            var object: [String: Any] = ["run": run.id, "test": e.test, "verdict": e.verdict.rawValue, "duration": e.duration]
            if let f = run.changedFiles { object["changed_files"] = f }
            if let f = e.testFile { object["test_file"] = f }
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        }
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
}

private extension XMLElement {
    /// The attribute's value, looked up by local name (FoundationXML's
    /// `attribute(forName:)` misses attributes of elements in a default namespace).
    func value(_ name: String) -> String? {
        attributes?.first { $0.localName == name || $0.name == name }?.stringValue
    }
}

@Suite(.serialized, .tags(.sandbox)) struct RankCLITests {
    @Test func evalDrawsOneCurvePerStrategy() throws {
        let dir = try TestKit.tempDir("rank-plot")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeJSONLines(changeHistory(runs: 40), to: dir + "/h.jsonl")
        let out = try TestKit.run([TestKit.repro, "rank", "eval", "--replay", dir + "/h.jsonl", "--format", "jsonl",
                                   "--plot", dir + "/p.svg", "--select", "recall:0.95"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.out.contains("selection at recall:0.95"))
        #expect(out.out.contains("runs with a failure caught"))

        let raw = try String(contentsOfFile: dir + "/p.svg", encoding: .utf8)
        #expect(raw.hasPrefix("<?xml") && raw.contains(#"<svg xmlns="http://www.w3.org/2000/svg""#))
        let document = try XMLDocument(xmlString: raw)
        let svg = try #require(document.rootElement())
        #expect(svg.localName == "svg")
        let curves = try svg.nodes(forXPath: "//*[local-name()='polyline']") as? [XMLElement] ?? []
        let strategies = curves.compactMap { $0.value("data-strategy") }
        #expect(strategies == ["original", "decayed", "changed-modules-per-second", "model-per-second", "optimal"])
        let texts = (try svg.nodes(forXPath: "//*[local-name()='text']")).compactMap(\.stringValue)
        #expect(texts.contains("model / second") && texts.contains("optimal") && texts.contains("best history heuristic"))
        #expect(texts.contains("share of test time") && texts.contains("100%"))

        // Each curve: 101 points inside the plot area, x increasing, y never going down
        // the page's "up" (a share found never decreases); the optimal curve is on top.
        var heights: [String: [Double]] = [:]
        for curve in curves {
            let points = (curve.value("points") ?? "").split(separator: " ").map {
                $0.split(separator: ",").map { Double($0)! }
            }
            #expect(points.count == 101)
            #expect(zip(points, points.dropFirst()).allSatisfy { $0[0] < $1[0] && $1[1] <= $0[1] + 1e-9 })
            #expect(points.allSatisfy { $0[0] >= 60 && $0[0] <= 440 && $0[1] >= 40 && $0[1] <= 390 })
            heights[curve.value("data-strategy")!] = points.map { $0[1] }
        }
        let optimal = try #require(heights["optimal"]), original = try #require(heights["original"])
        #expect(zip(optimal, original).allSatisfy { $0 <= $1 + 1e-9 })
        #expect(optimal.last! < 41 && optimal[50] < original[50])
    }

    @Test func explainAndBadInput() throws {
        let dir = try TestKit.tempDir("rank-explain")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let history = changeHistory(runs: 20)
        try writeJSONLines(history, to: dir + "/h.jsonl")
        let run = history.runs[15], test = run.executions[0].test
        let out = try TestKit.run([TestKit.repro, "rank", "explain", "--history", dir + "/h.jsonl", "--format", "jsonl", run.id, test])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.out.contains("\(test) in run \(run.id): position"))
        #expect(out.out.contains("| path_similarity |") || out.out.contains("| feature | value |"))
        let json = try TestKit.run([TestKit.repro, "rank", "explain", "--history", dir + "/h.jsonl", "--format", "jsonl", run.id, test, "--json"])
        let e = try JSONDecoder().decode(Explanation.self, from: json.stdout)
        #expect(e.features.count == FeatureSet.names.count)

        let missing = try TestKit.run([TestKit.repro, "rank", "explain", "--history", dir + "/h.jsonl", "--format", "jsonl", run.id, "nope"])
        #expect(missing.status == 2 && missing.stderr.contains("not in run"))
        let budget = try TestKit.run([TestKit.repro, "rank", "eval", "--replay", dir + "/h.jsonl", "--format", "jsonl", "--select", "time:200%"])
        #expect(budget.status == 2 && budget.stderr.contains("time:30%"))
        let plot = try TestKit.run([TestKit.repro, "rank", "eval", "--replay", dir + "/h.jsonl", "--format", "jsonl", "--plot", dir + "/no/such/dir.svg"])
        #expect(plot.status == 2 && plot.stderr.contains("cannot write the plot"))
    }
}
