import Core
import Foundation
import TestKit
import Testing
@testable import Fetch

/// Crafted archives: every unsafe member is refused or neutralised and nothing is
/// written outside the root.
@Suite(.tags(.unit)) struct ExtractTests {
    typealias M = ArchiveMaker

    /// Extracts `entries` (as a tar) into a fresh root inside a fresh sandbox directory
    /// and returns (sandbox, root, result).
    func run(_ entries: [M.Entry], options: ExtractOptions = ExtractOptions(),
             prepare: (String, String) throws -> Void = { _, _ in }) throws -> (TempDir, String, Result<ExtractReport, ReproError>) {
        let t = try TempDir("extract")
        let root = t.sub("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try prepare(t.path, root)
        let tarPath = t.sub("in.tar")
        try M.tar(entries, at: tarPath)
        let result: Result<ExtractReport, ReproError>
        do { result = .success(try Extract.archive(tarPath, into: root, options: options)) } catch let e as ReproError {
            result = .failure(e)
        }
        return (t, root, result)
    }

    func refused(_ result: Result<ExtractReport, ReproError>, _ fragment: String) -> Bool {
        guard case .failure(let e) = result else { return false }
        return e.code == .invalidInput && e.message.contains(fragment) && e.message.contains("in.tar")
    }

    @Test func ordinaryTreeWithStripComponents() throws {
        let (t, root, result) = try run([
            M.dir("hello-2.10/"), M.dir("hello-2.10/src/"),
            M.file("hello-2.10/src/hello.c", "int main(){}\n"),
            M.file("hello-2.10/configure", "#!/bin/sh\n", mode: 0o755),
            M.symlink("hello-2.10/src/link.c", "hello.c"),
            M.hardlink("hello-2.10/src/same.c", "hello-2.10/src/hello.c"),
            M.file("top-level-file"),
        ], options: ExtractOptions(stripComponents: 1))
        defer { t.cleanup() }
        let report = try result.get()
        #expect(listTree(root) == ["configure", "src", "src/hello.c", "src/link.c", "src/same.c"])
        #expect(try String(contentsOfFile: root + "/src/link.c", encoding: .utf8) == "int main(){}\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/src/link.c") == "hello.c")
        #expect(report.files == 2 && report.symlinks == 1 && report.hardlinks == 1)
        var st = stat()
        #expect(stat(root + "/configure", &st) == 0 && st.st_mode & 0o777 == 0o755)
        #expect(st.st_mtim.tv_sec == 1_700_000_000)
        var a = stat(), b = stat()
        _ = stat(root + "/src/hello.c", &a); _ = stat(root + "/src/same.c", &b)
        #expect(a.st_ino == b.st_ino)
    }

    @Test func mtimesAreClamped() throws {
        let (t, root, result) = try run([M.file("a")], options: ExtractOptions(clampMtime: 1_000))
        defer { t.cleanup() }
        _ = try result.get()
        var st = stat()
        #expect(stat(root + "/a", &st) == 0 && st.st_mtim.tv_sec == 1_000)
    }

    @Test func absolutePathIsRefused() throws {
        let outside = NSTemporaryDirectory() + "repro-abs-\(UUID().uuidString)"
        let (t, _, result) = try run([M.file("ok"), M.file(outside)])
        defer { t.cleanup() }
        #expect(refused(result, "absolute path"))
        #expect(!FileManager.default.fileExists(atPath: outside))
    }

    @Test func dotDotIsRefused() throws {
        let (t, root, result) = try run([M.file("a/../../escaped")])
        defer { t.cleanup() }
        #expect(refused(result, "'..'"))
        #expect(!FileManager.default.fileExists(atPath: t.sub("escaped")))
        #expect(listTree(root).isEmpty)
    }

    @Test func symlinkToEtcThenMemberThroughItIsRefused() throws {
        let passwd = try Digest.ofFile("/etc/passwd")
        // Source archives: the absolute link itself is refused.
        let (t1, root1, r1) = try run([M.symlink("link", "/etc"), M.file("link/passwd", "evil\n")])
        defer { t1.cleanup() }
        #expect(refused(r1, "absolute path /etc"))
        #expect(!FileManager.default.fileExists(atPath: root1 + "/link"))
        // Debian-style (links relative to the root): the link stays inside and the member
        // written through it is refused; it never reaches /etc/passwd.
        let (t2, root2, r2) = try run([M.symlink("link", "/etc"), M.file("link/passwd", "evil\n")],
                                      options: ExtractOptions(absoluteSymlinks: .relativeToRoot))
        defer { t2.cleanup() }
        #expect(refused(r2, "symlink"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root2 + "/link") == "etc")
        #expect(!FileManager.default.fileExists(atPath: root2 + "/etc/passwd"))
        #expect(try Digest.ofFile("/etc/passwd") == passwd)
    }

    @Test func relativeSymlinkLeavingTheRootIsRefused() throws {
        let (t, root, result) = try run([M.dir("d/"), M.symlink("d/up", "../../outside")])
        defer { t.cleanup() }
        #expect(refused(result, "leaves the root"))
        #expect(!FileManager.default.fileExists(atPath: root + "/d/up"))
        // Inside the root is fine.
        let (t2, root2, r2) = try run([M.dir("d/"), M.symlink("d/up", "../x")])
        defer { t2.cleanup() }
        _ = try r2.get()
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root2 + "/d/up") == "../x")
    }

    @Test func existingSymlinkInRootIsNeverFollowed() throws {
        // A link planted in the root before extraction (pointing outside) is neither
        // written through nor followed when a member of the same name replaces it.
        var outside = ""
        let (t, root, result) = try run([M.file("planted/x", "evil\n")]) { sandbox, root in
            outside = sandbox + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root + "/planted", withDestinationPath: outside)
            try FileManager.default.createSymbolicLink(atPath: root + "/victim", withDestinationPath: outside + "/target")
            try Data("keep\n".utf8).write(to: URL(fileURLWithPath: outside + "/target"))
        }
        defer { t.cleanup() }
        #expect(refused(result, "'planted', which is a symlink"))
        #expect(listTree(outside) == ["target"])

        let tarPath = t.sub("replace.tar")
        try M.tar([M.file("victim", "new\n")], at: tarPath)
        try Extract.archive(tarPath, into: root)
        #expect(try String(contentsOfFile: outside + "/target", encoding: .utf8) == "keep\n")
        #expect(try String(contentsOfFile: root + "/victim", encoding: .utf8) == "new\n")
    }

    @Test func hardlinkToEtcShadowIsRefused() throws {
        let (t, root, result) = try run([M.hardlink("shadow", "/etc/shadow")])
        defer { t.cleanup() }
        #expect(refused(result, "hard link to the absolute path /etc/shadow"))
        #expect(listTree(root).isEmpty)
        let (t2, _, r2) = try run([M.hardlink("x", "../../etc/shadow")])
        defer { t2.cleanup() }
        #expect(refused(r2, "'..'"))
        let (t3, _, r3) = try run([M.hardlink("x", "not-there")])
        defer { t3.cleanup() }
        #expect(refused(r3, "not a regular file"))
    }

    @Test func devicesAndFifosAreRefused() throws {
        let (t, root, result) = try run([M.Entry(path: "null", kind: .charDevice, mode: 0o666)])
        defer { t.cleanup() }
        #expect(refused(result, "device node"))
        #expect(listTree(root).isEmpty)
        let (t2, _, r2) = try run([M.Entry(path: "pipe", kind: .fifo, mode: 0o644)])
        defer { t2.cleanup() }
        #expect(refused(r2, "fifo"))
    }

    @Test func setuidAndSetgidBitsAreCleared() throws {
        let (t, root, result) = try run([M.file("suid", "x", mode: 0o4755), M.file("sgid", "x", mode: 0o2755),
                                         M.Entry(path: "sticky/", kind: .dir, mode: 0o1777)])
        defer { t.cleanup() }
        let report = try result.get()
        #expect(report.clearedSetID.sorted() == ["sgid", "suid"])
        var st = stat()
        #expect(stat(root + "/suid", &st) == 0 && st.st_mode & 0o7777 == 0o755)
        #expect(stat(root + "/sgid", &st) == 0 && st.st_mode & 0o7777 == 0o755)
        #expect(stat(root + "/sticky", &st) == 0 && st.st_mode & 0o7777 == 0o1777)
    }

    @Test func debDataIsExtractedMergedUsrWithoutScripts() throws {
        let t = try TempDir("deb")
        defer { t.cleanup() }
        let deb = t.sub("crafted.deb")
        try M.deb([M.dir("./"), M.dir("./bin/"), M.file("./bin/tool", "#!/bin/sh\n", mode: 0o755),
                   M.dir("./lib64/"), M.symlink("./lib64/ld.so", "/lib/x86_64-linux-gnu/ld.so"),
                   M.dir("./lib/"), M.dir("./lib/x86_64-linux-gnu/"), M.file("./lib/x86_64-linux-gnu/ld.so"),
                   M.symlink("./bin/rel", "../usr/share/x"),
                   M.dir("./usr/"), M.dir("./usr/share/"), M.file("./usr/share/x"),
                   M.symlink("./sbin", "usr/sbin"), M.symlink("./lib32", "/usr/lib32")], at: deb)
        let root = t.sub("root")
        let report = try Extract.deb(deb, into: root)
        #expect(report.files == 3)
        #expect(listTree(root).contains("usr/bin/tool"))
        #expect(!FileManager.default.fileExists(atPath: root + "/bin"))
        // Merged-usr links shipped by the package are left to the root's layout.
        #expect(!FileManager.default.fileExists(atPath: root + "/sbin") && !FileManager.default.fileExists(atPath: root + "/usr/sbin"))
        #expect(!FileManager.default.fileExists(atPath: root + "/usr/lib32"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/lib64/ld.so") == "../lib/x86_64-linux-gnu/ld.so")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/bin/rel") == "../share/x")
        #expect(FileManager.default.fileExists(atPath: root + "/usr/bin/rel"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/repro-postinst-ran"))
        #expect(!listTree(root).contains { $0.contains("postinst") || $0.contains("control") })
    }

    @Test func notADebIsRefused() throws {
        let t = try TempDir("deb")
        defer { t.cleanup() }
        try M.tar([M.file("a")], at: t.sub("x.deb"))
        #expect(throws: ReproError.self) { try Extract.deb(t.sub("x.deb"), into: t.sub("root")) }
    }

    @Test func truncatedArchiveIsAnError() throws {
        let t = try TempDir("trunc")
        defer { t.cleanup() }
        let big = String((0..<200_000).map { _ in "abcdefghij".randomElement()! })
        try M.tar([M.file("big", big)], at: t.sub("a.tar.gz"), compression: .gzip)
        let data = try Data(contentsOf: URL(fileURLWithPath: t.sub("a.tar.gz")))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: t.sub("cut.tar.gz")))
        #expect { try Extract.archive(t.sub("cut.tar.gz"), into: t.sub("root")) } throws: { e in
            (e as? ReproError)?.code == .invalidInput && (e as? ReproError)?.message.contains("cut.tar.gz") == true
        }
    }

    @Test func relativePaths() {
        #expect(Extract.relative(from: ["usr", "lib64"], to: ["usr", "lib", "ld"]) == "../lib/ld")
        #expect(Extract.relative(from: [], to: ["etc"]) == "etc")
        #expect(Extract.relative(from: ["a"], to: ["a"]) == ".")
    }
}
