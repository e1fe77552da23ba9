import Foundation
import TestKit
import Testing

/// Issue 13's reliability findings around a build, each with the reproducer that
/// failed before its fix.
@Suite(.serialized) struct HardeningTests {
    let dir: String
    let env: [String: String]
    var store: String { dir + "/store" }

    init() throws {
        dir = NSTemporaryDirectory() + "repro-hardening-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir + "/r", withIntermediateDirectories: true)
        env = ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin"]
    }

    func repro(_ args: [String]) throws -> TestKit.Output {
        try TestKit.run([TestKit.repro] + args, environment: env)
    }

    func recipe(_ name: String, _ script: String, extra: String = "", tail: String = "") throws -> String {
        let path = dir + "/r/\(name).toml"
        try """
        name = "\(name)"
        [toolchain]
        host = true
        \(extra)
        [build]
        script = '''
        \(script)
        '''
        \(tail)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func json(_ o: TestKit.Output) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: o.stdout)) as? [String: Any] ?? [:]
    }

    // 1. A recipe without [limits] gets repro's defaults: a thread bomb stops at the
    //    default pids limit (it ran to 6000 before), and --json names the limits.
    @Test func recipeWithoutLimitsGetsDefaults() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try recipe("bomb", """
        python3 - > $REPRO_OUT/threads <<'PY'
        import threading
        ev = threading.Event(); n = 0
        threading.stack_size(64 * 1024)
        try:
            for i in range(6000):
                threading.Thread(target=ev.wait, daemon=True).start(); n += 1
        except RuntimeError:
            pass
        print(n)
        ev.set()
        PY
        """)
        #expect(try repro(["lock", r, "--store", store]).status == 0)
        let b = try repro(["build", r, "--store", store, "--json", "--out", dir + "/out"])
        #expect(b.status == 0, "\(b.stderr)")
        let threads = Int((try? String(contentsOfFile: dir + "/out/threads", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        #expect(threads > 0 && threads < 4096, "threads started: \(threads)")
        let limits = json(b)["limits"] as? [String: Any] ?? [:]
        #expect(limits["pids"] as? Int == 4096, "\(b.out)")
        #expect(limits["timeout"] as? Int == 6 * 3600)
        #expect((limits["memory"] as? Int ?? 0) > 0)
        #expect((limits["tmpfs_size"] as? Int ?? 0) > 0)
    }

    // 1. `repro run` bounds its tmpfs mounts (the kernel gave each half of RAM).
    @Test func runBoundsItsTmpfs() throws {
        let r = try repro(["run", "--tmpfs-size", "4m", "--", "/bin/sh", "-c",
                           "df -k /tmp /dev/shm /build | tail -n 3 | awk '{print $2}'"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.out.split(separator: "\n") == ["4096", "4096", "4096"], "\(r.out)")
        let d = try repro(["run", "--", "/bin/sh", "-c", "df -k /tmp | tail -n 1 | awk '{print $2}'"])
        let kb = Int(d.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let hostKB = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
        #expect(kb > 0 && kb <= hostKB / 8 + 4, "default /tmp is \(kb) KiB of \(hostKB)")
    }

    // 2. A `path` input may not leave the recipe's directory through a link: a file
    //    link, a directory link, a link inside an input directory (lock and build
    //    exited 0 and hashed /etc/shadow before).
    @Test func symlinkedPathInputsAreRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outside = dir + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "secret\n".write(toFile: outside + "/secret.txt", atomically: true, encoding: .utf8)
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: dir + "/r/filelink.txt", withDestinationPath: outside + "/secret.txt")
        try fm.createSymbolicLink(atPath: dir + "/r/dirlink", withDestinationPath: "../outside")
        try fm.createDirectory(atPath: dir + "/r/tree", withIntermediateDirectories: true)
        try "ok\n".write(toFile: dir + "/r/tree/ok.txt", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: dir + "/r/tree/inner", withDestinationPath: "ok.txt")
        try fm.createSymbolicLink(atPath: dir + "/r/tree/shadow", withDestinationPath: "/etc/shadow")
        for (name, path, link) in [("file", "filelink.txt", "filelink.txt"), ("dir", "dirlink", "dirlink"),
                                   ("inner", "tree", "tree/shadow")] {
            let r = try recipe(name, "cp -r src/x $REPRO_OUT/", extra: "[inputs.x]\npath = \"\(path)\"")
            let lock = try repro(["lock", r, "--store", store])
            #expect(lock.status == 2, "\(name): \(lock.stderr)")
            #expect(lock.stderr.contains(link) && lock.stderr.contains("outside the recipe's directory"), "\(lock.stderr)")
            #expect(!fm.fileExists(atPath: dir + "/r/\(name).lock"))
        }
        // The same input without the escaping link locks and builds; its inner link stays.
        try fm.removeItem(atPath: dir + "/r/tree/shadow")
        let ok = try recipe("inner", "cp -r src/x $REPRO_OUT/", extra: "[inputs.x]\npath = \"tree\"")
        #expect(try repro(["lock", ok, "--store", store]).status == 0)
        // A link added after locking stops the build too.
        try fm.createSymbolicLink(atPath: dir + "/r/tree/shadow", withDestinationPath: "/etc/shadow")
        let b = try repro(["build", ok, "--store", store])
        #expect(b.status == 2, "\(b.stderr)")
        #expect(b.stderr.contains("tree/shadow"), "\(b.stderr)")
    }

    // 3. The build log streams to the store, capped with head and tail kept: repro's
    //    RSS stays flat whatever the build prints (200 MB printed made it grow past
    //    600 MB and stored all of it).
    @Test func buildLogIsStreamedAndCapped() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try recipe("loud", "echo first-line; yes 0123456789abcdef | head -c 200000000; echo; echo last-line; exit 3",
                           tail: "[limits]\nmemory = \"256M\"\nlog-size = \"1M\"")
        #expect(try repro(["lock", r, "--store", store]).status == 0)
        let rss = dir + "/rss"
        let b = try TestKit.run(["/usr/bin/time", "-f", "%M", "-o", rss, TestKit.repro, "build", r, "--store", store],
                                environment: env)
        #expect(b.status == 1, "\(b.stderr.suffix(500))")
        let kb = Int((try String(contentsOfFile: rss, encoding: .utf8)).split(separator: "\n").last ?? "") ?? 0
        #expect(kb > 0 && kb < 120_000, "repro's peak RSS: \(kb) KiB")
        // The failure shows the log's tail and names the stored log.
        #expect(b.stderr.contains("last-line"), "\(b.stderr.suffix(500))")
        guard let digest = b.stderr.firstMatch(of: /full log: (sha256:[0-9a-f]{64})/)?.1 else {
            Issue.record("no log digest in: \(b.stderr.suffix(500))"); return
        }
        let path = try repro(["store", "path", String(digest), "--store", store]).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        #expect(size > 1 << 20 && size < (1 << 20) + 400, "stored log: \(size) bytes")
        let log = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(log.prefix(11) == Data("first-line\n".utf8))
        #expect(String(decoding: log.suffix(10), as: UTF8.self) == "last-line\n")
        #expect(String(decoding: log, as: UTF8.self).contains("bytes of the log left out here"))
    }

    /// Bytes of the regular files under `path`.
    func diskBytes(_ path: String) -> Int {
        var total = 0
        let walker = FileManager.default.enumerator(atPath: path)
        while let rel = walker?.nextObject() as? String {
            let a = try? FileManager.default.attributesOfItem(atPath: path + "/" + rel)
            if a?[.type] as? FileAttributeType == .typeRegular { total += a?[.size] as? Int ?? 0 }
        }
        return total
    }

    // 4. output-size and build-size hold while the build runs (300 MB landed on the
    //    host's disk and in the store under a 10M limit), and nothing rejected is stored.
    @Test(.enabled(if: getuid() == 0, "the bounded tmpfs is mounted on the host, which needs root"))
    func sizeLimitsHoldDuringTheBuild() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try recipe("bigout", "head -c 300000000 /dev/zero > $REPRO_OUT/big; echo unreachable > $REPRO_OUT/after",
                             tail: "[limits]\noutput-size = \"10M\"")
        #expect(try repro(["lock", out, "--store", store]).status == 0)
        let b = try repro(["build", out, "--store", store, "--out", dir + "/dist"])
        #expect(b.status == 1, "\(b.stderr)")
        #expect(b.stderr.contains("filled /out") && b.stderr.contains("output-size limit is 10485760"), "\(b.stderr)")
        #expect(diskBytes(store) < 20_000_000, "store holds \(diskBytes(store)) bytes")
        #expect(!FileManager.default.fileExists(atPath: dir + "/dist"))
        let work = try recipe("bigwork", "head -c 300000000 /dev/zero > /build/big; echo ok > $REPRO_OUT/ok",
                              tail: "[limits]\nbuild-size = \"10M\"")
        #expect(try repro(["lock", work, "--store", store]).status == 0)
        let w = try repro(["build", work, "--store", store])
        #expect(w.status == 1, "\(w.stderr)")
        #expect(w.stderr.contains("filled /build"), "\(w.stderr)")
        #expect(diskBytes(store) < 20_000_000, "store holds \(diskBytes(store)) bytes")
        // Nothing stays mounted, and what fits builds.
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(dir), "left mounted: \(mounts.split(separator: "\n").filter { $0.contains(dir) })")
        let fits = try recipe("fits", "head -c 1000000 /dev/zero > $REPRO_OUT/one", tail: "[limits]\noutput-size = \"10M\"\nbuild-size = \"10M\"")
        #expect(try repro(["lock", fits, "--store", store]).status == 0)
        let f = try repro(["build", fits, "--store", store, "--json"])
        #expect(f.status == 0, "\(f.stderr)")
        #expect(json(f)["bytes"] as? Int == 1_000_000)
    }
}
