import Core
import Foundation
import TestKit
import Testing
@testable import Fetch

@Suite(.tags(.unit)) struct DebianSourceTests {
    typealias M = ArchiveMaker

    @Test func unpacksQuiltSourceWithoutApplyingPatches() throws {
        let t = try TempDir("dsrc")
        defer { t.cleanup() }
        try Data("""
            -----BEGIN PGP SIGNED MESSAGE-----
            Hash: SHA512

            Format: 3.0 (quilt)
            Source: pkg
            Version: 1.0-1
            -----BEGIN PGP SIGNATURE-----
            xyz
            -----END PGP SIGNATURE-----
            """.utf8).write(to: URL(fileURLWithPath: t.sub("pkg_1.0-1.dsc")))
        try M.tar([M.dir("pkg-1.0/"), M.file("pkg-1.0/configure", "#!/bin/sh\n", mode: 0o755)],
                  at: t.sub("pkg_1.0.orig.tar.gz"), compression: .gzip)
        try M.tar([M.dir("pkg-1.0/"), M.file("pkg-1.0/extra.c")], at: t.sub("pkg_1.0.orig-docs.tar.gz"), compression: .gzip)
        try M.tar([M.dir("debian/"), M.file("debian/changelog", """
                    pkg (1.0-1) unstable; urgency=medium

                      * Initial release.

                     -- Jane Doe <jane@example.org>  Thu, 02 Feb 2023 12:00:00 +0100

                    pkg (0.9-1) unstable; urgency=medium

                     -- Jane Doe <jane@example.org>  Mon, 2 Jan 2023 12:00:00 +0000
                    """),
                   M.dir("debian/patches/"), M.file("debian/patches/series", "01-fix.patch\n# skipped\n02-more.patch -p1\n"),
                   M.file("debian/patches/01-fix.patch", "")],
                  at: t.sub("pkg_1.0-1.debian.tar.xz"), compression: .xz)
        let files = ["pkg_1.0-1.dsc", "pkg_1.0.orig.tar.gz", "pkg_1.0.orig-docs.tar.gz", "pkg_1.0-1.debian.tar.xz"].map(t.sub)
        let out = t.sub("src")
        let u = try DebianSource.unpack(files, into: out)
        #expect(u.format == "3.0 (quilt)")
        #expect(u.patches == ["debian/patches/01-fix.patch", "debian/patches/02-more.patch"])
        #expect(listTree(out) == ["configure", "debian", "debian/changelog", "debian/patches", "debian/patches/01-fix.patch",
                                  "debian/patches/series", "docs", "docs/extra.c"])
        #expect(try DebianSource.changelogEpoch(out) == 1_675_335_600)
        #expect(throws: ReproError.self) { try DebianSource.changelogEpoch(t.path) }
    }

    @Test func seriesCannotPointOutside() throws {
        let t = try TempDir("dsrc")
        defer { t.cleanup() }
        try Data("Format: 3.0 (quilt)\n".utf8).write(to: URL(fileURLWithPath: t.sub("p_1-1.dsc")))
        try M.tar([M.file("p-1/a")], at: t.sub("p_1.orig.tar.gz"), compression: .gzip)
        try M.tar([M.file("debian/patches/series", "../../etc/x\n")], at: t.sub("p_1-1.debian.tar.xz"), compression: .xz)
        #expect(throws: ReproError.self) {
            try DebianSource.unpack(["p_1-1.dsc", "p_1.orig.tar.gz", "p_1-1.debian.tar.xz"].map(t.sub), into: t.sub("src"))
        }
    }
}
