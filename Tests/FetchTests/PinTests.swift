import Core
import Foundation
import Synchronization
import TestKit
import Testing
@testable import Fetch

/// Host source parsing, apt output parsing, pin verification, offline checks and the
/// root cache, without network.
@Suite(.tags(.unit)) struct PinTests {
    @Test func oneLineSources() {
        let s = HostSources.parseOneLine("""
            # comment
            deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian bookworm main contrib
            deb-src http://mirror.example/debian bookworm main
            deb http://mirror.example/security bookworm-security main # trailing
            """)
        #expect(s.count == 3)
        #expect(s[0].types == ["deb"] && s[0].components == ["main", "contrib"])
        #expect(s[0].signedBy == ["/usr/share/keyrings/k.gpg"] && s[0].architectures == ["amd64"])
        #expect(s[1].types == ["deb-src"])
        #expect(s[2].suites == ["bookworm-security"] && s[2].components == ["main"])
    }

    @Test func deb822Sources() {
        let s = HostSources.parseDeb822("""
            Types: deb
            # a comment inside
            URIs: http://mirror.example/debian
            Suites: bookworm bookworm-updates
            Components: main
            Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

            Types: deb
            URIs: https://disabled.example/x
            Suites: stable
            Components: main
            Enabled: no

            Types: deb deb-src
            URIs: http://inline.example/debian
            Suites: sid
            Components: main
            Signed-By:
             -----BEGIN PGP PUBLIC KEY BLOCK-----
             .
             abc
             -----END PGP PUBLIC KEY BLOCK-----
            """)
        #expect(s.count == 2)
        #expect(s[0].suites == ["bookworm", "bookworm-updates"])
        #expect(s[0].signedBy == ["/usr/share/keyrings/debian-archive-keyring.gpg"])
        #expect(s[1].types == ["deb", "deb-src"])
        #expect(s[1].signedBy.count == 1 && s[1].signedBy[0].contains("BEGIN PGP"))
        // Written back privately as deb822 with the key inline.
        #expect(s[1].deb822.contains("Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n"))
    }

    @Test func privateStateFromAFakeHost() throws {
        let t = try TempDir("fakehost")
        defer { t.cleanup() }
        let etc = t.sub("etc/apt")
        try FileManager.default.createDirectory(atPath: etc + "/sources.list.d", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: etc + "/trusted.gpg.d", withIntermediateDirectories: true)
        try Data("VERSION_CODENAME=trixie\n".utf8).write(to: URL(fileURLWithPath: t.sub("etc/os-release")))
        try Data("key".utf8).write(to: URL(fileURLWithPath: t.sub("k.gpg")))
        try Data("old".utf8).write(to: URL(fileURLWithPath: etc + "/trusted.gpg.d/old.asc"))
        try Data("""
            Types: deb
            URIs: http://mirror.example/debian
            Suites: trixie trixie-updates
            Components: main
            Signed-By: \(t.sub("k.gpg"))

            Types: deb
            URIs: http://mirror.example/debian-security
            Suites: trixie-security
            Components: main
            Signed-By: \(t.sub("k.gpg"))
            """.utf8).write(to: URL(fileURLWithPath: etc + "/sources.list.d/debian.sources"))
        try Data("deb http://third.example/apt nodistro main\n".utf8).write(to: URL(fileURLWithPath: etc + "/sources.list.d/x.list"))
        try Data("deb http://ignored.example/apt x main\n".utf8).write(to: URL(fileURLWithPath: etc + "/sources.list.d/y.list.disabled"))
        let hostBefore = fingerprint(t.sub("etc"))

        let state = try AptState(directory: t.sub("state"), hostEtc: etc, architecture: "amd64", suite: "bookworm")
        #expect(state.sources.map(\.suites) == [["bookworm", "bookworm-updates"], ["bookworm-security"], ["nodistro"]])
        #expect(state.sources.allSatisfy { $0.types == ["deb", "deb-src"] })
        let written = try String(contentsOfFile: t.sub("state/etc/sources.list.d/host.sources"), encoding: .utf8)
        #expect(written.contains("Signed-By: \(t.sub("state/keyrings/0-k.gpg"))"))
        #expect(!written.contains("ignored.example"))
        #expect(FileManager.default.contents(atPath: t.sub("state/keyrings/0-k.gpg")) == Data("key".utf8))
        #expect(FileManager.default.fileExists(atPath: t.sub("state/etc/trusted.gpg.d/old.asc")))
        #expect(try String(contentsOfFile: t.sub("state/state/status"), encoding: .utf8).isEmpty)
        let conf = try String(contentsOfFile: t.sub("state/apt.conf"), encoding: .utf8)
        #expect(conf.contains("Dir::State::status \"\(t.sub("state/state/status"))\";"))
        #expect(conf.contains("APT::Get::AllowUnauthenticated \"false\";"))
        #expect(!conf.contains("/etc/apt") && !conf.contains("/var/lib"))
        #expect(fingerprint(t.sub("etc")) == hostBefore)
        // Not updated yet: resolution says so instead of asking apt.
        #expect { try state.resolve(packages: ["make"]) } throws: { ($0 as? ReproError)?.code == .invalidInput }
        // A host without sources cannot give a private state.
        try FileManager.default.removeItem(atPath: etc + "/sources.list.d")
        #expect { try AptState(directory: t.sub("state2"), hostEtc: etc, architecture: "amd64") } throws: {
            ($0 as? ReproError)?.code == .unsupported
        }
    }

    @Test func simulationOutput() {
        let parsed = AptState.parseSimulation("""
            NOTE: This is only a simulation!
            Inst gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])
            Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64]) []
            Inst tzdata (2025b-0+deb12u1 Debian:12.15/oldstable [all])
            Conf libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])
            """)
        #expect(parsed.map(\.name) == ["gcc-12-base", "libc6", "tzdata"])
        #expect(parsed[1].version == "2.36-9+deb12u14" && parsed[1].arch == "amd64")
        #expect(parsed[2].arch == "all")
    }

    @Test func sourceURIs() throws {
        let files = try AptState.parseSourceURIs("""
            'http://mirror.example/pool/main/h/hello/hello_2.10-3.dsc' hello_2.10-3.dsc 1721 SHA256:75296f5ef618ae2f1849e22b142a2b5ab52c452ebefa4e7b0564c44617db3790
            'http://mirror.example/pool/main/h/hello/hello_2.10.orig.tar.gz' hello_2.10.orig.tar.gz 725946 SHA256:31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b
            """)
        #expect(files.map(\.name) == ["hello_2.10-3.dsc", "hello_2.10.orig.tar.gz"])
        #expect(files[1].size == 725946 && files[1].sha256.hasPrefix("31e066"))
        #expect(throws: ReproError.self) { try AptState.parseSourceURIs("'u' f 1 MD5Sum:abc\n") }
    }

    @Test func packageArgumentsCannotBeOptions() {
        #expect(throws: ReproError.self) { try AptState.checkSpec("-oDir=/") }
        #expect(throws: ReproError.self) { try AptState.checkSpec("?essential") }
        #expect(throws: ReproError.self) { try AptState.checkSpec("a b") }
        #expect((try? AptState.checkSpec("libstdc++6=12.2.0-14")) != nil)
        #expect((try? AptState.checkSpec("libgmp10=2:6.2.1+dfsg1-1.1")) != nil)
    }

    @Test func downloadedNames() {
        let pin = DebPin(name: "libgmp10", version: "2:6.2.1+dfsg1-1.1", architecture: "amd64", size: 1, sha256: "", filename: "pool/main/g/gmp/libgmp10_6.2.1+dfsg1-1.1_amd64.deb")
        #expect(AptState.downloadedName(pin, among: ["libgmp10_2%3a6.2.1+dfsg1-1.1_amd64.deb"]) == "libgmp10_2%3a6.2.1+dfsg1-1.1_amd64.deb")
        #expect(pin.fileName == "libgmp10_6.2.1+dfsg1-1.1_amd64.deb")
    }

    @Test func verificationNamesInputAndDigests() throws {
        let t = try TempDir("verify")
        defer { t.cleanup() }
        let path = t.sub("f")
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: path))
        let good = Digest.of("hello\n")
        try Pinned.verify(path, expected: good, input: "make")
        let bad = Digest.of("tampered\n")
        do {
            try Pinned.verify(path, expected: bad, input: "make")
            Issue.record("no error")
        } catch let e as ReproError {
            #expect(e.code == .verificationFailed && e.code.exitStatus == 4)
            #expect(e.message.contains("input make"))
            #expect(e.message.contains("expected \(bad)") && e.message.contains("got \(good)"))
        }
        // Same hash, wrong size.
        #expect(throws: ReproError.self) { try Pinned.verify(path, expected: Digest(hex: good.hex, size: 7), input: "x") }
    }

    @Test func offlineNamesWhatIsMissing() throws {
        let t = try TempDir("offline")
        defer { t.cleanup() }
        let present = t.sub("a_1_amd64.deb")
        try Data("a".utf8).write(to: URL(fileURLWithPath: present))
        let d = Digest.of("a")
        let pins = [DebPin(name: "a", version: "1", architecture: "amd64", size: d.size, sha256: d.hex, filename: "pool/a_1_amd64.deb"),
                    DebPin(name: "b", version: "2", architecture: "amd64", size: 1, sha256: d.hex, filename: "pool/b_2_amd64.deb")]
        #expect(try Pinned.offlineDebs([pins[0]], in: t.path) == [present])
        do {
            _ = try Pinned.offlineDebs(pins, in: t.path)
            Issue.record("no error")
        } catch let e as ReproError {
            #expect(e.code == .invalidInput && e.message.contains("offline") && e.message.contains("b=2"))
            #expect(!e.message.contains("a=1"))
        }
        let files = [SourceFile(name: "hello_2.10-3.dsc", size: 1, sha256: d.hex)]
        #expect {
            try Pinned.offlineSource(files, package: "hello", in: t.path)
        } throws: { e in
            (e as? ReproError)?.message.contains("source package hello is missing hello_2.10-3.dsc") == true
        }
    }

    @Test func rootFromCraftedDebsIsCachedByDigest() throws {
        typealias M = ArchiveMaker
        let t = try TempDir("root")
        defer { t.cleanup() }
        try M.deb([M.dir("./"), M.dir("./bin/"), M.file("./bin/dash", "#!dash\n", mode: 0o755),
                   M.dir("./usr/"), M.dir("./usr/bin/"), M.file("./usr/bin/mawk", "", mode: 0o755)], at: t.sub("a.deb"))
        try M.deb([M.dir("./lib/"), M.dir("./lib/x86_64-linux-gnu/"), M.file("./lib/x86_64-linux-gnu/libc.so.6"),
                   M.dir("./lib64/"), M.symlink("./lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
                   M.dir("./etc/"), M.dir("./etc/ld.so.conf.d/"), M.file("./etc/ld.so.conf.d/x.conf", "/usr/local/lib\n")],
                  at: t.sub("b.deb"))
        func input(_ name: String) throws -> ToolchainRoot.Input {
            let d = try Digest.ofFile(t.sub("\(name).deb"))
            return .init(pin: DebPin(name: name, version: "1", architecture: "amd64", size: d.size, sha256: d.hex,
                                     filename: "pool/\(name).deb"), path: t.sub("\(name).deb"))
        }
        let inputs = [try input("a"), try input("b")]
        let cache = t.sub("cache")
        let root = try ToolchainRoot.assemble(inputs, cacheDir: cache)
        #expect(root == cache + "/roots/" + ToolchainRoot.id(of: inputs.map(\.pin)))
        #expect(ToolchainRoot.id(of: inputs.map(\.pin)) == ToolchainRoot.id(of: inputs.reversed().map(\.pin)))
        let fm = FileManager.default
        #expect(try fm.destinationOfSymbolicLink(atPath: root + "/bin") == "usr/bin")
        #expect(try fm.destinationOfSymbolicLink(atPath: root + "/lib64") == "usr/lib64")
        #expect(try fm.destinationOfSymbolicLink(atPath: root + "/usr/bin/sh") == "dash")
        #expect(try fm.destinationOfSymbolicLink(atPath: root + "/usr/bin/awk") == "mawk")
        #expect(fm.fileExists(atPath: root + "/bin/dash"))
        #expect(fm.fileExists(atPath: root + "/etc/ld.so.conf.d/x.conf"))
        #expect(try String(contentsOfFile: root + "/etc/ld.so.conf", encoding: .utf8).contains("ld.so.conf.d"))
        for d in ["tmp", "proc", "dev", "build", "out"] { #expect(fm.fileExists(atPath: root + "/" + d)) }
        // No temporary directory left; a second call reuses the same root untouched.
        #expect(try fm.contentsOfDirectory(atPath: cache + "/roots").filter { $0.hasPrefix(".tmp") }.isEmpty)
        var before = stat(), after = stat()
        _ = stat(root, &before)
        #expect(try ToolchainRoot.assemble(inputs, cacheDir: cache) == root)
        _ = stat(root, &after)
        #expect(before.st_ino == after.st_ino && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec)
        // A different set is a different root.
        #expect(try ToolchainRoot.assemble([inputs[0]], cacheDir: cache) != root)
    }

    @Test func concurrentAndInterruptedAssembliesLeaveOneWholeRoot() throws {
        typealias M = ArchiveMaker
        let t = try TempDir("root")
        defer { t.cleanup() }
        try M.deb([M.dir("./usr/"), M.dir("./usr/bin/"), M.file("./usr/bin/tool", "x", mode: 0o755)],
                  at: t.sub("z.deb"), compression: .zstd)
        let d = try Digest.ofFile(t.sub("z.deb"))
        let input = ToolchainRoot.Input(pin: DebPin(name: "z", version: "1", architecture: "amd64", size: d.size,
                                                    sha256: d.hex, filename: "pool/z.deb"), path: t.sub("z.deb"))
        let cache = t.sub("cache")
        // What a process killed mid-assembly leaves behind.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let stale = cache + "/roots/.tmp-\(p.processIdentifier)-0123456789abcdef-deadbeef"
        try FileManager.default.createDirectory(atPath: stale + "/usr/bin", withIntermediateDirectories: true)

        let results = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            if let r = try? ToolchainRoot.assemble([input], cacheDir: cache) { results.withLock { $0.append(r) } }
        }
        let paths = results.withLock { $0 }
        #expect(paths.count == 4 && Set(paths).count == 1)
        #expect(FileManager.default.fileExists(atPath: paths[0] + "/usr/bin/tool"))
        let left = try FileManager.default.contentsOfDirectory(atPath: cache + "/roots").filter { !$0.hasSuffix(".lock") }
        #expect(left == [ToolchainRoot.id(of: [input.pin])])
    }

    @Test func failedAssemblyLeavesNoRoot() throws {
        typealias M = ArchiveMaker
        let t = try TempDir("root")
        defer { t.cleanup() }
        try M.deb([M.file("./etc/ok"), M.hardlink("./etc/shadow", "/etc/shadow")], at: t.sub("evil.deb"))
        let d = try Digest.ofFile(t.sub("evil.deb"))
        let input = ToolchainRoot.Input(pin: DebPin(name: "evil", version: "1", architecture: "amd64", size: d.size,
                                                    sha256: d.hex, filename: "pool/evil.deb"), path: t.sub("evil.deb"))
        #expect(throws: ReproError.self) { try ToolchainRoot.assemble([input], cacheDir: t.sub("cache")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.sub("cache/roots")).allSatisfy { $0.hasSuffix(".lock") })
    }
}
