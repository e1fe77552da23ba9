import Foundation
import Sandbox
import TestKit
import Testing

/// `repro run` computes REPRO_JOBS without Foundation; it must be what
/// ProcessInfo.activeProcessorCount says.
@Suite(.tags(.unit)) struct HostCPUsTests {
    @Test func equalsFoundationOnThisHost() {
        #expect(HostCPUs.active() == ProcessInfo.processInfo.activeProcessorCount)
    }

    /// A fake cgroup v1 tree: cpu/cpu.cfs_quota_us, cpu/cpu.cfs_period_us, cpuset/cpuset.cpus.
    func tree(quota: String?, period: String?, cpuset: String?) throws -> String {
        let root = try TestSupport.tempDir("cpus")
        for (dir, file, text) in [("cpu", "cpu.cfs_quota_us", quota), ("cpu", "cpu.cfs_period_us", period),
                                  ("cpuset", "cpuset.cpus", cpuset)] {
            guard let text else { continue }
            try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
            try text.write(toFile: "\(root)/\(dir)/\(file)", atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func quotaRoundsUpThenCpusetThenOnline() throws {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let cases: [(String?, String?, String?, Int)] = [
            ("150000\n", "100000\n", "0-7\n", 2),    // 1.5 CPUs of quota: 2
            ("100000\n", "100000\n", nil, 1),
            ("-1\n", "100000\n", "2-5,7\n", 4),       // no quota: the first cpuset range
            (nil, nil, "3\n", 1),
            ("0\n", "100000\n", "\n0-2\n", 3),        // first non-empty line
            ("100000\n", "0\n", "x\n", online),       // bad period, bad cpuset: CPUs online
            (nil, nil, "5-2\n", online),
            (nil, nil, "", online),
            (nil, nil, nil, online),
        ]
        for (quota, period, cpuset, expected) in cases {
            let root = try tree(quota: quota, period: period, cpuset: cpuset)
            defer { try? FileManager.default.removeItem(atPath: root) }
            #expect(HostCPUs.active(cgroupRoot: root) == expected, "\(String(describing: quota)) \(String(describing: period)) \(String(describing: cpuset))")
        }
    }
}
