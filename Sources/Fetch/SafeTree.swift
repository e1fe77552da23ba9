import Core
import Foundation

/// Writes entries under a root directory through file descriptors only: every path is
/// walked one component at a time with `openat(O_NOFOLLOW | O_DIRECTORY)`, and every
/// leaf is created with `O_CREAT | O_EXCL | O_NOFOLLOW`, `mkdirat`, `symlinkat` or
/// `linkat` relative to its parent's descriptor. So a symlink already in the tree (one
/// the archive made earlier, or one that was there before) is never followed while
/// writing: a member whose parent path crosses a symlink is refused.
///
/// Paths given here are already checked relative component lists (no "", ".", "..").
final class SafeTree {
    let root: String
    private let rootFD: Int32
    /// Where errors point: "archive ARCHIVE: member MEMBER".
    var context = ""
    /// Directories to give their final mode and mtime at the end, when no more children
    /// are written into them.
    private var pendingDirs: [(path: [String], mode: mode_t, mtime: timespec)] = []
    let implicitMtime: timespec

    init(root: String, implicitMtime: Int64) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        rootFD = try Syscall.check("open \(root)") { open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        self.implicitMtime = timespec(tv_sec: Int(implicitMtime), tv_nsec: 0)
    }

    deinit { close(rootFD) }

    private func fail(_ what: String) -> ReproError {
        ReproError(.invalidInput, "unsafe archive \(context): \(what)")
    }

    /// Opens the directory at `components`, creating missing ones (mode 0755, mtime
    /// `implicitMtime`) when `create` is set. The caller closes the result.
    func openDir(_ components: ArraySlice<String>, create: Bool) throws -> Int32 {
        var fd = dup(rootFD)
        guard fd >= 0 else { throw ReproError(.system, "dup: \(Syscall.errorString(errno))") }
        var walked: [String] = []
        for c in components {
            walked.append(c)
            var next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, create {
                if mkdirat(fd, c, 0o755) != 0, errno != EEXIST {
                    let e = errno
                    close(fd)
                    throw ReproError(.system, "mkdir \(root)/\(walked.joined(separator: "/")): \(Syscall.errorString(e))")
                }
                next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if next >= 0 {
                    var times = [implicitMtime, implicitMtime]
                    futimens(next, &times)
                }
            }
            let e = errno
            close(fd)
            guard next >= 0 else {
                if e == ELOOP || e == ENOTDIR {
                    throw fail("path goes through '\(walked.joined(separator: "/"))', which is a symlink or not a directory")
                }
                throw ReproError(.system, "open \(root)/\(walked.joined(separator: "/")): \(Syscall.errorString(e))")
            }
            fd = next
        }
        return fd
    }

    /// Removes whatever non-directory is at `name` in `dirFD` (never following it).
    /// - Returns: true when a directory is there.
    private func clear(_ dirFD: Int32, _ name: String) throws -> Bool {
        var st = stat()
        guard fstatat(dirFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        if (st.st_mode & S_IFMT) == S_IFDIR { return true }
        try Syscall.check("unlink \(name)") { unlinkat(dirFD, name, 0) }
        return false
    }

    func directory(_ path: [String], mode: mode_t, mtime: timespec) throws {
        let parent = try openDir(path.dropLast(), create: true)
        defer { close(parent) }
        let name = path.last!
        if try !clear(parent, name) {
            try Syscall.check("mkdir \(root)/\(path.joined(separator: "/"))") { mkdirat(parent, name, 0o755) }
        }
        pendingDirs.append((path, mode, mtime))
    }

    /// Creates a regular file and fills it by calling `write(fd)`.
    func file(_ path: [String], mode: mode_t, mtime: timespec, write: (Int32) throws -> Void) throws {
        let parent = try openDir(path.dropLast(), create: true)
        defer { close(parent) }
        let name = path.last!
        if try clear(parent, name) { throw fail("a file would replace the directory '\(path.joined(separator: "/"))'") }
        let fd = try Syscall.check("create \(root)/\(path.joined(separator: "/"))") {
            openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        defer { close(fd) }
        try write(fd)
        try Syscall.check("fchmod") { fchmod(fd, mode) }
        var times = [mtime, mtime]
        try Syscall.check("futimens") { futimens(fd, &times) }
    }

    func symlink(_ path: [String], target: String, mtime: timespec) throws {
        let parent = try openDir(path.dropLast(), create: true)
        defer { close(parent) }
        let name = path.last!
        if try clear(parent, name) { throw fail("a symlink would replace the directory '\(path.joined(separator: "/"))'") }
        try Syscall.check("symlink \(root)/\(path.joined(separator: "/"))") { symlinkat(target, parent, name) }
        var times = [mtime, mtime]
        try Syscall.check("utimensat") { utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW) }
    }

    /// Hard-links `path` to the existing regular file `target` (both inside the root).
    func hardlink(_ path: [String], target: [String]) throws {
        let tparent = try openDir(target.dropLast(), create: false)
        defer { close(tparent) }
        var st = stat()
        guard fstatat(tparent, target.last!, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw fail("hard link target '\(target.joined(separator: "/"))' is not a regular file extracted before it")
        }
        let parent = try openDir(path.dropLast(), create: true)
        defer { close(parent) }
        let name = path.last!
        if path == target { return }
        if try clear(parent, name) { throw fail("a hard link would replace the directory '\(path.joined(separator: "/"))'") }
        // linkat without AT_SYMLINK_FOLLOW never dereferences.
        try Syscall.check("link \(root)/\(path.joined(separator: "/"))") { linkat(tparent, target.last!, parent, name, 0) }
    }

    func exists(_ path: [String]) -> Bool {
        guard let parent = try? openDir(path.dropLast(), create: false) else { return false }
        defer { close(parent) }
        var st = stat()
        return fstatat(parent, path.last!, &st, AT_SYMLINK_NOFOLLOW) == 0
    }

    /// Gives directories their recorded mode and mtime, deepest first.
    func finish() throws {
        for d in pendingDirs.reversed() {
            let fd = try openDir(d.path[...], create: false)
            defer { close(fd) }
            try Syscall.check("fchmod \(d.path.joined(separator: "/"))") { fchmod(fd, d.mode) }
            var times = [d.mtime, d.mtime]
            try Syscall.check("futimens") { futimens(fd, &times) }
        }
        pendingDirs = []
    }
}
