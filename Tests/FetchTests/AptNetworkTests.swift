import Core
import Foundation
import TestKit
import Testing
@testable import Fetch

/// Real apt against the registry the host's apt configuration names. Bounded: one
/// private index update (~20 MB, a few seconds), a few small downloads (< 5 MB).
/// Filter with `--filter AptNetworkTests` / `--skip AptNetworkTests`, or set
/// REPRO_SKIP_NETWORK=1.
@Suite(.serialized, .enabled(if: AptNetwork.enabled, "REPRO_SKIP_NETWORK is set or apt is missing"), .tags(.network), .enabled(if: TestLayer.full, TestLayer.skipped))
struct AptNetworkTests {
    @Test(.timeLimit(.minutes(5))) func privateUpdateLeavesSystemAptUntouched() throws {
        let before = AptNetwork.systemFingerprint()
        let state = try AptNetwork.state()
        try state.update(progress: false)
        #expect(state.hasLists)
        let sources = try String(contentsOfFile: state.directory + "/etc/sources.list.d/host.sources", encoding: .utf8)
        #expect(sources.contains("Types: deb deb-src"))
        _ = try state.resolve(packages: ["hello"])
        let t = try TempDir("apt-dl")
        defer { t.cleanup() }
        _ = try state.download(try state.pins([("hello", try AptNetwork.version(state, "hello"))]), to: t.path)
        #expect(AptNetwork.systemFingerprint() == before)
    }

    @Test(.timeLimit(.minutes(2))) func closureOfMakeIsPinned() throws {
        let state = try AptNetwork.updatedState()
        let pins = try state.resolve(packages: ["make"])
        let names = Set(pins.map(\.name))
        for n in ["make", "libc6", "coreutils", "bash", "dash", "base-files"] { #expect(names.contains(n), "\(n) missing") }
        #expect(pins.count > 40 && pins.count < 200)
        for p in pins {
            #expect(p.sha256.count == 64 && p.sha256.allSatisfy(\.isHexDigit))
            #expect(p.size > 0 && p.filename.hasPrefix("pool/") && !p.version.isEmpty)
            #expect(p.architecture == state.architecture || p.architecture == "all")
        }
        #expect(pins == pins.sorted())
        // Without the base set, the closure is small.
        let bare = try state.resolve(packages: ["make"], includeEssential: false)
        #expect(bare.count < pins.count && bare.contains { $0.name == "make" } && !bare.contains { $0.name == "coreutils" })
        #expect(throws: ReproError.self) { try state.resolve(packages: ["no-such-package-repro"]) }
    }

    @Test(.timeLimit(.minutes(2))) func downloadVerifiesAndDetectsTampering() throws {
        let state = try AptNetwork.updatedState()
        let pin = try #require(try state.pins([("hello", try AptNetwork.version(state, "hello"))]).first)
        let t = try TempDir("apt-dl")
        defer { t.cleanup() }
        let paths = try state.download([pin], to: t.sub("debs"))
        #expect(try Digest.ofFile(paths[0]) == pin.digest)
        #expect(try Pinned.offlineDebs([pin], in: t.sub("debs")) == paths)
        // A pin that does not match what the registry serves.
        var wrong = pin
        wrong.sha256 = String(repeating: "0", count: 64)
        #expect {
            try state.download([wrong], to: t.sub("other"))
        } throws: { e in
            let e = e as? ReproError
            return e?.code == .verificationFailed && e?.message.contains("input hello") == true
                && e?.message.contains("expected sha256:0000") == true && e?.message.contains("got \(pin.digest)") == true
        }
        // A tampered file in the local cache is caught, not reused.
        let handle = try #require(FileHandle(forWritingAtPath: paths[0]))
        handle.seekToEndOfFile(); handle.write(Data([0])); handle.closeFile()
        #expect { try state.download([pin], to: t.sub("debs")) } throws: { ($0 as? ReproError)?.code == .verificationFailed }
        #expect { try Pinned.offlineDebs([pin], in: t.sub("debs")) } throws: { ($0 as? ReproError)?.code == .verificationFailed }
    }

    @Test(.timeLimit(.minutes(2))) func sourcePackageOfHello() throws {
        let state = try AptNetwork.updatedState()
        let version = try AptNetwork.version(state, "hello")
        let files = try state.sourceFiles(package: "hello", version: version)
        #expect(files.contains { $0.name.hasSuffix(".dsc") })
        #expect(files.contains { $0.name.contains(".orig.tar.") })
        #expect(files.contains { $0.name.contains(".debian.tar.") })
        #expect(files.allSatisfy { $0.sha256.count == 64 && $0.size > 0 })
        let t = try TempDir("apt-src")
        defer { t.cleanup() }
        #expect { try Pinned.offlineSource(files, package: "hello", in: t.path) } throws: {
            ($0 as? ReproError)?.message.contains(".dsc") == true
        }
        let paths = try state.downloadSource(package: "hello", version: version, expected: files, to: t.path)
        #expect(paths.count == files.count)
        #expect(try Pinned.offlineSource(files, package: "hello", in: t.path) == paths)
        // The upstream tarball unpacks with strip-components.
        let orig = try #require(paths.first { $0.contains(".orig.tar.") && !$0.hasSuffix(".asc") })
        try Extract.archive(orig, into: t.sub("src"), options: ExtractOptions(stripComponents: 1))
        #expect(FileManager.default.fileExists(atPath: t.sub("src/configure")))
        // The whole source package, unpacked as dpkg-source would (patches listed, not applied).
        let unpacked = try DebianSource.unpack(paths, into: t.sub("full"))
        #expect(unpacked.format.hasPrefix("3.0"))
        #expect(FileManager.default.fileExists(atPath: t.sub("full/configure")))
        #expect(try DebianSource.changelogEpoch(t.sub("full")) > 1_600_000_000)
    }

    /// The loader path below is amd64's.
    @Test(.timeLimit(.minutes(3)), .enabled(if: AptNetwork.machine == "x86_64", "the loader path checked is amd64's; this host is not"))
    func rootOfDashRunsAndIsCached() throws {
        let state = try AptNetwork.updatedState()
        let pins = try state.resolve(packages: ["dash"], includeEssential: false)
        #expect(pins.contains { $0.name == "libc6" })
        let t = try TempDir("apt-root")
        defer { t.cleanup() }
        let paths = try state.download(pins, to: t.sub("debs"))
        let inputs = zip(pins, paths).map { ToolchainRoot.Input(pin: $0, path: $1) }
        let root = try ToolchainRoot.assemble(inputs, cacheDir: t.sub("cache"))
        let out = try Command(executable: root + "/usr/lib64/ld-linux-x86-64.so.2",
                              arguments: ["--library-path", root + "/usr/lib/x86_64-linux-gnu", root + "/usr/bin/dash", "-c", "echo ok"]).run()
        #expect(out.status == 0 && out.stdout == "ok\n", "\(out.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/lib64/ld-linux-x86-64.so.2").hasPrefix("../"))
        #expect(FileManager.default.fileExists(atPath: root + "/bin/sh"))
        // The second assembly is the cached root itself, not a new extraction renamed
        // into place: the directory keeps its inode.
        var before = stat(), after = stat()
        #expect(lstat(root, &before) == 0)
        #expect(try ToolchainRoot.assemble(inputs, cacheDir: t.sub("cache")) == root)
        #expect(lstat(root, &after) == 0)
        #expect(before.st_ino == after.st_ino && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec)
    }
}

enum AptNetwork {
    /// `uname -m`.
    static let machine: String = {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }()

    static var enabled: Bool {
        ProcessInfo.processInfo.environment["REPRO_SKIP_NETWORK"] == nil
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get")
    }

    /// One private state per user, kept across runs (its lists are refreshed by the
    /// first test of the suite).
    static func state() throws -> AptState {
        try AptState(directory: NSTemporaryDirectory() + "repro-fetch-tests-\(getuid())/apt")
    }

    static func updatedState() throws -> AptState {
        let s = try state()
        if !s.hasLists { try s.update(progress: false) }
        return s
    }

    /// The candidate version of a package in the private indexes.
    static func version(_ state: AptState, _ name: String) throws -> String {
        let pins = try state.resolve(packages: [name], includeEssential: false)
        return try #require(pins.first { $0.name == name }).version
    }

    /// A digest of /etc/apt and /var/lib/apt/lists (names, sizes, mtimes, contents).
    static func systemFingerprint() -> String {
        fingerprint("/etc/apt") + fingerprint("/var/lib/apt/lists")
    }
}
