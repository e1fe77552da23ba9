import Core
import Foundation

/// Walks a directory and hashes every regular file in parallel across cores, giving the
/// canonical `Manifest` (and so the tree digest) of the tree.
///
/// The root itself is not an entry. Symbolic links are recorded, never followed (the
/// root may be one). Device nodes, fifos and sockets are rejected: an output cannot
/// carry them. Hard links are hashed as ordinary files.
public enum TreeHasher {
    /// Hashes (or stores) one regular file, reading it with the thread's `scratch`.
    typealias FileHandler = @Sendable (_ file: FileRef, _ scratch: Scratch) throws -> Digest

    /// A regular file found by the walk: `name` relative to the open directory `dirfd`
    /// (openat(2) spares the kernel a walk of the whole path per file), or a full path
    /// with `AT_FDCWD` when too many directories would stay open.
    struct FileRef: Sendable {
        let dirfd: Int32
        let name: String
        /// The directory's path, shared by its files (the full path is only built for
        /// messages: one string less to make per file).
        let dir: String?

        /// The full path, for messages.
        var path: String { dir.map { $0 + "/" + name } ?? name }

        init(path: String) {
            dirfd = AT_FDCWD
            name = path
            dir = nil
        }

        init(dirfd: Int32, name: String, dir: String) {
            self.dirfd = dirfd
            self.name = name
            self.dir = dir
        }
    }

    /// A worker thread's read buffer and hash context, reused for every file it handles.
    final class Scratch {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: TreeHasher.chunk, alignment: 64)
        let sha = SHA256Stream()
        /// Whether the file last opened with `openRegular` has an x bit.
        var executable = false
        /// Its size when it was opened.
        var size = 0
        /// Where a batch's manifest lines are written before being copied out.
        private var lines = UnsafeMutablePointer<UInt8>.allocate(capacity: 0)
        private var linesCapacity = 0
        deinit {
            buffer.deallocate()
            lines.deallocate()
        }

        /// The line buffer, with room for at least `capacity` bytes.
        func lineBuffer(_ capacity: Int) -> UnsafeMutablePointer<UInt8> {
            if capacity > linesCapacity {
                lines.deallocate()
                linesCapacity = max(capacity, 2 * linesCapacity)
                lines = .allocate(capacity: linesCapacity)
            }
            return lines
        }

        /// Opens a regular file for reading without following a link or blocking on a
        /// fifo (open(2) O_NOFOLLOW|O_NONBLOCK, fstat(2)); sets `executable`.
        /// - Throws: `ReproError(.invalidInput)` naming the path when it cannot be opened
        ///   or is not a regular file.
        func openRegular(_ file: FileRef) throws -> Int32 {
            let fd = openat(file.dirfd, file.name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
            guard fd >= 0 else { throw ReproError(.invalidInput, "open \(file.path): \(Syscall.errorString(errno))") }
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
                close(fd)
                throw ReproError(.invalidInput, "\(file.path) is \(TreeHasher.describe(st.st_mode)); expected a regular file")
            }
            executable = st.st_mode & 0o111 != 0
            size = Int(st.st_size)
            return fd
        }
    }

    static func describe(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a fifo"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        default: "an unknown file type"
        }
    }

    /// Chunk size of the streaming reads.
    static let chunk = 256 * 1024
    /// Files at least this large are hashed through mmap(2) instead of read(2).
    static let mmapThreshold = 1 << 20

    /// The manifest of the tree at `root`.
    /// - Parameters:
    ///   - workers: threads hashing files (the walk has its own); defaults to the number
    ///     of cores.
    /// - Throws: `ReproError(.invalidInput)` naming the path when `root` is missing or not
    ///   a directory, or an entry is a device, fifo, socket or has a non-UTF-8 name.
    public static func manifest(of root: String, workers: Int? = nil) throws -> Manifest {
        try manifest(of: root, workers: workers, handler: hashFile)
    }

    /// The manifest of the tree at `root`, with `handler` run on each file (the store
    /// copies while it hashes).
    ///
    /// Walking and hashing overlap: the walk (on the calling thread) hands files over in
    /// batches to `workers` threads as it finds them. On trees of many small files the
    /// walk is a sixth of the work; hashing only after it had left the cores idle that long.
    static func manifest(of root: String, workers: Int?, handler: @escaping FileHandler) throws -> Manifest {
        var st = stat()
        guard stat(root, &st) == 0 else {
            throw ReproError(.invalidInput, "\(root): \(Syscall.errorString(errno))")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw ReproError(.invalidInput, "\(root): not a directory")
        }
        let queue = BatchQueue(handler: handler)
        // One hashing thread per core, and the walk on this one. Threads of their own:
        // Dispatch's global queue runs no more blocks at once than there are cores, and
        // these block waiting for batches.
        let threads = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread {
                queue.drain()
                group.leave()
            }.start()
        }
        var walker = Walker(root: root, queue: queue)
        defer { walker.closeAll() }
        do {
            try walker.walk(relative: "")
            walker.flush()
        } catch {
            queue.fail(error)
        }
        // The walk does not join in the hashing: on trees of large files that made one
        // thread more than cores hashing (1 GiB in 256 files: 448 ms with the walking
        // thread hashing and one other, 437 ms with two others and the walk waiting).
        queue.close()
        group.wait()
        if let e = queue.error { throw e }
        // The walk met entries in manifest order (see `Walker.walk`): put its directories
        // and links back between the hashed files, each where it was found, and their
        // lines between the files' lines.
        let others = walker.others
        let capacity = queue.done.reduce(0) { $0 + $1.lines.count } + others.reduce(0) { $0 + $1.entry.maxLineLength + 1 }
        var entries: [ManifestEntry] = []
        entries.reserveCapacity(others.count + walker.fileCount)
        let text = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, capacity))
        var used = 0, o = 0
        func addOthers(upTo files: Int) {
            while o < others.count, others[o].filesBefore == files {
                entries.append(others[o].entry)
                used += others[o].entry.writeLine(to: text + used)
                text[used] = UInt8(ascii: "\n")
                used += 1
                o += 1
            }
        }
        for batch in queue.done {
            batch.lines.withUnsafeBufferPointer { lines in
                var start = 0
                for (i, e) in batch.entries.enumerated() {
                    addOthers(upTo: entries.count - o)
                    entries.append(e)
                    let end = batch.lineEnds[i]
                    (text + used).update(from: lines.baseAddress! + start, count: end - start)
                    used += end - start
                    start = end
                }
            }
        }
        addOthers(upTo: walker.fileCount)
        let written = Data(bytesNoCopy: text, count: used, deallocator: .free)
        return Manifest(entries: entries, text: written)
    }

    /// Files found by the walk, handed to the hashing threads in batches.
    final class Batch: @unchecked Sendable {
        // @unchecked: `entries` is written by the one thread that took the batch, and
        // read after every thread has finished.
        /// Emptied once hashed.
        var files: [(rel: String, ref: FileRef)]
        /// The files' manifest entries, in order, once hashed.
        var entries: [ManifestEntry] = []
        /// Their canonical lines, one after the other, and where each ends.
        var lines: [UInt8] = []
        var lineEnds: [Int] = []
        init(_ files: [(rel: String, ref: FileRef)]) {
            self.files = files
        }
    }

    /// A queue of batches: the walk pushes, the hashing threads (the walk's own thread
    /// too, once it is done) take; the first error stops everyone.
    final class BatchQueue: @unchecked Sendable {
        // @unchecked: every field is guarded by `condition`.
        private let condition = NSCondition()
        private var pending: [Batch] = []
        private var next = 0
        private var closed = false
        private(set) var error: (any Error)?
        /// Every batch pushed, in order.
        private(set) var done: [Batch] = []
        let handler: FileHandler

        init(handler: @escaping FileHandler) { self.handler = handler }

        func push(_ batch: Batch) {
            condition.lock()
            pending.append(batch)
            done.append(batch)
            condition.signal()
            condition.unlock()
        }

        func close() {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }

        func fail(_ e: any Error) {
            condition.lock()
            if error == nil { error = e }
            closed = true
            condition.broadcast()
            condition.unlock()
        }

        private func take() -> Batch? {
            condition.lock()
            defer { condition.unlock() }
            while next == pending.count && !closed && error == nil { condition.wait() }
            guard error == nil, next < pending.count else { return nil }
            next += 1
            return pending[next - 1]
        }

        /// Hashes batches until the queue is closed and empty (or failed).
        func drain() {
            let scratch = Scratch()
            while let batch = take() {
                do {
                    var entries: [ManifestEntry] = []
                    var ends: [Int] = []
                    entries.reserveCapacity(batch.files.count)
                    ends.reserveCapacity(batch.files.count)
                    let lines = scratch.lineBuffer(batch.files.reduce(0) { $0 + ManifestEntry.maxLineLength(pathBytes: $1.rel.utf8.count) + 1 })
                    var count = 0
                    for f in batch.files {
                        let digest = try handler(f.ref, scratch)
                        let e = ManifestEntry.file(f.rel, executable: scratch.executable, digest: digest)
                        count += e.writeLine(to: lines + count)
                        lines[count] = UInt8(ascii: "\n")
                        count += 1
                        ends.append(count)
                        entries.append(e)
                    }
                    // Exactly sized (lines are shorter than their bound), and the walk's
                    // list let go: peak memory on 100,000 files 83 -> 72 MiB.
                    batch.lines = Array(UnsafeBufferPointer(start: lines, count: count))
                    batch.entries = entries
                    batch.lineEnds = ends
                    batch.files = []
                } catch {
                    fail(error)
                }
            }
        }
    }

    /// Streams one file through SHA-256 with the scratch buffer.
    /// - Throws: `ReproError(.invalidInput)` when it cannot be opened (open(2)),
    ///   `ReproError(.system)` when read(2) fails.
    @Sendable static func hashFile(_ file: FileRef, _ scratch: Scratch) throws -> Digest {
        let buffer = scratch.buffer
        let fd = try scratch.openRegular(file)
        defer { close(fd) }
        scratch.sha.reset()
        // Large files are hashed straight from the page cache through a read-only
        // mapping: no copy into the buffer (about a sixth of the time on 1 GB trees).
        if scratch.size >= mmapThreshold,
           let map = mmap(nil, scratch.size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED {
            defer { munmap(map, scratch.size) }
            madvise(map, scratch.size, MADV_SEQUENTIAL)
            scratch.sha.update(UnsafeRawBufferPointer(start: map, count: scratch.size))
            return scratch.sha.finish()
        }
        var total = 0
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                // The file is the caller's input (a directory to hash, a build's outputs):
                // a file the kernel refuses to read (/proc/self/attr/current: EINVAL) is
                // bad input naming it, not an internal error.
                throw ReproError(.invalidInput, "cannot read \(file.path): \(Syscall.errorString(errno)); only regular files that can be read are hashed (this one may be a kernel pseudo-file); remove it or hash another directory")
            }
            if n == 0 { break }
            scratch.sha.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += n
            // A short read that reaches the size fstat saw is the end: spares the read of 0.
            if n < buffer.count && total >= scratch.size { break }
        }
        return scratch.sha.finish()
    }

    /// Runs `handler` over `paths` on `workers` threads (default: cores), each thread
    /// with its own read buffer; results in order; the first error wins.
    static func parallel<T: Sendable, R>(_ paths: [T], workers: Int?,
                                         _ handler: @Sendable (T, Scratch) throws -> R) throws -> [R] {
        try Parallel.map(paths, workers: workers, state: { Scratch() }, handler)
    }
}

/// Depth-first directory walk with lstat, collecting directories and links, and handing
/// the regular files to the hashing threads in batches.
private struct Walker {
    let root: String
    let queue: TreeHasher.BatchQueue
    /// Directories and links, each with the number of files the walk had met before it.
    var others: [(entry: ManifestEntry, filesBefore: Int)] = []
    /// Regular files met so far.
    var fileCount = 0
    /// Regular files not yet handed over (their mode is read when they are opened).
    var files: [(rel: String, ref: TreeHasher.FileRef)] = []
    static let batchSize = 64
    /// Directories kept open for openat(2), closed by `closeAll`.
    private var openDirs: [OpaquePointer] = []
    static let maxOpen = 256

    init(root: String, queue: TreeHasher.BatchQueue) {
        self.root = root
        self.queue = queue
    }

    /// Hands the files found so far to the hashing threads.
    mutating func flush() {
        if files.isEmpty { return }
        queue.push(TreeHasher.Batch(files))
        files.removeAll(keepingCapacity: true)
    }

    mutating func add(_ file: (rel: String, ref: TreeHasher.FileRef)) {
        files.append(file)
        fileCount += 1
        if files.count >= Walker.batchSize { flush() }
    }

    mutating func closeAll() {
        for d in openDirs { closedir(d) }
        openDirs = []
    }

    /// A name in C order, its first 8 bytes kept as a big-endian integer: in a directory
    /// of 150 files the sort makes about 1,000 comparisons, most settled by the integers.
    private struct SortKey: Comparable {
        let name: String
        let prefix: UInt64

        init(_ name: String) {
            self.name = name
            var p: UInt64 = 0, n = 0
            for b in name.utf8.prefix(8) {
                p |= UInt64(b) << (56 - 8 * n)
                n += 1
            }
            // Names hold no NUL byte, so zero padding sorts a shorter name first.
            prefix = p
        }

        static func < (a: SortKey, b: SortKey) -> Bool {
            a.prefix != b.prefix ? a.prefix < b.prefix : Manifest.bytewiseLess(a.name, b.name)
        }

        static func == (a: SortKey, b: SortKey) -> Bool { a.name == b.name }
    }

    /// What one directory holds, in the order the walk visits it.
    private enum Step {
        /// A directory's own entry, at its name.
        case dirEntry(String)
        /// What is below a directory: every path there starts with its name and "/".
        case subtree(String)
        /// Anything else, with the type readdir(3) gave (DT_UNKNOWN on some file systems).
        case entry(String, UInt8)
    }

    /// Walks `relative` (below the root) in manifest order, so that the entries need no
    /// sort afterwards: a directory is visited twice in its parent's order, its own entry
    /// at its name and its contents at its name + "/" (so "a", "a.txt", "a/b" in C order).
    mutating func walk(relative: String) throws {
        let dirPath = relative.isEmpty ? root : root + "/" + relative
        // Below the root a directory is never entered through a link, even one that
        // replaced it since readdir(3) (O_NOFOLLOW); the root itself may be a link.
        let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (relative.isEmpty ? 0 : O_NOFOLLOW)
        let dfd = open(dirPath, flags)
        guard dfd >= 0, let dir = fdopendir(dfd) else {
            let e = errno
            throw ReproError(.invalidInput, "opendir \(dirPath): \(Syscall.errorString(e))")
        }
        let keep = openDirs.count < Walker.maxOpen
        if keep { openDirs.append(dir) }
        defer { if !keep { closedir(dir) } }
        let fd = dirfd(dir)
        var steps: [(key: SortKey, step: Step)] = []
        while let ent = readdir(dir) {
            let name: String? = withUnsafePointer(to: &ent.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(validatingCString: $0) }
            }
            guard let name else {
                throw ReproError(.invalidInput, "\(dirPath): an entry's name is not UTF-8; outputs must have UTF-8 names")
            }
            if name == "." || name == ".." { continue }
            var type = ent.pointee.d_type
            if type == UInt8(DT_UNKNOWN) {
                var st = stat()
                let full = dirPath + "/" + name
                guard lstat(full, &st) == 0 else {
                    throw ReproError(.invalidInput, "lstat \(full): \(Syscall.errorString(errno))")
                }
                if st.st_mode & S_IFMT == S_IFDIR { type = UInt8(DT_DIR) }
            }
            if type == UInt8(DT_DIR) {
                steps.append((SortKey(name), .dirEntry(name)))
                steps.append((SortKey(name + "/"), .subtree(name)))
            } else {
                steps.append((SortKey(name), .entry(name, type)))
            }
        }
        steps.sort { $0.key < $1.key }
        for (_, step) in steps {
            switch step {
            case .dirEntry(let name):
                others.append((.dir(relative.isEmpty ? name : relative + "/" + name), fileCount))
            case .subtree(let name):
                try walk(relative: relative.isEmpty ? name : relative + "/" + name)
            case .entry(let name, let type):
                let rel = relative.isEmpty ? name : relative + "/" + name
                let ref = keep ? TreeHasher.FileRef(dirfd: fd, name: name, dir: dirPath) : TreeHasher.FileRef(path: root + "/" + rel)
                // d_type spares an lstat per file; a file system without it says DT_UNKNOWN.
                if type == UInt8(DT_REG) {
                    add((rel, ref))
                    continue
                }
                let full = root + "/" + rel
                var st = stat()
                guard lstat(full, &st) == 0 else {
                    throw ReproError(.invalidInput, "lstat \(full): \(Syscall.errorString(errno))")
                }
                switch st.st_mode & S_IFMT {
                case S_IFREG:
                    add((rel, ref))
                case S_IFLNK:
                    others.append((.symlink(rel, target: try readLink(full)), fileCount))
                default:
                    throw ReproError(.invalidInput, "\(full) is \(TreeHasher.describe(st.st_mode)); outputs may only hold regular files, directories and symbolic links")
                }
            }
        }
    }

    func readLink(_ path: String) throws -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try Syscall.check("readlink \(path)") { readlink(path, &buf, buf.count - 1) }
        let bytes = buf[0..<n].map { UInt8(bitPattern: $0) }
        guard let target = String(validating: bytes, as: UTF8.self) else {
            throw ReproError(.invalidInput, "\(path): link target is not UTF-8; outputs must have UTF-8 link targets")
        }
        return target
    }
}
