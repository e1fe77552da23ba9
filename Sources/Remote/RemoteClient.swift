import Core
import RemoteSettings
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import RemoteAPI
import Synchronization

typealias Transport = HTTP2ClientTransport.Posix
typealias RE = Build_Bazel_Remote_Execution_V2_Digest

extension Build_Bazel_Remote_Execution_V2_Digest {
    init(_ d: Digest) {
        self.init()
        hash = d.hex
        sizeBytes = d.size
    }
    var digest: Digest { Digest(hex: hash, size: sizeBytes) }
}


/// A connection to one REAPI v2 server (grpc-swift-2 over HTTP/2, plaintext): the
/// Capabilities, ContentAddressableStorage, ByteStream, ActionCache and Execution
/// services of one instance. Transient failures (UNAVAILABLE, DEADLINE_EXCEEDED,
/// RESOURCE_EXHAUSTED, ABORTED) are retried with exponential backoff (0.2 s, doubling)
/// `retries` times, then reported as `ReproError(.remoteUnavailable)`.
public final class RemoteClient: Sendable {
    public let endpoint: RemoteEndpoint
    let grpc: GRPCClient<Transport>
    private let connections: Task<Void, Never>
    let cas: Build_Bazel_Remote_Execution_V2_ContentAddressableStorage.Client<Transport>
    let actionCache: Build_Bazel_Remote_Execution_V2_ActionCache.Client<Transport>
    let execution: Build_Bazel_Remote_Execution_V2_Execution.Client<Transport>
    let capabilities: Build_Bazel_Remote_Execution_V2_Capabilities.Client<Transport>
    let byteStream: Google_Bytestream_ByteStream.Client<Transport>
    let bots: Google_Devtools_Remoteworkers_V1test2_Bots.Client<Transport>
    let retries: Int
    private let batchLimit = Mutex<Int?>(nil)

    /// Opens a connection lazily (the first call connects).
    /// - Throws: `ReproError(.invalidInput)` when the host cannot be resolved as a target.
    public init(_ endpoint: RemoteEndpoint, retries: Int = 4) throws {
        self.endpoint = endpoint
        self.retries = retries
        let transport: Transport
        do {
            transport = try Transport(target: .dns(host: endpoint.host, port: endpoint.port), transportSecurity: .plaintext)
        } catch {
            throw ReproError(.invalidInput, "\(endpoint): not a usable gRPC target (\(error))")
        }
        let grpc = GRPCClient(transport: transport)
        self.grpc = grpc
        connections = Task { try? await grpc.runConnections() }
        cas = .init(wrapping: grpc)
        actionCache = .init(wrapping: grpc)
        execution = .init(wrapping: grpc)
        capabilities = .init(wrapping: grpc)
        byteStream = .init(wrapping: grpc)
        bots = .init(wrapping: grpc)
    }

    /// Closes the connection once the RPCs in flight are done.
    public func close() async {
        grpc.beginGracefulShutdown()
        await connections.value
    }

    /// `close()` from synchronous code.
    public func closeBlocking() {
        try? blocking { await self.close() }
    }

    func options(timeout: Duration = .seconds(300)) -> CallOptions {
        var o = CallOptions.defaults
        o.timeout = timeout
        o.waitForReady = false
        o.maxRequestMessageBytes = 64 << 20
        o.maxResponseMessageBytes = 64 << 20
        return o
    }

    var instance: String { endpoint.instance }

    // MARK: errors and retries

    static func transient(_ code: RPCError.Code) -> Bool {
        [.unavailable, .deadlineExceeded, .resourceExhausted, .aborted].contains(code)
    }

    /// Runs `body`, retrying transient failures with backoff; other errors become
    /// ReproErrors that name the call, the server and what to do.
    func call<T: Sendable>(_ what: String, attempts: Int? = nil, passNotFound: Bool = false,
                           _ body: () async throws -> T) async throws -> T {
        let total = attempts ?? retries + 1
        var delay = 0.2
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let e as RPCError where passNotFound && e.code == .notFound {
                throw e
            } catch let e as RPCError where Self.transient(e.code) && attempt < total {
                try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                delay *= 2
                attempt += 1
            } catch {
                throw describe(error, what, attempts: attempt)
            }
        }
    }

    func describe(_ error: any Error, _ what: String, attempts: Int = 1) -> any Error {
        guard let e = error as? RPCError else { return error }
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        switch e.code {
        case .unavailable, .deadlineExceeded, .resourceExhausted, .aborted:
            return ReproError(.remoteUnavailable, "\(what): the REAPI server at \(endpoint) is unavailable\(tries) (\(e.code): \(e.message)); check that it runs and the address is right")
        case .invalidArgument where e.message.lowercased().contains("instance"):
            return ReproError(.invalidInput, "\(what): the server at \(endpoint) rejects instance name '\(instance)' (\(e.message)); pass the server's instance with --instance")
        case .notFound:
            return ReproError(.invalidInput, "\(what): not found at \(endpoint) (\(e.message))")
        case .unimplemented:
            return ReproError(.invalidInput, "\(what): the server at \(endpoint) does not offer this service (\(e.message)); is it a REAPI v2 server with this service configured for instance '\(instance)'?")
        default:
            return ReproError(.system, "\(what) at \(endpoint) failed: \(e.code): \(e.message)")
        }
    }

    // MARK: Capabilities

    /// GetCapabilities: checks SHA-256 and returns the batch size limit.
    public func getCapabilities() async throws -> Build_Bazel_Remote_Execution_V2_ServerCapabilities {
        var req = Build_Bazel_Remote_Execution_V2_GetCapabilitiesRequest()
        req.instanceName = instance
        let caps = try await call("GetCapabilities") {
            try await capabilities.getCapabilities(req, options: options(timeout: .seconds(30))) { try $0.message }
        }
        let functions = caps.cacheCapabilities.digestFunctions
        if !functions.isEmpty, !functions.contains(.sha256) {
            throw ReproError(.invalidInput, "the server at \(endpoint) does not offer SHA-256 digests (it offers \(functions)); repro needs SHA-256")
        }
        return caps
    }

    /// The largest BatchUpdateBlobs/BatchReadBlobs request the server takes (its
    /// capability, at most 4 MiB less framing, which is gRPC's default message limit).
    func maxBatchBytes() async throws -> Int {
        if let known = batchLimit.withLock({ $0 }) { return known }
        let caps = try await getCapabilities()
        var limit = Int(caps.cacheCapabilities.maxBatchTotalSizeBytes)
        if limit <= 0 || limit > (4 << 20) { limit = 4 << 20 }
        limit -= 64 << 10
        batchLimit.withLock { $0 = limit }
        return limit
    }

    // MARK: ContentAddressableStorage

    /// FindMissingBlobs, in requests of 10,000 digests.
    public func findMissing(_ digests: [Digest]) async throws -> [Digest] {
        var missing: [Digest] = []
        let unique = Array(Set(digests)).sorted()
        for start in stride(from: 0, to: unique.count, by: 10_000) {
            var req = Build_Bazel_Remote_Execution_V2_FindMissingBlobsRequest()
            req.instanceName = instance
            req.blobDigests = unique[start..<min(start + 10_000, unique.count)].map(RE.init)
            let resp = try await call("FindMissingBlobs") {
                try await cas.findMissingBlobs(req, options: options()) { try $0.message }
            }
            missing += resp.missingBlobDigests.map(\.digest)
        }
        return missing
    }

    /// BatchUpdateBlobs of blobs that fit one request; every per-blob status must be OK.
    func batchUpdate(_ blobs: [(Digest, Data)]) async throws {
        var req = Build_Bazel_Remote_Execution_V2_BatchUpdateBlobsRequest()
        req.instanceName = instance
        req.requests = blobs.map { d, data in
            var r = Build_Bazel_Remote_Execution_V2_BatchUpdateBlobsRequest.Request()
            r.digest = RE(d)
            r.data = data
            return r
        }
        let resp = try await call("BatchUpdateBlobs") {
            try await cas.batchUpdateBlobs(req, options: options()) { try $0.message }
        }
        for r in resp.responses where r.status.code != 0 {
            throw ReproError(.system, "BatchUpdateBlobs at \(endpoint): sha256:\(r.digest.hash) was refused: \(Google_Rpc_Code(rawValue: Int(r.status.code)).map { "\($0)" } ?? "code \(r.status.code)"): \(r.status.message)")
        }
    }

    /// BatchReadBlobs; each blob is checked against its digest before it is returned
    /// (unless `verify` is false: the caller checks as it writes, `BlobReceiver`).
    /// - Throws: `ReproError(.verificationFailed)` naming a blob whose bytes do not match.
    func batchRead(_ digests: [Digest], verify: Bool = true) async throws -> [(Digest, Data)] {
        var req = Build_Bazel_Remote_Execution_V2_BatchReadBlobsRequest()
        req.instanceName = instance
        req.digests = digests.map(RE.init)
        let resp = try await call("BatchReadBlobs") {
            try await cas.batchReadBlobs(req, options: options()) { try $0.message }
        }
        var out: [(Digest, Data)] = []
        var pending = Set(digests)
        for r in resp.responses {
            let d = r.digest.digest
            // Only what was asked for, each once: a server cannot slip other blobs in.
            guard pending.remove(d) != nil else {
                throw ReproError(.verificationFailed, "the remote at \(endpoint) answered BatchReadBlobs with \(d), which was not asked for (or twice); rejected, nothing stored")
            }
            guard r.status.code == 0 else {
                if r.status.code == Int32(Google_Rpc_Code.notFound.rawValue) {
                    throw ReproError(.invalidInput, "\(d) is not in the remote CAS at \(endpoint)")
                }
                throw ReproError(.system, "BatchReadBlobs at \(endpoint): \(d): code \(r.status.code): \(r.status.message)")
            }
            if verify { try Self.verify(r.data, as: d, from: endpoint) }
            out.append((d, r.data))
        }
        if let missing = pending.first {
            throw ReproError(.system, "the remote at \(endpoint) left \(missing) out of its BatchReadBlobs answer (\(pending.count) of \(Set(digests).count) blobs missing)")
        }
        return out
    }

    static func verify(_ data: Data, as expected: Digest, from endpoint: RemoteEndpoint) throws {
        let actual = Digest.of(data)
        guard actual.hex == expected.hex, actual.size == expected.size else {
            throw ReproError(.verificationFailed, "the remote at \(endpoint) sent \(actual.size) bytes hashing to \(actual) for blob \(expected) (\(expected.size) bytes); rejected, nothing stored")
        }
    }

    // MARK: ByteStream

    func resourceName(read d: Digest) -> String {
        (instance.isEmpty ? "" : instance + "/") + "blobs/\(d.hex)/\(d.size)"
    }

    /// ByteStream.Read of a whole blob, checked against its digest (unless `verify` is
    /// false: the caller checks as it writes).
    func byteStreamRead(_ d: Digest, verify: Bool = true) async throws -> Data {
        var req = Google_Bytestream_ReadRequest()
        req.resourceName = resourceName(read: d)
        let data = try await call("ByteStream.Read \(d)") {
            try await byteStream.read(req, options: options(timeout: .seconds(3600))) { response in
                var data = Data(capacity: Int(d.size))
                for try await chunk in response.messages {
                    // A server that streams past the digest's size is refused at once,
                    // not held in memory until the stream ends.
                    guard data.count + chunk.data.count <= Int(d.size) else {
                        throw ReproError(.verificationFailed, "the remote at \(self.endpoint) sent more than the \(d.size) bytes of blob \(d) over ByteStream; rejected, nothing stored")
                    }
                    data.append(chunk.data)
                }
                return data
            }
        }
        if verify { try Self.verify(data, as: d, from: endpoint) }
        return data
    }

    /// ByteStream.Write of a whole blob in 1 MiB chunks.
    func byteStreamWrite(_ d: Digest, _ data: Data) async throws {
        let name = (instance.isEmpty ? "" : instance + "/") + "uploads/\(UUID().uuidString.lowercased())/blobs/\(d.hex)/\(d.size)"
        let chunk = 1 << 20
        let resp = try await call("ByteStream.Write \(d)") {
            try await byteStream.write(options: options(timeout: .seconds(3600)), requestProducer: { writer in
                var offset = 0
                repeat {
                    let end = min(offset + chunk, data.count)
                    var r = Google_Bytestream_WriteRequest()
                    if offset == 0 { r.resourceName = name }
                    r.writeOffset = Int64(offset)
                    r.data = data.subdata(in: offset..<end)
                    r.finishWrite = end == data.count
                    try await writer.write(r)
                    offset = end
                } while offset < data.count
            }) { try $0.message }
        }
        guard resp.committedSize == d.size || resp.committedSize == -1 else {
            throw ReproError(.system, "ByteStream.Write \(d) at \(endpoint): the server committed \(resp.committedSize) of \(d.size) bytes")
        }
    }

    // MARK: ActionCache

    /// GetActionResult; nil when the server has none (NOT_FOUND).
    public func getActionResult(_ action: Digest) async throws -> Build_Bazel_Remote_Execution_V2_ActionResult? {
        var req = Build_Bazel_Remote_Execution_V2_GetActionResultRequest()
        req.instanceName = instance
        req.actionDigest = RE(action)
        do {
            return try await call("GetActionResult", passNotFound: true) {
                try await actionCache.getActionResult(req, options: options(timeout: .seconds(60))) { try $0.message }
            }
        } catch let e as RPCError where e.code == .notFound {
            return nil
        }
    }

    /// UpdateActionResult.
    public func updateActionResult(_ action: Digest, _ result: Build_Bazel_Remote_Execution_V2_ActionResult) async throws {
        var req = Build_Bazel_Remote_Execution_V2_UpdateActionResultRequest()
        req.instanceName = instance
        req.actionDigest = RE(action)
        req.actionResult = result
        _ = try await call("UpdateActionResult") {
            try await actionCache.updateActionResult(req, options: options(timeout: .seconds(60))) { try $0.message }
        }
    }
}

/// Runs async work to completion from synchronous code (the CLI and `Builder` are
/// synchronous; gRPC is async). Must not be called from a task of the concurrency pool.
public func blocking<T: Sendable>(_ body: @Sendable @escaping () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let r: Result<T, any Error>
        do { r = .success(try await body()) } catch { r = .failure(error) }
        result.withLock { $0 = r }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}
