import Foundation
import TestKit
import Testing
@testable import Core

/// Core's one way to run a program, its one syscall wrapper and its file lock, and the
/// test harness's own runner, each against the real thing.
@Suite(.tags(.unit)) struct CommandTests {
    @Test func capturesStdoutStderrAndStatus() throws {
        let out = try Command(executable: "/bin/sh", arguments: ["-c", "printf out; printf err >&2; exit 3"]).run()
        #expect(out.status == 3)
        #expect(out.stdout == "out")
        #expect(out.stderr == "err")
    }

    @Test func stdinEnvironmentAndDirectoryReachTheChild() throws {
        let dir = try TestKit.tempDir("core-cmd")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try Command(executable: "/bin/sh", arguments: ["-c", "cat; printf ' %s %s' \"$CORE_TEST\" \"$(pwd)\""],
                              environment: ["CORE_TEST": "v"], directory: dir, stdin: Data("in".utf8)).run()
        #expect(out.stdout == "in v \(dir)")
    }

    /// A child that writes a MiB to each stream at once does not block on either.
    @Test(.timeLimit(.minutes(1))) func aMiBOnBothStreams() throws {
        let out = try Command(executable: "/bin/sh", arguments: ["-c", "head -c 1048576 /dev/zero >&2; head -c 1048576 /dev/zero"]).run()
        #expect(out.status == 0)
        #expect(out.stdoutData.count == 1 << 20)
        #expect(out.stderr.utf8.count == 1 << 20)
    }

    @Test func checkNamesTheCommandAndQuotesItsErrors() throws {
        #expect {
            try Command(executable: "/bin/sh", arguments: ["-c", "echo one >&2; echo 'E: the reason' >&2; exit 100"]).check("the step")
        } throws: { e in
            let e = e as? ReproError
            return e?.code == .system && e?.message == "the step failed (sh exited 100): E: the reason"
        }
    }

    @Test func aMissingProgramIsASystemErrorNamingIt() throws {
        #expect { try Command(executable: "/nonexistent/prog", arguments: []).run() } throws: { e in
            let e = e as? ReproError
            return e?.code == .system && e?.message.contains("/nonexistent/prog") == true
        }
        #expect(throws: ReproError.self) { try Command.find("no-such-program-repro") }
        #expect(try Command.find("sh").hasSuffix("/sh"))
    }

    @Test func summaryPrefersAptErrorLines() {
        #expect(Command.summary("a\nE: one\nb\nE: two\n") == "E: one; E: two")
        #expect(Command.summary("1\n2\n3\n4\n") == "2; 3; 4")
        #expect(Command.summary("") == "no error output")
    }
}

@Suite(.tags(.unit)) struct SyscallTests {
    @Test func returnsTheResultOnSuccess() throws {
        #expect(try Syscall.check("getpid") { getpid() } == getpid())
    }

    @Test func aFailureNamesTheCallAndErrno() throws {
        #expect { try Syscall.check("open /nonexistent/x") { open("/nonexistent/x", O_RDONLY) } } throws: { e in
            let e = e as? ReproError
            return e?.code == .system && e?.message.contains("open /nonexistent/x") == true
                && e?.message.contains(Syscall.errorString(ENOENT)) == true
        }
    }

    /// EINTR is retried: a call interrupted once by a signal succeeds the second time.
    @Test func retriesEINTR() throws {
        var calls = 0
        let r = try Syscall.check("fake") { () -> Int32 in
            calls += 1
            if calls == 1 { errno = EINTR; return -1 }
            return 7
        }
        #expect(r == 7 && calls == 2)
    }

    /// A full disk is not a bug: exit 1 with what to do.
    @Test func aFullDiskSaysWhatToDo() throws {
        #expect { try Syscall.check("write x") { () -> Int32 in errno = ENOSPC; return -1 } } throws: { e in
            let e = e as? ReproError
            return e?.code == .failed && e?.message.contains("free space") == true
        }
    }
}

@Suite(.tags(.unit)) struct FileLockTests {
    func path() throws -> String { try TestKit.tempDir("core-lock") + "/lock" }

    /// flock(2) locks through different descriptors exclude each other in one process.
    @Test func exclusiveExcludesAndSharedShares() throws {
        let p = try path()
        defer { try? FileManager.default.removeItem(atPath: (p as NSString).deletingLastPathComponent) }
        func tryLock(_ op: Int32) -> Bool {
            let fd = open(p, O_RDWR | O_CLOEXEC)
            defer { close(fd) }
            return flock(fd, op | LOCK_NB) == 0
        }
        let ex = try FileLock(p, exclusive: true)
        #expect(!tryLock(LOCK_SH))
        ex.unlock()
        #expect(tryLock(LOCK_EX))
        let sh = try FileLock(p, exclusive: false)
        #expect(tryLock(LOCK_SH))
        #expect(!tryLock(LOCK_EX))
        sh.unlock()
        // `with` holds it for the body only.
        let held = try FileLock.with(p, exclusive: true) { !tryLock(LOCK_SH) }
        #expect(held)
        #expect(tryLock(LOCK_EX))
    }

    @Test func aLockThatCannotBeOpenedNamesThePath() throws {
        #expect { try FileLock("/nonexistent/dir/lock", exclusive: true) } throws: { e in
            (e as? ReproError)?.message.contains("/nonexistent/dir/lock") == true
        }
    }
}

@Suite(.tags(.unit)) struct TestKitTests {
    /// The harness drains both pipes at once: a MiB to stderr first, then to stdout,
    /// used to fill the stderr pipe while it read stdout and block for ever.
    @Test(.timeLimit(.minutes(1))) func aMiBOnBothStreams() throws {
        let r = try TestKit.run(["/bin/sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' e >&2; head -c 1048576 /dev/zero | tr '\\0' o"])
        #expect(r.status == 0)
        #expect(r.stdout.count == 1 << 20 && r.stdout.allSatisfy { $0 == UInt8(ascii: "o") })
        #expect(r.stderr.utf8.count == 1 << 20 && r.stderr.utf8.allSatisfy { $0 == UInt8(ascii: "e") })
    }
}
