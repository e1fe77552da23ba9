import Foundation
import TestKit
import Testing

/// Issue 13's reliability findings around a build, each with the reproducer that
/// failed before its fix.
@Suite(.serialized, .tags(.sandbox)) struct HardeningTests {
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
        guard let digest = b.stderr.firstMatch(of: /repro store path (sha256:[0-9a-f]{64})/)?.1 else {
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

    /// Flips one byte of the stored blob of `content` (sha256 named by coreutils).
    func corruptBlob(of content: String) throws -> String {
        let file = dir + "/content"
        try content.write(toFile: file, atomically: true, encoding: .utf8)
        let hex = String(try TestKit.run(["/usr/bin/sha256sum", file]).out.prefix(64))
        let blob = store + "/cas/sha256/\(hex.prefix(2))/\(hex)"
        chmod(blob, 0o644)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: blob))
        bytes[0] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: blob))
        return blob
    }

    // 6. A corrupt blob is repaired by writing it again (build --no-cache exited 4,
    //    because writing an existing blob name was a no-op), and by
    //    `store verify --repair`, which drops it and what needs it.
    @Test func corruptBlobsCanBeRepaired() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try recipe("rot", "printf 'repair me %s\\n' 1 > $REPRO_OUT/file")
        #expect(try repro(["lock", r, "--store", store]).status == 0)
        #expect(try repro(["build", r, "--store", store]).status == 0)
        _ = try corruptBlob(of: "repair me 1\n")
        #expect(try repro(["store", "verify", "--store", store]).status == 4)
        let again = try repro(["build", r, "--store", store, "--no-cache", "--out", dir + "/out1"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try repro(["store", "verify", "--store", store]).status == 0)

        _ = try corruptBlob(of: "repair me 1\n")
        let repair = try repro(["store", "verify", "--repair", "--store", store])
        #expect(repair.status == 0, "\(repair.out) \(repair.stderr)")
        #expect(repair.out.contains("deleted 1 corrupt blobs"), "\(repair.out)")
        #expect(try repro(["store", "verify", "--store", store]).status == 0)
        // The action was forgotten: the next build runs and stores the blob again.
        let rebuilt = try repro(["build", r, "--store", store, "--json", "--out", dir + "/out2"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(json(rebuilt)["cached"] as? Bool == false)
        #expect(try String(contentsOfFile: dir + "/out2/file", encoding: .utf8) == "repair me 1\n")
        #expect(try repro(["store", "verify", "--store", store]).status == 0)
    }

    // 7. Out-of-range values are bad input (exit 2) with the line, not exit 70; the
    //    messages say what is wrong.
    @Test func outOfRangeValuesAreBadInput() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, limits, message) in [
            ("pids", "pids = 4294967296", "more than Linux allows"),
            ("tinycpus", "cpus = 1e-9", "at least 0.01"),
            ("hugecpus", "cpus = 1000000", "more CPUs than any host has"),
            ("timeout", "timeout = 100000000000", "too long"),
        ] {
            let r = try recipe(name, "true", tail: "[limits]\n\(limits)")
            let lock = try repro(["lock", r, "--store", store])
            #expect(lock.status == 2, "\(name): \(lock.stderr)")
            #expect(lock.stderr.contains("\(name).toml:10:") && lock.stderr.contains(message), "\(name): \(lock.stderr)")
        }
        for (args, message) in [
            (["--pids", "0"], "--pids 0"), (["--cpus", "0.000000001"], "--cpus"),
            (["--uid", "4294967295"], "no id"), (["--bind", "/tmp:/"], "cannot bind onto /"),
            (["--ro-bind", "/tmp:/proc/x"], "procfs"), (["--memory", "0"], "above 0"),
        ] {
            let r = try repro(["run"] + args + ["--", "/bin/true"])
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(message) && !r.stderr.contains("user namespace"), "\(args): \(r.stderr)")
        }
        // A script far over the command line's 128 KiB per argument builds (posix_spawn
        // failed with E2BIG, exit 70); one over the parser's 4 MiB is bad input.
        let long = (0..<6000).map { "echo line-\($0)-0123456789012345678901234567890123456789 >/dev/null" }.joined(separator: "\n")
        let big = try recipe("bigscript", long + "\necho built > $REPRO_OUT/ok")
        #expect(try repro(["lock", big, "--store", store]).status == 0)
        let b = try repro(["build", big, "--store", store])
        #expect(b.status == 0, "\(b.stderr.suffix(400))")
        let huge = try recipe("hugescript", String(repeating: "true\n", count: 1_000_000))
        let h = try repro(["lock", huge, "--store", store])
        #expect(h.status == 2 && h.stderr.contains("too long"), "\(h.stderr.prefix(300))")
    }

    // 9. A NUL in the script (it silently cut the script short) and a
    //    source-date-epoch past year 9999 (tar broke on it) are refused with the line.
    @Test func nulInScriptAndHugeEpochAreRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/r/nul.toml"
        try "name = \"nul\"\n[toolchain]\nhost = true\n[build]\nscript = \"\"\"\necho a > $REPRO_OUT/a\necho b\\u0000 > $REPRO_OUT/b\n\"\"\"\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let nul = try repro(["lock", path, "--store", store])
        #expect(nul.status == 2, "\(nul.stderr)")
        #expect(nul.stderr.contains("nul.toml:5:") && nul.stderr.contains("NUL character") && nul.stderr.contains("its line 2"), "\(nul.stderr)")
        let epoch = try recipe("epoch", "true", extra: "")
        try String(contentsOfFile: epoch, encoding: .utf8).replacingOccurrences(of: "[build]\n", with: "[build]\nsource-date-epoch = 9223372036854775807\n")
            .write(toFile: epoch, atomically: true, encoding: .utf8)
        let e = try repro(["lock", epoch, "--store", store])
        #expect(e.status == 2, "\(e.stderr)")
        #expect(e.stderr.contains("epoch.toml:6:") && e.stderr.contains("after the year 9999"), "\(e.stderr)")
        // The latest allowed epoch builds, archive included.
        let last = try recipe("lastepoch", "echo x > $REPRO_OUT/x", tail: "[outputs]\narchive = \"tar.gz\"")
        try String(contentsOfFile: last, encoding: .utf8).replacingOccurrences(of: "[build]\n", with: "[build]\nsource-date-epoch = 253402300799\n")
            .write(toFile: last, atomically: true, encoding: .utf8)
        #expect(try repro(["lock", last, "--store", store]).status == 0)
        let l = try repro(["build", last, "--store", store])
        #expect(l.status == 0, "\(l.stderr)")
    }

    // 8. A failed --out leaves nothing: not a partial tree, not the provenance and
    //    SBOM beside it (exit 4 left them before).
    @Test func failedOutLeavesNothing() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try recipe("atomic", "mkdir -p $REPRO_OUT/a/b; printf 'one\\n' > $REPRO_OUT/a/one; printf 'two\\n' > $REPRO_OUT/a/b/two",
                           tail: "[outputs]\narchive = \"tar\"")
        #expect(try repro(["lock", r, "--store", store]).status == 0)
        let first = try repro(["build", r, "--store", store, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let left = { (name: String) in
            ((try? FileManager.default.contentsOfDirectory(atPath: self.dir)) ?? []).filter { $0.hasPrefix(name) || $0.hasPrefix("." + name) }
        }
        // A corrupt output file: the restore fails half-way (cache hit).
        let blob = try corruptBlob(of: "two\n")
        let bad = try repro(["build", r, "--store", store, "--out", dir + "/d1"])
        #expect(bad.status == 4, "\(bad.stderr)")
        #expect(left("d1").isEmpty, "left behind: \(left("d1"))")
        #expect(!FileManager.default.fileExists(atPath: dir + "/atomic.tar"))
        // A corrupt archive: the tree and attestations were written, then the archive failed.
        try FileManager.default.removeItem(atPath: blob)
        #expect(try repro(["build", r, "--store", store, "--no-cache"]).status == 0)
        let archive = (json(first)["archive_digest"] as? String ?? "").dropFirst(7)
        let archiveBlob = store + "/cas/sha256/\(archive.prefix(2))/\(archive)"
        chmod(archiveBlob, 0o644)
        try Data("not the archive".utf8).write(to: URL(fileURLWithPath: archiveBlob))
        let bad2 = try repro(["build", r, "--store", store, "--out", dir + "/d2"])
        #expect(bad2.status == 4, "\(bad2.stderr)")
        #expect(left("d2").isEmpty, "left behind: \(left("d2"))")
        // --out onto a non-empty directory says so in plain words and keeps its files.
        try FileManager.default.createDirectory(atPath: dir + "/full", withIntermediateDirectories: true)
        try "mine".write(toFile: dir + "/full/keep", atomically: true, encoding: .utf8)
        let full = try repro(["build", r, "--store", store, "--no-cache", "--out", dir + "/full"])
        #expect(full.status == 2, "\(full.stderr)")
        #expect(full.stderr.contains("already exists and is not empty"), "\(full.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/full/keep"))
    }

    // 11. With loopback down (`unshare -n`), Foundation's Process could not make its
    //     CFSocket wakeup pair and never saw the launcher exit: 3 of 12 builds hung.
    //     Twelve builds in a fresh network namespace, each bounded by timeout(1).
    @Test(.enabled(if: getuid() == 0, "unshare -n needs root"))
    func buildsFinishWithLoopbackDown() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try recipe("offline", "echo ok > $REPRO_OUT/ok")
        #expect(try repro(["lock", r, "--store", store]).status == 0)
        var statuses: [Int32] = []
        for _ in 0..<12 {
            let b = try TestKit.run(["/usr/bin/timeout", "-k", "5", "60", "/usr/bin/unshare", "-n", TestKit.repro,
                                     "build", r, "--store", store, "--no-cache"], environment: env)
            statuses.append(b.status)
            if b.status != 0 { Issue.record("build with loopback down: \(b.status) \(b.stderr.suffix(300))") }
        }
        #expect(statuses == Array(repeating: 0, count: 12), "\(statuses)")
    }
}
