import Foundation
import TestKit
import Testing
@testable import TestRun

/// What repro reads on the host from a finished suite's tree: only regular files
/// reached through real directories, so a suite cannot point repro at a host file
/// through a symlink, block it on a FIFO, or climb out with `..`.
@Suite(.tags(.unit)) struct HostReadTests {
    @Test func onlyRegularFilesThroughRealDirectories() throws {
        let dir = try TestKit.tempDir("hostread")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/t/sub", withIntermediateDirectories: true)
        try "<testsuite/>".write(toFile: dir + "/t/sub/report.xml", atomically: true, encoding: .utf8)
        #expect(symlink("/etc/passwd", dir + "/t/evil.xml") == 0)
        #expect(symlink("/etc", dir + "/t/etc") == 0)
        #expect(mkfifo(dir + "/t/fifo.xml", 0o644) == 0)
        #expect(HostRead.regularFile(under: dir + "/t", "sub/report.xml") == dir + "/t/sub/report.xml")
        #expect(HostRead.find(under: dir + "/t", "evil.xml") == .shadowed)       // a symlink to a host file
        #expect(HostRead.find(under: dir + "/t", "etc/passwd") == .shadowed)     // through a symlinked directory
        #expect(HostRead.find(under: dir + "/t", "fifo.xml") == .shadowed)       // would block an open(2)
        #expect(HostRead.find(under: dir + "/t", "../t/sub/report.xml") == .shadowed)
        #expect(HostRead.find(under: dir + "/t", "sub") == .shadowed)            // a directory
        #expect(HostRead.find(under: dir + "/t", "nope/report.xml") == .absent)
    }

    @Test func theOverlaysUpperLayerShadowsThePristineTree() throws {
        let dir = try TestKit.tempDir("hostread-overlay")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for d in ["lower/a", "lower/b", "state/upper/b"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + d, withIntermediateDirectories: true)
        }
        for f in ["lower/a/old.xml", "lower/b/gone.xml", "lower/b/kept.xml", "state/upper/b/new.xml"] {
            try f.write(toFile: dir + "/" + f, atomically: true, encoding: .utf8)
        }
        #expect(mknod(dir + "/state/upper/b/gone.xml", S_IFCHR, 0) == 0)  // overlayfs's whiteout
        let work = TestWorktree(base: dir + "/lower", state: dir + "/state")
        #expect(work.readPath("a/old.xml") == dir + "/lower/a/old.xml")        // untouched: the pristine copy
        #expect(work.readPath("b/new.xml") == dir + "/state/upper/b/new.xml")  // written by the suite
        #expect(work.readPath("b/kept.xml") == dir + "/lower/b/kept.xml")
        #expect(work.readPath("b/gone.xml") == nil)                           // deleted by the suite
        #expect(work.readPath("c/none.xml") == nil)
    }
}
