import Core
import RemoteSettings
import Foundation
import GRPCCore
import RemoteAPI
import SwiftProtobuf

typealias ExecuteResponse = Build_Bazel_Remote_Execution_V2_ExecuteResponse

extension RemoteClient {
    /// Execute, following the operation stream to its end; when the stream breaks
    /// before the operation is done, WaitExecution picks it up again (retried like
    /// every call). Returns the ExecuteResponse of the finished operation.
    /// - Throws: `ReproError(.failed)` when the server reports the execution failed
    ///   (status not OK), `ReproError(.remoteUnavailable)` when it cannot be reached.
    public func execute(_ action: Digest, skipCacheLookup: Bool) async throws -> Build_Bazel_Remote_Execution_V2_ExecuteResponse {
        var req = Build_Bazel_Remote_Execution_V2_ExecuteRequest()
        req.instanceName = instance
        req.actionDigest = RE(action)
        req.skipCacheLookup = skipCacheLookup
        let first = try await call("Execute") {
            try await execution.execute(req, options: options(timeout: .seconds(4 * 3600))) { response in
                try await Self.follow(response)
            }
        }
        var (name, done) = first
        var waits = 0
        while done == nil {
            guard let opName = name else {
                throw ReproError(.system, "Execute at \(endpoint): the server ended the operation stream before naming the operation")
            }
            var w = Build_Bazel_Remote_Execution_V2_WaitExecutionRequest()
            w.name = opName
            do {
                (name, done) = try await call("WaitExecution \(opName)") {
                    try await execution.waitExecution(w, options: options(timeout: .seconds(4 * 3600))) { response in
                        try await Self.follow(response)
                    }
                }
                if name == nil { name = opName }
            } catch let e as ReproError where e.code == .remoteUnavailable && waits < 10 {
                waits += 1
                try await Task.sleep(for: .seconds(1))
            }
        }
        let op = done!
        if case .error(let status)? = op.result {
            throw ReproError(.failed, "remote execution of \(action) at \(endpoint) failed: \(Google_Rpc_Code(rawValue: Int(status.code)).map { "\($0)" } ?? "code \(status.code)"): \(status.message)")
        }
        let resp = try ExecuteResponse(unpackingAny: op.response)
        if resp.status.code != 0 {
            throw ReproError(.failed, "remote execution of \(action) at \(endpoint) failed: \(Google_Rpc_Code(rawValue: Int(resp.status.code)).map { "\($0)" } ?? "code \(resp.status.code)"): \(resp.status.message)")
        }
        return resp
    }

    /// Reads an operation stream: the operation's name and, if it finished, the
    /// finished operation.
    static func follow(_ response: StreamingClientResponse<Google_Longrunning_Operation>) async throws
        -> (String?, Google_Longrunning_Operation?) {
        var name: String?
        do {
            for try await op in response.messages {
                if !op.name.isEmpty { name = op.name }
                if op.done { return (name, op) }
            }
        } catch let e as RPCError where name != nil && RemoteClient.transient(e.code) {
            return (name, nil)
        }
        return (name, nil)
    }
}
