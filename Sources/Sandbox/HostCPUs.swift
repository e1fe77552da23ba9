#if canImport(Glibc)
import Glibc
#endif

/// How many CPUs this process may use: the value of Foundation's
/// `ProcessInfo.processInfo.activeProcessorCount` on Linux, computed the same way
/// (a cgroup v1 CFS quota, rounded up; else the first range of the cgroup v1 cpuset;
/// else the CPUs online) with plain libc. `repro run` needs it on every start for
/// REPRO_JOBS, and through ProcessInfo (its process state, the files read via URL and
/// Data) it cost ~0.5-1 ms of a ~9 ms `repro run -- true`.
public enum HostCPUs {
    /// - Parameter cgroupRoot: where the cgroup v1 hierarchies are mounted (tests
    ///   point it at fixture files).
    public static func active(cgroupRoot: String = "/sys/fs/cgroup") -> Int {
        if let quota = Int(firstLine(cgroupRoot + "/cpu/cpu.cfs_quota_us") ?? ""), quota > 0,
           let period = Int(firstLine(cgroupRoot + "/cpu/cpu.cfs_period_us") ?? ""), period > 0 {
            return (quota - 1 + period) / period
        }
        if let cpuset = firstLine(cgroupRoot + "/cpuset/cpuset.cpus")?.split(separator: ","),
           let range = cpuset.first {
            // Foundation counts the first range only ("0-3,8" gives 4).
            let ids = range.split(separator: "-", maxSplits: 1)
            if let first = ids.first.flatMap({ Int($0, radix: 10) }),
               let last = ids.last.flatMap({ Int($0, radix: 10) }), last >= first {
                return 1 + last - first
            }
            return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        }
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// The first non-empty line of a file; "" when it is not UTF-8, nil when it cannot
    /// be read (as Foundation's reading of these files).
    static func firstLine(_ path: String) -> Substring? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            bytes += buf[..<n]
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return "" }
        return text.split(separator: "\n").first ?? ""
    }
}
