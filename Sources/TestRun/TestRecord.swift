import Core
import Foundation

/// What one test execution ended as. `timeout` and `crashed` are set by the runner (a
/// test past its timeout, a test that took its process down); the rest by the adapter.
public enum TestVerdict: String, Codable, Sendable, CaseIterable {
    case pass, fail, error, skip, timeout, crashed
    /// Left out by `--select`: not run; its row carries the predicted probability.
    case notSelected = "not-selected"

    /// Counts as the test finding a problem (ranking, exit status).
    public var isFailure: Bool { self != .pass && self != .skip && self != .notSelected }
}

/// One test as an adapter lists it: a stable id (pytest node id, ctest name) and the
/// source file that holds it, when known.
public struct TestCase: Codable, Sendable, Equatable, Hashable {
    public var id: String
    public var file: String?
    public init(id: String, file: String? = nil) { self.id = id; self.file = file }
}

/// One finished test execution, as the adapters report it inside the sandbox (a
/// `result` line of the record stream) and as telemetry stores it.
/// Times in milliseconds; `nil` where the adapter cannot measure (JUnit import has no
/// CPU or RSS).
public struct TestResult: Codable, Sendable, Equatable {
    public var id: String
    public var file: String?
    public var verdict: TestVerdict
    public var wallMs: Double
    public var setupMs: Double?
    public var callMs: Double?
    public var teardownMs: Double?
    public var userMs: Double?
    public var sysMs: Double?
    public var maxRssKb: Int64?
    public var exitStatus: Int32?
    public var signal: Int32?
    /// The failure's short text (at most `TestRecord.messageLimit` bytes).
    public var message: String?

    public init(id: String, file: String? = nil, verdict: TestVerdict, wallMs: Double, setupMs: Double? = nil,
                callMs: Double? = nil, teardownMs: Double? = nil, userMs: Double? = nil, sysMs: Double? = nil,
                maxRssKb: Int64? = nil, exitStatus: Int32? = nil, signal: Int32? = nil, message: String? = nil) {
        self.id = id; self.file = file; self.verdict = verdict; self.wallMs = wallMs
        self.setupMs = setupMs; self.callMs = callMs; self.teardownMs = teardownMs
        self.userMs = userMs; self.sysMs = sysMs; self.maxRssKb = maxRssKb
        self.exitStatus = exitStatus; self.signal = signal; self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case id, file, verdict, message, signal
        case wallMs = "wall_ms", setupMs = "setup_ms", callMs = "call_ms", teardownMs = "teardown_ms"
        case userMs = "user_ms", sysMs = "sys_ms", maxRssKb = "max_rss_kb", exitStatus = "exit_status"
    }
}

/// The record stream: what an adapter writes inside the sandbox, one JSON object per
/// line, to `$REPRO_TEST_DIR/records.jsonl` (a writable host directory bound at
/// `/run/repro`), flushing after each line so repro can commit every test as it ends.
///
/// ```
/// {"event":"collected","tests":[{"id":"tests/test_a.py::test_x","file":"tests/test_a.py"}, ...]}
/// {"event":"start","id":"tests/test_a.py::test_x","pos":0,"t":1733491234.5}
/// {"event":"result","id":"...","file":"...","verdict":"pass","wall_ms":1.2,"user_ms":1.0, ...}
/// {"event":"missing","id":"..."}          an id in the order that was not collected
/// {"event":"done"}
/// ```
/// `pos` is the 0-based position in the executed order. A `start` without its `result`
/// when the process ends means the test took the process down (`crashed`), or was
/// killed by the runner at its timeout (`timeout`).
public enum TestRecord: Sendable, Equatable {
    case collected([TestCase])
    case start(id: String, position: Int)
    case result(TestResult)
    case missing(id: String)
    case done

    /// Longest failure message kept per test.
    public static let messageLimit = 4096
    /// Longest record line accepted; a longer line is a broken adapter.
    public static let lineLimit = 1 << 24

    /// The Unix time a `start` record carries (`"t"`, written in the sandbox when the
    /// test began), or nil. Faults injected from then on happened during that test.
    public static func startTime(_ line: Substring) -> Double? {
        struct Stamp: Decodable { var t: Double? }
        return (try? JSONDecoder().decode(Stamp.self, from: Data(line.utf8)))?.t
    }

    /// Parses one line of the record stream.
    /// - Throws: `ReproError(.internal)` naming the line when it is not a record.
    public static func parse(_ line: Substring) throws -> TestRecord {
        struct Head: Decodable { var event: String; var id: String?; var pos: Int?; var tests: [TestCase]? }
        let data = Data(line.utf8)
        guard data.count <= lineLimit else {
            throw ReproError(.internal, "test record of \(data.count) bytes is over the \(lineLimit)-byte limit")
        }
        do {
            let head = try JSONDecoder().decode(Head.self, from: data)
            switch head.event {
            case "collected": return .collected(head.tests ?? [])
            case "start":
                guard let id = head.id else { break }
                return .start(id: id, position: head.pos ?? -1)
            case "result": return .result(try JSONDecoder().decode(TestResult.self, from: data))
            case "missing":
                guard let id = head.id else { break }
                return .missing(id: id)
            case "done": return .done
            default: break
            }
        } catch {
            throw ReproError(.internal, "unreadable test record (\(error)): \(line.prefix(200))")
        }
        throw ReproError(.internal, "unknown test record: \(line.prefix(200))")
    }
}
