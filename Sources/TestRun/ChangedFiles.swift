import Core
import Store

/// Files changed between two builds' staged inputs (`/build/src` as the inputs were
/// unpacked, before the build ran), from the manifests in the store: no git, no CI
/// plugin. Paths are relative to /build/src (`boltons/boltons/cacheutils.py`).
public enum ChangedFiles {
    /// Added, removed and modified files and symlinks, sorted; directories only count
    /// through their contents.
    public static func between(_ old: Manifest, _ new: Manifest) -> [String] {
        func index(_ m: Manifest) -> [String: String] {
            var d: [String: String] = [:]
            for e in m.entries where e.kind != .dir {
                d[e.path] = "\(e.kind) \(e.mode) \(e.digest?.description ?? "") \(e.target ?? "")"
            }
            return d
        }
        let a = index(old), b = index(new)
        var out: [String] = []
        for (p, v) in b where a[p] != v { out.append(p) }
        for p in a.keys where b[p] == nil { out.append(p) }
        return out.sorted()
    }

    /// Changed files between the manifests stored under two digests; nil when either
    /// is missing from the store (a first run, a store that was collected).
    public static func between(_ old: String?, _ new: String?, store: Store) -> [String]? {
        guard let old, let new, let o = try? Digest.parse(old), let n = try? Digest.parse(new),
              let om = try? store.manifest(tree: o), let nm = try? store.manifest(tree: n) else { return nil }
        return between(om, nm)
    }
}
