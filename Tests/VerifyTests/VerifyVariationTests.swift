import Build
import Core
import Foundation
import TestKit
import Testing
@testable import Verify

/// How variation lists are read and what a varied build N gets.
@Suite(.tags(.unit)) struct VerifyVariationTests {
    @Test func listsAreReadWithAllNoneAndRemoval() throws {
        #expect(try Variation.parseList("all") == Variation.allCases)
        #expect(try Variation.parseList("none").isEmpty)
        #expect(try Variation.parseList("all,-aslr,-kernel").count == Variation.allCases.count - 2)
        #expect(try Variation.parseList("umask, hostname,umask") == [.hostname, .umask])
        #expect(throws: ReproError.self) { try Variation.parseList("hostname,clock") }
    }

    @Test func eachRunGetsItsOwnValues() throws {
        var host = VariationHost(scratch: "/tmp/scratch")
        host.cpus = 4
        host.libfaketime = "/usr/lib/libfaketime.so.1"
        host.otherFilesystem = "/dev/shm"
        host.machine = "x86_64"
        let (one, notes) = VariationPlan.variant(Variation.allCases, run: 1, host: host, buildsAsRoot: false, fixedJobs: nil)
        let (two, _) = VariationPlan.variant(Variation.allCases, run: 2, host: host, buildsAsRoot: false, fixedJobs: nil)
        #expect(notes.isEmpty)
        #expect(one.hostname == "repro-variant-1" && two.hostname == "repro-variant-2")
        #expect(one.uid == 1001 && two.uid == 1002)
        #expect(one.umask == 0o002 && two.umask == 0o027)
        #expect(one.timeOffset == 398 * 86400 && one.fakeTime?.spec == "+398d")
        #expect(one.cpuAffinity == "0")
        #expect(one.environment.contains { $0 == ("REPRO_JOBS", "1") })
        #expect(one.personality == ["addr-no-randomize", "uname26", "linux32"])
        #expect(one.tmpParent?.hasPrefix("/dev/shm/repro-verify-") == true)
        #expect(one.tmpParent?.contains("build-path-1") == true)
        #expect(one.reverseDirectoryOrder)
        let tz = one.environment.first { $0.key == "TZ" }?.value, tz2 = two.environment.first { $0.key == "TZ" }?.value
        #expect(tz != nil && tz2 != nil && tz != tz2)
    }

    @Test func whatCannotBeVariedIsNoted() throws {
        var host = VariationHost(scratch: "/tmp/scratch")
        host.cpus = 1
        host.libfaketime = nil
        host.otherFilesystem = nil
        host.machine = "riscv64"
        let (v, notes) = VariationPlan.variant([.time, .user, .cpus, .kernel, .fileOrder], run: 1, host: host,
                                              buildsAsRoot: true, fixedJobs: nil)
        #expect(v.fakeTime == nil && v.timeOffset > 0)
        #expect(v.uid == nil)
        #expect(v.cpuAffinity == nil && v.environment.contains { $0 == ("REPRO_JOBS", "2") })
        #expect(v.personality == ["uname26"])
        #expect(v.tmpParent == nil && v.reverseDirectoryOrder)
        for word in ["libfaketime", "root", "one CPU", "riscv64", "tmpfs"] {
            #expect(notes.contains { $0.contains(word) }, "no note about \(word): \(notes)")
        }
    }

    @Test func reorderedDirectoriesListInReverseNameOrderOnTmpfs() throws {
        try #require(FileManager.default.isWritableFile(atPath: "/dev/shm"), "needs a writable tmpfs at /dev/shm")
        let dir = "/dev/shm/repro-reorder-test-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        for n in ["c", "a", "d", "b"] {
            #expect(FileManager.default.createFile(atPath: dir + "/sub/" + n, contents: Data(n.utf8)))
        }
        try BuildVariant.reverseDirectoryOrder(dir)
        #expect(try BuildVariant.readdirOrder(dir + "/sub") == ["d", "c", "b", "a"])
        #expect(try String(contentsOfFile: dir + "/sub/c", encoding: .utf8) == "c")
    }
}
