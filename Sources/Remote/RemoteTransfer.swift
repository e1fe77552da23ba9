import Core
import Foundation
import Store

/// What an upload or download moved.
public struct TransferStats: Codable, Sendable, Hashable {
    public var blobs = 0
    public var bytes: Int64 = 0
    public init() {}
    mutating func add(_ d: Digest) { blobs += 1; bytes += d.size }
    static func + (a: TransferStats, b: TransferStats) -> TransferStats {
        var s = a; s.blobs += b.blobs; s.bytes += b.bytes; return s
    }
}

extension RemoteClient {
    /// How many batch or ByteStream requests are in flight at once.
    static let parallelRequests = 4

    /// Splits blobs into BatchUpdate/BatchRead groups under the server's size limit and
    /// single blobs for ByteStream (those over the limit).
    func plan(_ digests: [Digest]) async throws -> [[Digest]] {
        let limit = try await maxBatchBytes()
        var jobs: [[Digest]] = [], current: [Digest] = [], size = 0
        for d in Set(digests).sorted(by: { $0.size > $1.size }) {
            let cost = Int(d.size) + 128
            if cost > limit { jobs.append([d]); continue }
            if size + cost > limit || current.count >= 2_000 {
                jobs.append(current); current = []; size = 0
            }
            current.append(d); size += cost
        }
        if !current.isEmpty { jobs.append(current) }
        return jobs
    }

    /// Runs `body` for each job with at most `parallelRequests` in flight.
    func forEachJob(_ jobs: [[Digest]], _ body: @Sendable @escaping ([Digest]) async throws -> TransferStats) async throws -> TransferStats {
        try await withThrowingTaskGroup(of: TransferStats.self) { group in
            var total = TransferStats(), next = 0, inFlight = 0
            while next < jobs.count || inFlight > 0 {
                while next < jobs.count, inFlight < Self.parallelRequests {
                    let job = jobs[next]
                    group.addTask { try await body(job) }
                    next += 1; inFlight += 1
                }
                if let s = try await group.next() { total = total + s; inFlight -= 1 }
            }
            return total
        }
    }

    /// Uploads the blobs the server lacks (FindMissingBlobs first), read from the
    /// store and checked on the way.
    /// - Throws: `ReproError(.invalidInput)` for a blob the store lacks,
    ///   `ReproError(.remoteUnavailable)` when the server stays unreachable.
    @discardableResult
    public func upload(_ digests: [Digest], from store: Store) async throws -> TransferStats {
        let missing = try await findMissing(digests)
        let limit = try await maxBatchBytes()
        return try await forEachJob(try await plan(missing)) { job in
            var s = TransferStats()
            if job.count == 1, job[0].size + 128 > limit {
                try await self.byteStreamWrite(job[0], try store.get(job[0]))
            } else {
                try await self.batchUpdate(try job.map { ($0, try store.get($0)) })
            }
            for d in job { s.add(d) }
            return s
        }
    }

    /// Downloads the blobs the local store lacks; each is checked against its digest as
    /// it is written (a mismatch stops the download and names the blob), and all of them
    /// enter the store together at the end, behind one durability barrier
    /// (`BlobReceiver`): nothing is half-written when the download fails.
    @discardableResult
    public func download(_ digests: [Digest], into store: Store) async throws -> TransferStats {
        let wanted = Array(Set(digests.filter { !store.contains($0) }))
        let limit = try await maxBatchBytes()
        let receiver = try store.blobReceiver()
        do {
            let stats = try await forEachJob(try await plan(wanted)) { job in
                var s = TransferStats()
                if job.count == 1, job[0].size + 128 > limit {
                    try self.receive(job[0], try await self.byteStreamRead(job[0], verify: false), into: receiver)
                } else {
                    for (d, data) in try await self.batchRead(job, verify: false) { try self.receive(d, data, into: receiver) }
                }
                for d in job { s.add(d) }
                return s
            }
            try receiver.commit()
            return stats
        } catch {
            receiver.abandon()
            throw error
        }
    }

    /// One downloaded blob into the receiver, which checks it; a mismatch names the remote.
    private func receive(_ d: Digest, _ data: Data, into receiver: BlobReceiver) throws {
        do {
            try receiver.add(d, data)
        } catch let e as ReproError where e.code == .verificationFailed {
            throw ReproError(.verificationFailed, "the remote at \(endpoint) sent \(data.count) bytes for blob \(d) that do not match its digest (\(e.message)); rejected, nothing stored")
        }
    }

    /// One blob's bytes, checked (BatchRead or ByteStream by size).
    public func fetch(_ d: Digest) async throws -> Data {
        if Int(d.size) + 128 > (try await maxBatchBytes()) { return try await byteStreamRead(d) }
        guard let (_, data) = try await batchRead([d]).first else {
            throw ReproError(.invalidInput, "\(d) is not in the remote CAS at \(endpoint)")
        }
        return data
    }

    /// Uploads bytes that are not in a store (action, command, directory messages).
    public func put(_ blobs: [(Digest, Data)]) async throws {
        let missing = Set(try await findMissing(blobs.map(\.0)))
        let limit = try await maxBatchBytes()
        var small: [(Digest, Data)] = [], size = 0
        for (d, data) in blobs where missing.contains(d) {
            if data.count + 128 > limit { try await byteStreamWrite(d, data); continue }
            if size + data.count + 128 > limit { try await batchUpdate(small); small = []; size = 0 }
            small.append((d, data)); size += data.count + 128
        }
        if !small.isEmpty { try await batchUpdate(small) }
    }
}
