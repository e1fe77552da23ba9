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
        let every = try TestKit.run([TestKit.repro, "rank", "eval", "--replay", dir + "/h.jsonl", "--format", "jsonl", "--select", "recall:0.9", "--full-every", "0"])
        #expect(every.status == 2 && every.stderr.contains("use 1 or more"))
        let plot = try TestKit.run([TestKit.repro, "rank", "eval", "--replay", dir + "/h.jsonl", "--format", "jsonl", "--plot", dir + "/no/such/dir.svg"])
        #expect(plot.status == 2 && plot.stderr.contains("cannot write the plot"))
    }

    /// `repro rank imports` writes the graph of a tree; `--imports` replays with it (the
    /// import-match row then differs from name match); bad trees and files are exit 2.
    @Test func importsWritesTheGraphAndEvalUsesIt() throws {
        let dir = try TestKit.tempDir("rank-imports")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/tree/pkg", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/tree/tests", withIntermediateDirectories: true)
        try "".write(toFile: dir + "/tree/pkg/__init__.py", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/tree/pkg/base.py", atomically: true, encoding: .utf8)
        try "from .base import *\n".write(toFile: dir + "/tree/pkg/mid.py", atomically: true, encoding: .utf8)
        for name in ["mid", "other"] {
            try "from pkg import \(name)\n".write(toFile: dir + "/tree/tests/test_\(name).py", atomically: true, encoding: .utf8)
        }
        let out = try TestKit.run([TestKit.repro, "rank", "imports", dir + "/tree", "-o", dir + "/g.json", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let graph = try ImportGraphFile.load(path: dir + "/g.json")
        #expect(graph.imports["tests/test_mid.py"] == ["pkg/mid.py"] && graph.imports["pkg/mid.py"] == ["pkg/base.py"])
        #expect(graph.distances(from: ["pkg/base.py"])["tests/test_mid.py"] == 2)

        // A history where base.py changes and breaks a test of test_mid.py.
        var lines: [String] = []
        for r in 0..<12 {
            for file in ["tests/test_other.py", "tests/test_mid.py"] {
                for k in 0..<4 {
                    let fails = r == 11 && file == "tests/test_mid.py" && k == 2
                    lines.append(#"{"run": "r\#(r)", "test": "\#(file)::t\#(k)", "verdict": "\#(fails ? "fail" : "pass")", "duration": 0.1, "changed_files": ["\#(r == 11 ? "pkg/base.py" : "README")"], "test_file": "\#(file)"}"#)
                }
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/h.jsonl", atomically: true, encoding: .utf8)
        struct Out: Decodable { struct R: Decodable { struct S: Decodable { var strategy: String; var apfd: Double }; var scores: [S] }; var report: R }
        func apfd(_ extra: [String], _ strategy: String) throws -> Double {
            let r = try TestKit.run([TestKit.repro, "rank", "eval", "--replay", dir + "/h.jsonl", "--format", "jsonl", "--json"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONDecoder().decode(Out.self, from: r.stdout).report.scores.first { $0.strategy == strategy }!.apfd
        }
        let with = ["--imports", dir + "/g.json"]
        #expect(try apfd(with, "import-match") > apfd(with, "changed-modules"))
        #expect(try apfd(with, "model") > apfd([], "model"))

        let noDir = try TestKit.run([TestKit.repro, "rank", "imports", dir + "/nope", "-o", dir + "/x.json"])
        #expect(noDir.status == 2 && noDir.stderr.contains("not a readable directory"), "\(noDir.stderr)")
        #expect(!fm.fileExists(atPath: dir + "/x.json"))
        try #"{"format":"repro-imports","version":1,"imports":{"../../etc/passwd":[]}}"#.write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        let bad = try TestKit.run([TestKit.repro, "rank", "eval", "--replay", dir + "/h.jsonl", "--format", "jsonl", "--imports", dir + "/bad.json"])
        #expect(bad.status == 2 && bad.stderr.contains("bad.json") && bad.stderr.contains("'..' component"), "\(bad.stderr)")
    }
}
