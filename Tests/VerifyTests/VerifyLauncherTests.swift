import Foundation
import TestKit
import Testing

/// The launcher options `repro verify` varies with (sandbox/src/variant.c), run for
/// real on the host's /usr.
@Suite(.tags(.sandbox)) struct VerifyLauncherTests {
    static let base = ["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
                       "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev"]

    func sandbox(_ options: [String], _ script: String) throws -> TestKit.Output {
        try TestKit.run([TestKit.launcher] + Self.base + options + ["--", "/bin/sh", "-c", script])
    }

    @Test func timeOffsetShiftsTheMonotonicAndBootClocks() throws {
        let plain = try sandbox([], "cut -d' ' -f1 /proc/uptime")
        let shifted = try sandbox(["--time-offset", "864000"], "cut -d' ' -f1 /proc/uptime; cat /proc/self/timens_offsets")
        #expect(shifted.status == 0, "\(shifted.stderr)")
        let a = Double(plain.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let lines = shifted.out.split(separator: "\n")
        let b = Double(lines.first ?? "") ?? -1
        #expect(b - a > 863_990 && b - a < 864_100, "uptime \(a) -> \(b)")
        #expect(lines.contains { $0.hasPrefix("monotonic") && $0.contains("864000") })
        #expect(lines.contains { $0.hasPrefix("boottime") && $0.contains("864000") })
        // Without the option there is no new time namespace.
        let none = try sandbox([], "cat /proc/self/timens_offsets")
        let fields = none.out.split(separator: "\n").map { $0.split(separator: " ") }
        #expect(fields.count == 2 && fields.allSatisfy { $0.count == 3 && $0[1] == "0" && $0[2] == "0" }, "\(none.out)")
    }

    @Test func cpuAffinityLimitsWhatNprocSees() throws {
        let one = try sandbox(["--cpu-affinity", "0"], "nproc")
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.out == "1\n")
        let bad = try sandbox(["--cpu-affinity", "1000"], "nproc")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("CPU 1000 is not available"))
        #expect(try sandbox(["--cpu-affinity", "1-"], "true").status == 2)
    }

    /// Issue 13: the kernel variation changes what uname -r reports (UNAME26), since a
    /// build that embeds the kernel release differs across real hosts.
    @Test func uname26ChangesTheKernelRelease() throws {
        let host = try sandbox([], "uname -r").out
        let varied = try sandbox(["--personality", "uname26,linux32"], "uname -r; uname -m").out
        #expect(varied.hasPrefix("2.6."), "\(varied)")
        #expect(!varied.hasPrefix(host.trimmingCharacters(in: .whitespacesAndNewlines)), "\(host) \(varied)")
        #expect(varied.hasSuffix("i686\n") || !varied.contains("x86_64"), "\(varied)")
    }

    @Test func personalitySetsMachineAndTurnsOffRandomization() throws {
        let p = try sandbox(["--personality", "linux32,addr-no-randomize"], "uname -m; cat /proc/self/personality")
        #expect(p.status == 0, "\(p.stderr)")
        #expect(p.out == "i686\n00040008\n")
        // ASLR off: two runs map the stack at the same address; on, they differ.
        let script = "grep '\\[stack\\]' /proc/self/maps"
        let off1 = try sandbox(["--personality", "addr-no-randomize"], script).out
        let off2 = try sandbox(["--personality", "addr-no-randomize"], script).out
        #expect(off1 == off2 && !off1.isEmpty)
        let on1 = try sandbox([], script).out, on2 = try sandbox([], script).out
        #expect(on1 != on2)
        // The command itself still cannot turn ASLR off: the seccomp policy is unchanged.
        #expect(try sandbox([], "setarch $(uname -m) -R true").status != 0)
        let unknown = try sandbox(["--personality", "read-implies-exec"], "true")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown flag 'read-implies-exec'"))
    }

    @Test func helpListsTheVariationOptions() throws {
        let help = try TestKit.run([TestKit.launcher, "--help"]).out
        for o in ["--time-offset SECONDS", "--cpu-affinity LIST", "--personality LIST"] { #expect(help.contains(o)) }
    }
}
