import Core
import TestKit
import Testing
@testable import Rank

private let header = "Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle"

private func invalidInput(_ body: () throws -> Void) -> ReproError? {
    do {
        try body()
    } catch let error as ReproError {
        return error
    } catch {
        return nil
    }
    return nil
}

@Suite(.tags(.unit)) struct ImporterTests {
    @Test func retecsGroupsCyclesInOrder() throws {
        let text = """
        \(header)
        1;10;5;0;2015-01-01 00:00:00;[];1;2
        2;11;7;0;2015-01-01 00:00:00;[1];0;1
        3;10;6;0;2015-01-02 00:00:00;[];0;2

        """
        let history = try HistoryImporter.parse(text, format: .retecs, name: "h.csv")
        #expect(history.runs.map(\.id) == ["1", "2"])
        #expect(history.runs[1].executions.map(\.test) == ["10", "10"])
        #expect(history.runs[1].executions.map(\.verdict) == [.fail, .pass])
        #expect(history.runs[0].executions[0].duration == 7)
        #expect(history.runs[0].changedFiles == nil)
    }

    @Test(arguments: [
        ("1;10;5;0;x;[];2;1", "Verdict"),
        ("1;10;abc;0;x;[];1;1", "Duration"),
        ("1;10;5;0;x;[];1;one", "Cycle"),
        ("1;10;5;0;x;[];1", "expected 8"),
    ])
    func retecsErrorsNameTheLine(row: String, what: String) {
        let text = "\(header)\n1;9;5;0;x;[];0;1\n\(row)\n"
        let error = invalidInput { _ = try HistoryImporter.parse(text, format: .retecs, name: "h.csv") }
        #expect(error?.code == .invalidInput)
        #expect(error?.code.exitStatus == 2)
        #expect(error?.message.hasPrefix("h.csv:3: ") == true)
        #expect(error?.message.contains(what) == true)
    }

    @Test func retecsRejectsWrongHeader() {
        let error = invalidInput { _ = try HistoryImporter.parse("a;b\n", format: .retecs, name: "h.csv") }
        #expect(error?.message.hasPrefix("h.csv:1: ") == true)
    }

    @Test func jsonLinesReadsRunsAndChanges() throws {
        let text = """
        {"run": "a", "test": "T/x", "verdict": "pass", "duration": 1.5, "changed_files": ["src/x.swift"], "test_file": "Tests/T.swift"}
        {"run": "a", "test": "T/y", "verdict": "error", "duration": 2, "changed_files": ["src/x.swift", "src/y.swift"]}

        {"run": "b", "test": "T/x", "verdict": "skip", "duration": 0}
        """
        let history = try HistoryImporter.parse(text, format: .jsonl, name: "h.jsonl")
        #expect(history.runs.map(\.id) == ["a", "b"])
        #expect(history.runs[0].changedFiles == ["src/x.swift", "src/y.swift"])
        #expect(history.runs[0].executions[0].testFile == "Tests/T.swift")
        #expect(history.runs[0].executions[1].verdict == .error)
        #expect(history.runs[1].changedFiles == nil)
        #expect(history.runs[1].failureCount == 0)
    }

    @Test(arguments: [
        (#"{"run": "a", "test": "t", "verdict": "boom", "duration": 1}"#, "verdict"),
        (#"{"run": "a", "verdict": "pass", "duration": 1}"#, "test"),
        (#"{"run": "a", "test": "t", "verdict": "pass", "duration": "1"}"#, "duration"),
        (#"{"run": "a", "test": "t", "verdict": "pass", "duration": -1}"#, "duration"),
        ("not json", "JSON"),
    ])
    func jsonLinesErrorsNameTheLine(line: String, what: String) {
        let text = "{\"run\": \"a\", \"test\": \"t\", \"verdict\": \"pass\", \"duration\": 1}\n\(line)\n"
        let error = invalidInput { _ = try HistoryImporter.parse(text, format: .jsonl, name: "h.jsonl") }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasPrefix("h.jsonl:2: ") == true)
        #expect(error?.message.contains(what) == true)
    }

    @Test func missingFileIsInvalidInput() {
        let error = invalidInput { _ = try HistoryImporter.load(path: "/nonexistent/h.csv", format: .retecs) }
        #expect(error?.code == .invalidInput)
    }
}

@Suite(.tags(.unit)) struct RetecsHeaderTests {
    @Test func columnsByNameInAnyOrderWithExtraColumns() throws {
        // coleman4hcs-style: BuildId first, extra NumRan/NumErrors, LastResults last.
        let text = """
        BuildId;Verdict;Cycle;Name;NumRan;NumErrors;Duration;LastResults
        7;1;2;t1;3;1;5.5;[0, 1]
        7;0;1;t2;3;0;7;[]
        8;0;2;t2;1;0;6;[1]

        """
        let history = try HistoryImporter.parse(text, format: .retecs, name: "c.csv")
        #expect(history.runs.map(\.id) == ["1", "2"])
        #expect(history.runs[1].executions.map(\.test) == ["t1", "t2"])
        #expect(history.runs[1].executions.map(\.verdict) == [.fail, .pass])
        #expect(history.runs[1].executions[0].duration == 5.5)
        #expect(history.runs[0].executions[0].duration == 7)
    }

    @Test func commaSeparatedWithQuotedFields() throws {
        let text = #"""
        Name,Duration,LastResults,Verdict,Cycle
        "a,b",1.5,"[1, 0]",1,3
        c,2,"say ""hi""",0,3

        """#
        let history = try HistoryImporter.parse(text, format: .retecs, name: "c.csv")
        #expect(history.runs.count == 1)
        #expect(history.runs[0].executions.map(\.test) == ["a,b", "c"])
        #expect(history.runs[0].executions.map(\.verdict) == [.fail, .pass])
    }

    @Test func sameHistoryWhateverTheColumnOrder() throws {
        let a = "Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle\n1;x;2;0;t;[];1;1\n2;y;3;0;t;[];0;1\n"
        let b = "Cycle;Verdict;Duration;Name\n1;1;2;x\n1;0;3;y\n"
        #expect(try HistoryImporter.parse(a, format: .retecs, name: "a") == HistoryImporter.parse(b, format: .retecs, name: "b"))
    }

    @Test func missingColumnIsNamed() {
        let error = invalidInput {
            _ = try HistoryImporter.parse("BuildId;Name;Verdict;Cycle\n1;x;1;1\n", format: .retecs, name: "c.csv")
        }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasPrefix("c.csv:1: ") == true)
        #expect(error?.message.contains("Duration") == true)
    }

    @Test func rowWithTheWrongFieldCountNamesTheLine() {
        let error = invalidInput {
            _ = try HistoryImporter.parse("Name;Duration;Verdict;Cycle\nx;1;0;1\ny;1;0\n", format: .retecs, name: "c.csv")
        }
        #expect(error?.message.hasPrefix("c.csv:3: ") == true)
        #expect(error?.message.contains("expected 4") == true)
    }
}
