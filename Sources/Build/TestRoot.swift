import Core
import Fetch
import Foundation
import Recipe
import Store

extension Builder {
    /// The root a recipe's `[test]` step runs over: the lock's `test` closure (toolchain
    /// and test packages resolved together) or, without test packages, the build's own
    /// toolchain; assembled once per id like the build's. nil for a host toolchain.
    /// - Throws: `.invalidInput` with `offline` when a package is not in the store,
    ///   `.verificationFailed` when a fetched .deb does not match its pin.
    public func testRoot(lock: LockFile, offline: Bool, progress: Bool) throws -> String? {
        guard lock.toolchain.kind == "debian" else { return nil }
        let packages = lock.test?.packages ?? lock.toolchain.packages
        let pins = packages.map(DebPin.init)
        let tmp = store.root + "/tmp/testroot-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? RemoveTree.remove(tmp) }
        let locker = Locker(store: store, progress: progress)
        let stager = InputStager(store: store, offline: offline, progress: progress, apt: { try locker.apt() })
        // An assembled root means its .debs were fetched and pinned by the run that
        // assembled it: nothing to check or write again (a pin is a transaction each).
        let assembled = store.root + "/roots/" + ToolchainRoot.id(of: pins)
        if FileManager.default.fileExists(atPath: assembled) { return assembled }
        let debs = try stager.debs(pins, tmp: tmp)
        for p in packages { try store.pin(p.digest, note: "test toolchain: \(p.name)") }
        return try ToolchainRoot.assemble(debs, cacheDir: store.root, progress: progress)
    }
}
