import Foundation

/// The limits a build gets when its recipe's `[limits]` leaves one out, and the size of
/// the tmpfs mounts of every sandbox (docs/recipes.md, "[limits]"). Without them a
/// build had no bound at all: uid 0 inside maps to the host's uid, so RLIMIT_NPROC does
/// not bind for root, and only the cgroup pids limit stops a fork bomb.
public enum SandboxDefaults {
    /// Physical memory of the host in bytes (sysconf), 4 GiB when unknown.
    public static var hostMemory: Int64 {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? Int64(pages) * Int64(size) : 4 << 30
    }

    /// Memory of a build: half of the host's RAM.
    public static var memory: Int64 { hostMemory / 2 }
    /// Processes and threads of a build at once.
    public static let pids = 4096
    /// Wall-clock seconds of a build: 6 hours.
    public static let timeout = 6 * 3600
    /// Each writable tmpfs (/tmp, /dev/shm, `repro run`'s /build): an eighth of the
    /// host's RAM. tmpfs pages are RAM (and charged to the sandbox's memory cgroup when
    /// it has one); the kernel's own default is half of RAM for each mount.
    public static var tmpfsSize: Int64 { hostMemory / 8 }
}
