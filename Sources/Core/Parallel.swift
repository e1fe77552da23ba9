import Dispatch
import Foundation
import Synchronization

/// An ordered parallel map: the one place work is spread over the cores by index
/// (store verify, restoring trees, the SBOM's SHA-1s).
public enum Parallel {
    /// Runs `body` over `items` on `workers` threads (default: cores), each thread with
    /// its own `state` (a read buffer, a hash context); results in order; the first
    /// error wins and stops the rest.
    public static func map<T: Sendable, S, R>(_ items: [T], workers: Int? = nil, state: @Sendable () -> S,
                                              _ body: @Sendable (T, S) throws -> R) throws -> [R] {
        if items.isEmpty { return [] }
        let threads = max(1, min(items.count, workers ?? ProcessInfo.processInfo.activeProcessorCount))
        let results = Results<R>(count: items.count)
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let local = state()
            while !results.failed {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= items.count { break }
                do {
                    results.set(i, try body(items[i], local))
                } catch {
                    results.fail(error)
                }
            }
        }
        return try results.values()
    }

    /// Results slots written by index from several threads (each index once).
    private final class Results<R>: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<R?>
        private let lock = Mutex<(any Error)?>(nil)
        private let failedFlag = Atomic<Bool>(false)

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: nil)
        }

        deinit {
            slots.deinitialize()
            slots.deallocate()
        }

        var failed: Bool { failedFlag.load(ordering: .relaxed) }

        func set(_ i: Int, _ d: R) {
            slots[i] = d
        }

        func fail(_ error: any Error) {
            lock.withLock { if $0 == nil { $0 = error } }
            failedFlag.store(true, ordering: .relaxed)
        }

        func values() throws -> [R] {
            if let e = lock.withLock({ $0 }) { throw e }
            return slots.map { $0! }
        }
    }
}
