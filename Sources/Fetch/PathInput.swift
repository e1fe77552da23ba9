import Core
import Foundation

/// A recipe's `path` input may not reach outside the recipe's directory through a
/// symbolic link: not the path itself, not a directory on the way, not a link inside an
/// input directory. Otherwise `tarlink.tar -> /etc/shadow` put the host's file in the
/// lock (its sha256), in /out and in the store.
public enum PathInput {
    /// Checks `directory/relative` and, when it is a directory, every link below it.
    /// - Returns: the path to read (`directory/relative`), unchanged.
    /// - Throws: `ReproError(.invalidInput)` naming the link and where it leads.
    public static func check(directory: String, relative: String, what: String) throws -> String {
        let path = directory + "/" + relative
        guard let root = realPath(directory) else { return path }
        let inside = { (p: String) in p == root || p.hasPrefix(root == "/" ? "/" : root + "/") }
        // The path and every directory on the way: the first link that leaves.
        var walked = directory
        for part in relative.split(separator: "/") {
            walked += "/" + part
            guard let target = readLink(walked) else { continue }
            let resolved = realPath(walked) ?? lexical(target, from: (walked as NSString).deletingLastPathComponent)
            if !inside(resolved) { throw escape(what, walked, target, resolved) }
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return path }
        // Links inside an input directory, followed or not, must stay inside too.
        guard let walker = FileManager.default.enumerator(atPath: path) else { return path }
        while let rel = walker.nextObject() as? String {
            let p = path + "/" + rel
            guard let target = readLink(p) else { continue }
            let resolved = realPath(p) ?? lexical(target, from: (p as NSString).deletingLastPathComponent)
            if !inside(resolved) { throw escape(what, p, target, resolved) }
        }
        return path
    }

    static func escape(_ what: String, _ link: String, _ target: String, _ resolved: String) -> ReproError {
        ReproError(.invalidInput, "\(what): \(link) is a symbolic link to \(target) (\(resolved)), outside the recipe's directory; inputs must stay inside it: copy the file in, or remove the link")
    }

    /// realpath(3), nil when the path (or a link on it) does not resolve.
    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// A dangling link's target, made absolute and without `.`/`..`, by its text alone.
    static func lexical(_ target: String, from dir: String) -> String {
        var parts: [Substring] = []
        for c in (target.hasPrefix("/") ? target : dir + "/" + target).split(separator: "/") {
            if c == "." { continue }
            if c == ".." { _ = parts.popLast() } else { parts.append(c) }
        }
        return "/" + parts.joined(separator: "/")
    }

    static func readLink(_ path: String) -> String? {
        var buf = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = buf.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1) }
        guard n >= 0 else { return nil }
        return String(decoding: buf[..<n], as: UTF8.self)
    }
}
