import Foundation
import TestKit
import Testing
@testable import Diff

/// Bounded unified diffs and numeric tolerance (text, CSV, JSON).
@Suite(.tags(.unit)) struct DiffTextTests {
    @Test func unifiedDiffMatchesDiffU() throws {
        let tmp = try TestKit.tempDir("diff-unified")
        defer { DiffSupport.remove(tmp) }
        let a = (1...30).map { "line \($0)" }.joined(separator: "\n") + "\n"
        var lines = (1...30).map { "line \($0)" }
        lines[2] = "LINE 3"
        lines.remove(at: 14)
        lines.insert("inserted", at: 20)
        lines.append("tail without newline")
        let b = lines.joined(separator: "\n")
        try DiffSupport.write(tmp + "/a", a)
        try DiffSupport.write(tmp + "/b", b)
        let ours = TextDiff.unified(a, b, labelA: "a", labelB: "b", maxLines: 1000)
        #expect(!ours.truncated)
        // GNU diff -u prints the same hunks (its header lines carry times: dropped).
        let r = try TestKit.run(["diff", "-u", "a", "b"], cwd: tmp)
        #expect(r.status == 1)
        let gnu = r.out.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).joined(separator: "\n")
        let mine = ours.text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).joined(separator: "\n")
        #expect(mine == gnu)
    }

    @Test func diffsAreBounded() {
        let a = (1...500).map { "a\($0)" }.joined(separator: "\n") + "\n"
        let b = (1...500).map { $0 % 2 == 0 ? "b\($0)" : "a\($0)" }.joined(separator: "\n") + "\n"
        let cut = TextDiff.unified(a, b, labelA: "a", labelB: "b", maxLines: 20)
        #expect(cut.truncated)
        #expect(cut.text.split(separator: "\n").count == 2 + 20 + 1)
        #expect(cut.text.hasSuffix("more diff lines not shown (bound: 20 lines)\n"))
        // Too many edits to search: said so, no diff.
        let x = (1...3000).map { "x\($0)" }.joined(separator: "\n"), y = (1...3000).map { "y\($0)" }.joined(separator: "\n")
        let big = TextDiff.unified(x, y, labelA: "a", labelB: "b", maxLines: 20)
        #expect(big.truncated && big.note?.contains("more than 2000 lines differ") == true)
    }

    @Test func numbersWithinToleranceInCSVJSONAndText() throws {
        let tmp = try TestKit.tempDir("diff-numeric")
        defer { DiffSupport.remove(tmp) }
        let files: [(String, String, String)] = [
            ("results.csv", "run,energy,force\n1,-1234.5678901234,0.5\n2,3.0e-5,12\n",
                            "run,energy,force\n1,-1234.5678901235,0.5\n2,3.00000000001e-5,12\n"),
            ("results.json", "{\"energy\": 1.0000000000001, \"values\": [0.1, 2e10], \"name\": \"x86_64\"}\n",
                             "{\"energy\": 1.0000000000002, \"values\": [0.1000000000000001, 20000000000.5], \"name\": \"x86_64\"}\n"),
            ("log.txt", "converged after 12 steps, residual 1.2345e-12\n",
                        "converged after 12 steps, residual 1.2346e-12\n"),
        ]
        for (name, a, b) in files {
            try DiffSupport.write(tmp + "/a/" + name, a)
            try DiffSupport.write(tmp + "/b/" + name, b)
        }
        // Beyond the tolerance, or text that differs around equal numbers.
        try DiffSupport.write(tmp + "/a/far.csv", "x\n1.0001\n")
        try DiffSupport.write(tmp + "/b/far.csv", "x\n1.0002\n")
        try DiffSupport.write(tmp + "/a/words.txt", "value 1.0 ok\n")
        try DiffSupport.write(tmp + "/b/words.txt", "value 1.0 OK\n")

        let strict = try DiffSupport.diff(tmp + "/a", tmp + "/b")
        #expect(strict.differences.allSatisfy { $0.status == .changed })
        #expect(strict.differences.count == 5)

        var options = DiffOptions(numericTolerance: 1e-10)
        let loose = try DiffSupport.diff(tmp + "/a", tmp + "/b", options: options)
        for name in ["results.csv", "results.json", "log.txt"] {
            #expect(loose.entry(name)?.status == .equalWithinTolerance, "\(name)")
            #expect(loose.entry(name)?.textDiff == nil)
        }
        #expect(loose.entry("far.csv")?.status == .changed)
        #expect(loose.entry("far.csv")?.textDiff?.contains("-1.0001\n+1.0002\n") == true)
        #expect(loose.entry("words.txt")?.status == .changed)
        #expect(!loose.equal)
        #expect(loose.summary["equal_within_tolerance"] == 3)

        // Only the within-tolerance files: equal, exit 0, and the status says why.
        for name in ["far.csv", "words.txt"] {
            DiffSupport.remove(tmp + "/a/" + name)
            DiffSupport.remove(tmp + "/b/" + name)
        }
        options.numericTolerance = 1e-10
        #expect(try DiffSupport.diff(tmp + "/a", tmp + "/b", options: options).equal)
        let cli = try DiffSupport.cli([tmp + "/a", tmp + "/b", "--numeric-tolerance", "1e-10"])
        #expect(cli.status == 0)
        #expect(cli.out.contains("equal within tolerance results.csv"))
        let strictCLI = try DiffSupport.cli([tmp + "/a", tmp + "/b"])
        #expect(strictCLI.status == 3)
        // A tighter tolerance than the differences: different again.
        #expect(try DiffSupport.cli([tmp + "/a", tmp + "/b", "--numeric-tolerance", "1e-16"]).status == 3)
    }

    @Test func numberTokensSkipIdentifiers() {
        let t = NumericCompare.tokens("x86_64 v1.2 a=-3.5e-2,7 sha256 .5")
        let numbers = t.compactMap { if case let .number(v, _) = $0 { v } else { nil } }
        #expect(numbers == [-3.5e-2, 7, 0.5])
        #expect(NumericCompare.equalWithin(1e-10, "1.0", "1.00") == 0)
        #expect(NumericCompare.equalWithin(0.1, "x1", "x2") == nil)
        // Absolute below 1, relative above.
        #expect(NumericCompare.equalWithin(1e-3, "0.0001", "0.0009") != nil)
        #expect(NumericCompare.equalWithin(1e-3, "1000", "1000.9") != nil)
        #expect(NumericCompare.equalWithin(1e-3, "1000", "1001.1") == nil)
    }
}
