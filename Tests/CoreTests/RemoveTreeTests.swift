import Foundation
import TestKit
import Testing
@testable import Core

/// What a build can leave in its work directory, removed without following links out of
/// it: read-only and unreadable directories, names that are not UTF-8, links to the
/// outside, thousands of files.
@Test(.tags(.unit)) func removeTreeRemovesWhatABuildLeaves() throws {
    let base = NSTemporaryDirectory() + "remove-tree-\(UUID().uuidString)"
    let work = base + "/work", outside = base + "/outside"
    let fm = FileManager.default
    try fm.createDirectory(atPath: work + "/a/b/c", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: outside, withIntermediateDirectories: true)
    defer { try? fm.removeItem(atPath: base) }
    #expect(fm.createFile(atPath: outside + "/keep", contents: Data("keep".utf8)))
    for i in 0..<2000 { #expect(fm.createFile(atPath: work + "/a/f\(i)", contents: Data("\(i)".utf8))) }
    #expect(fm.createFile(atPath: work + "/a/b/c/deep", contents: nil))
    // A name that is not UTF-8 (0xff).
    let odd: [CChar] = Array((work + "/a/").utf8CString.dropLast()) + [CChar(bitPattern: 0xff), 0]
    let fd = open(odd, O_CREAT | O_WRONLY, 0o644)
    #expect(fd >= 0)
    close(fd)
    // Links to the outside, to a file and to a directory: removed, not followed.
    #expect(symlink(outside, work + "/a/dirlink") == 0)
    #expect(symlink(outside + "/keep", work + "/filelink") == 0)
    // A read-only directory and an unreadable one.
    #expect(chmod(work + "/a/b/c", 0o555) == 0)
    #expect(chmod(work + "/a/b", 0o000) == 0)

    try RemoveTree.remove(work)
    #expect(!fm.fileExists(atPath: work))
    #expect(try String(contentsOfFile: outside + "/keep", encoding: .utf8) == "keep")
    // Missing is fine; a plain file goes too.
    try RemoveTree.remove(work)
    try RemoveTree.remove(outside + "/keep")
    #expect(!fm.fileExists(atPath: outside + "/keep"))
}
