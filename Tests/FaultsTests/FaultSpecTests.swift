import Faults
import TestKit
import Testing

/// The spec language: what parses, its canonical form and launcher clauses, and the
/// column every kind of bad input is reported at.
@Suite(.tags(.sandbox))
struct FaultSpecTests {
    @Test func fullSpecParses() throws {
        let s = try FaultSpec.parse("write:EIO@10%,path=/build/,after=100 ; recv:ECONNRESET@0.2;read@0.5,delay=2ms;disk=/tmp:1m;memory=64m;cpu=0.25;clock=+1h;seed=42")
        #expect(s.seed == 42)
        #expect(s.syscalls.count == 3)
        #expect(s.syscalls[0].family == .write && s.syscalls[0].errno == "EIO" && s.syscalls[0].share == 0.1)
        #expect(s.syscalls[0].path == "/build" && s.syscalls[0].after == 100)
        #expect(s.syscalls[2].errno == nil && s.syscalls[2].delayMicroseconds == 2000)
        #expect(s.disks == [FaultSpec.Disk(path: "/tmp", bytes: 1 << 20)])
        #expect(s.memory == 64 << 20 && s.cpu == 0.25 && s.clockJump == 3600)
        #expect(s.launcherArguments() == ["--fault", "write EIO 0.1 100 0 /build", "--fault", "recv ECONNRESET 0.2 0 0",
                                          "--fault", "read - 0.5 0 2000", "--fault-seed", "42"])
        #expect(try FaultSpec.parse(s.canonical).canonical == s.canonical)
        // The recipe form: lower-case errno, ':' before the share.
        let recipe = try FaultSpec.parse("write:eio:0.1")
        #expect(recipe.syscalls[0].errno == "EIO" && recipe.syscalls[0].share == 0.1)
        // Share 1 by default; a trailing ';' is fine.
        #expect(try FaultSpec.parse("fsync:EIO;").syscalls[0].share == 1)
    }

    /// (spec, column, words the message must contain)
    static let bad: [(String, Int, String)] = [
        ("wrte:EIO@0.1", 1, "unknown syscall family 'wrte'"),
        ("write:EBADF@0.1", 7, "errno 'EBADF' is not one write can fail with"),
        ("recv:EIO", 6, "EIO"),
        ("write:EIO@1.5", 11, "outside 0..1"),
        ("write:EIO@-0.1", 11, "outside 0..1"),
        ("write:EIO@150%", 11, "outside 0..1"),
        ("write:EIO@abc", 11, "share must be a number"),
        ("seed=1; write:EIO@0.1,after=x", 29, "after takes a whole number"),
        ("recv:ECONNRESET,path=/x", 17, "sockets"),
        ("write:EIO,delay=5parsecs", 17, "not a duration"),
        ("write", 1, "needs an errno"),
        ("write:EIO;;read:EIO", 11, "empty item"),
        ("disk=/usr:1m", 6, "disk takes /tmp or /build"),
        ("cpu=0", 5, "cpu must be"),
        ("clock=-5s", 7, "forward jump"),
        ("clock=+5s@2s", 10, "only jump before the command starts"),
        ("seed=x", 6, "seed must be a whole number"),
        ("", 1, "empty item"),
        ("seed=3", 1, "injects nothing"),
        ("write:EIO,colour=red", 11, "unknown option 'colour'"),
    ]

    @Test(arguments: 0..<bad.count)
    func badSpecNamesTheColumn(_ i: Int) {
        let (text, column, words) = Self.bad[i]
        #expect(throws: FaultSpec.ParseError.self) { try FaultSpec.parse(text) }
        do {
            _ = try FaultSpec.parse(text)
        } catch {
            #expect(error.column == column, "\(text): \(error)")
            #expect(error.message.contains(words), "\(text): \(error)")
            #expect(error.reproError.code.exitStatus == 2)
        }
    }

    /// The decision function: deterministic, about the share, and `after` respected.
    @Test func decisionsFollowTheSeed() throws {
        let s = try FaultSpec.parse("write:EIO@0.1;seed=7")
        let a = FaultDecision.hitCalls(s, clause: 0, count: 10_000)
        #expect(a == FaultDecision.hitCalls(s, clause: 0, count: 10_000))
        #expect(a.count > 900 && a.count < 1100, "\(a.count) of 10000 at 10%")
        let other = FaultDecision.hitCalls(try FaultSpec.parse("write:EIO@0.1;seed=8"), clause: 0, count: 10_000)
        #expect(a != other)
        let after = FaultDecision.hitCalls(try FaultSpec.parse("write:EIO@0.1,after=500;seed=7"), clause: 0, count: 10_000)
        #expect(after == a.filter { $0 > 500 })
        #expect(FaultDecision.hitCalls(try FaultSpec.parse("write:EIO@0;seed=7"), clause: 0, count: 1000).isEmpty)
    }
}
