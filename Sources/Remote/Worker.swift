import Attest
import Build
import Core
import RemoteSettings
import Foundation
import GRPCCore
import Recipe
import RemoteAPI
import Store
import Synchronization
import SwiftProtobuf

typealias BotSession = Google_Devtools_Remoteworkers_V1test2_BotSession
typealias Lease = Google_Devtools_Remoteworkers_V1test2_Lease

/// `repro worker`: a Bots API (google.devtools.remoteworkers.v1test2) worker for
/// BuildGrid (docs/remote.md). It holds one bot session:
///
/// - CreateBotSession(parent = instance, bot_id, status OK, worker.devices[0] with the
///   properties OSFamily=linux and ISA=x86-64, worker.configs capacity = --jobs).
/// - UpdateBotSession about every second with the session as it stands: a PENDING
///   lease is accepted by sending it back ACTIVE; a finished one goes back COMPLETED
///   with `result` = Any(ActionResult) and `status` OK (or the error). BuildGrid takes
///   a session it has not heard from for its keepalive timeout as dead and requeues
///   its leases.
/// - A lease's payload is Any(Action) (BuildGrid inlines it) or Any(Digest) of one.
///   Each action runs as `repro build` of the recipe and lock from its input root, in
///   the worker's own store and sandbox, after checking that the action digest it
///   computes equals the REPRO_ACTION the client sent; outputs, log and signed
///   provenance are uploaded before the lease completes.
public final class Worker: Sendable {
    public struct Options: Sendable {
        public var jobs = 1
        public var botID = "repro-\(ProcessInfo.processInfo.hostName)-\(getpid())"
        public var attest = AttestOptions()
        public var log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(("repro worker: " + $0 + "\n").utf8)) }
        public var allowDegrade = false
        public init() {}
    }

    let client: RemoteClient
    let builder: Builder
    let options: Options
    /// Finished leases by id: their result or the error status to report.
    private let finished = Mutex<[String: Lease]>([:])
    private let running = Mutex<Set<String>>([])

    public init(client: RemoteClient, builder: Builder, options: Options) {
        self.client = client; self.builder = builder; self.options = options
    }

    var bots: Google_Devtools_Remoteworkers_V1test2_Bots.Client<Transport> { client.bots }

    func newSession() -> BotSession {
        var s = BotSession()
        s.botID = options.botID
        s.status = .ok
        var device = Google_Devtools_Remoteworkers_V1test2_Device()
        device.handle = "repro"
        device.properties = RemoteAction.platform.map {
            var p = Google_Devtools_Remoteworkers_V1test2_Device.Property()
            p.key = $0.0; p.value = $0.1
            return p
        }
        var worker = Google_Devtools_Remoteworkers_V1test2_Worker()
        worker.devices = [device]
        var capacity = Google_Devtools_Remoteworkers_V1test2_Worker.Config()
        capacity.key = "capacity"; capacity.value = String(options.jobs)
        worker.configs = [capacity]
        s.worker = worker
        return s
    }

    /// Runs until the process is stopped; reconnects (new session) when the server
    /// goes away.
    public func run() async throws {
        while true {
            do {
                try await serve()
            } catch let e as ReproError where e.code == .remoteUnavailable {
                options.log("\(e.message); retrying in 2 s")
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    func serve() async throws {
        var create = Google_Devtools_Remoteworkers_V1test2_CreateBotSessionRequest()
        create.parent = client.instance
        create.botSession = newSession()
        var session = try await client.call("CreateBotSession") {
            try await bots.createBotSession(create, options: client.options(timeout: .seconds(5))) { try $0.message }
        }
        options.log("bot session \(session.name) on \(client.endpoint), capacity \(options.jobs)")
        while true {
            let sent: Set<String>
            (session, sent) = handle(session)
            var update = Google_Devtools_Remoteworkers_V1test2_UpdateBotSessionRequest()
            update.name = session.name
            update.botSession = session
            do {
                session = try await bots.updateBotSession(update, options: client.options(timeout: .seconds(4))) { try $0.message }
                finished.withLock { done in for id in sent { done[id] = nil } }
            } catch let e as RPCError where e.code == .deadlineExceeded {
                // No work arrived within the wait: ask again with the same session.
            } catch {
                throw client.describe(error, "UpdateBotSession")
            }
            if running.withLock({ !$0.isEmpty }) { try await Task.sleep(for: .milliseconds(500)) }
        }
    }

    /// Accepts new leases (starting their builds) and reports finished ones.
    func handle(_ session: BotSession) -> (BotSession, Set<String>) {
        var s = session
        var leases: [Lease] = []
        var completed = Set<String>()
        for var lease in s.leases {
            let known = running.withLock { $0.contains(lease.id) } || finished.withLock { $0[lease.id] != nil }
            switch lease.state {
            case .pending, .active where !known:
                // New work. BuildGrid hands leases out already ACTIVE; the protocol's
                // PENDING is accepted by sending it back ACTIVE.
                lease.state = .active
                let id = lease.id, payload = lease.payload
                running.withLock { _ = $0.insert(id) }
                options.log("lease \(id): accepted")
                Thread.detachNewThread { [self] in
                    let done = self.runLease(id: id, payload: payload)
                    self.finished.withLock { $0[id] = done }
                    self.running.withLock { _ = $0.remove(id) }
                }
                leases.append(lease)
            case .active:
                if let done = finished.withLock({ $0[lease.id] }) {
                    leases.append(done)
                    completed.insert(done.id)
                } else {
                    leases.append(lease)
                }
            case .cancelled:
                options.log("lease \(lease.id): cancelled by the server")
            default:
                leases.append(lease)
            }
        }
        s.leases = leases
        return (s, completed)
    }

    static func status(_ code: Google_Rpc_Code, _ message: String) -> Google_Rpc_Status {
        var st = Google_Rpc_Status()
        st.code = Int32(code.rawValue)
        st.message = message
        return st
    }

    /// One lease, start to end, on its own thread (the build is synchronous); returns
    /// the lease as it goes back: COMPLETED with the ActionResult, or with an error.
    func runLease(id: String, payload: Google_Protobuf_Any) -> Lease {
        var lease = Lease()
        lease.id = id
        lease.state = .completed
        do {
            let result = try executeLease(payload: payload)
            lease.result = try Google_Protobuf_Any(message: result)
            lease.status = Self.status(.ok, "")
            options.log("lease \(id): done, exit \(result.exitCode)")
        } catch let e as ReproError {
            options.log("lease \(id): \(e.message)")
            lease.status = Self.status(e.code == .invalidInput ? .failedPrecondition : .internal, e.message)
        } catch {
            options.log("lease \(id): \(error)")
            lease.status = Self.status(.internal, "\(error)")
        }
        return lease
    }

    func executeLease(payload: Google_Protobuf_Any) throws -> Build_Bazel_Remote_Execution_V2_ActionResult {
        let client = self.client, store = builder.store
        // The Action: inline, or by digest.
        let action: Build_Bazel_Remote_Execution_V2_Action
        if payload.isA(Build_Bazel_Remote_Execution_V2_Action.self) {
            action = try Build_Bazel_Remote_Execution_V2_Action(unpackingAny: payload)
        } else {
            let d = try RE(unpackingAny: payload).digest
            let bytes = try blocking { try await client.fetch(d) }
            action = try Build_Bazel_Remote_Execution_V2_Action(serializedBytes: bytes)
        }
        let (commandBytes, rootBytes) = try blocking {
            (try await client.fetch(action.commandDigest.digest), try await client.fetch(action.inputRootDigest.digest))
        }
        let command = try Build_Bazel_Remote_Execution_V2_Command(serializedBytes: commandBytes)
        let root = try Build_Bazel_Remote_Execution_V2_Directory(serializedBytes: rootBytes)
        guard command.arguments.count >= 3, command.arguments[0] == "repro", command.arguments[1] == "build",
              let wanted = command.environmentVariables.first(where: { $0.name == "REPRO_ACTION" })?.value else {
            throw ReproError(.invalidInput, "the action is not a repro build (command \(command.arguments.joined(separator: " "))); this worker runs only `repro build` actions")
        }
        let recipeName = command.arguments[2]
        guard recipeName.hasSuffix(".toml"), !recipeName.contains("/"), !recipeName.hasPrefix(".") else {
            throw ReproError(.invalidInput, "the action's recipe name '\(recipeName)' is not a plain NAME.toml")
        }
        let work = store.root + "/tmp/worker-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? RemoveTree.remove(work) }
        // The recipe and lock, checked by digest; the pinned input files into the store
        // when the CAS has them (else the build fetches them itself, verified by pin).
        for f in root.files {
            guard !f.name.contains("/"), f.name != "..", f.name != "." else {
                throw ReproError(.invalidInput, "input root file name '\(f.name)' is not a plain name")
            }
            let data = try blocking { try await client.fetch(f.digest.digest) }
            try data.write(to: URL(fileURLWithPath: work + "/" + f.name))
        }
        if let inputs = root.directories.first(where: { $0.name == "inputs" }) {
            let dir = try Build_Bazel_Remote_Execution_V2_Directory(serializedBytes: try blocking { try await client.fetch(inputs.digest.digest) })
            var blobs: [Digest] = []
            for sub in dir.directories {
                let d = try Build_Bazel_Remote_Execution_V2_Directory(serializedBytes: try blocking { try await client.fetch(sub.digest.digest) })
                blobs += d.files.map(\.digest.digest)
            }
            let pinned = blobs
            let absent = try blocking { Set(try await client.findMissing(pinned)) }
            let available = pinned.filter { !absent.contains($0) }
            try blocking { _ = try await client.download(available, into: store) }
        }
        let recipe = try Recipe.load(path: work + "/" + recipeName)
        let lock = try LockFile.read(path: recipe.lockPath)
        let toolchain = Builder.toolchainID(of: lock)
        let reproAction = try Builder.actionDigest(recipe: recipe, lock: lock, toolchain: toolchain,
                                                   policy: try builder.runner.policyVersion())
        guard reproAction.description == wanted else {
            throw ReproError(.invalidInput, "this worker computes action \(reproAction) for the recipe, the client sent \(wanted): the sandbox policy or repro version differs; run the same repro on both")
        }
        var opts = BuildOptions()
        opts.attest = options.attest
        opts.allowDegrade = options.allowDegrade
        do {
            _ = try builder.build(recipe, lock: lock, options: opts)
        } catch let e as ReproError where e.code == .failed {
            // A failed build is a result, not a worker error: exit 1 and the message as stdout.
            var r = Build_Bazel_Remote_Execution_V2_ActionResult()
            r.exitCode = 1
            let text = Data((e.message + "\n").utf8)
            let d = Digest.of(text)
            try blocking { try await client.put([(d, text)]) }
            r.stdoutDigest = RE(d)
            return r
        }
        guard let key = options.attest.signingKey else { throw ReproError(.internal, "the worker has no signing key") }
        guard let local = try store.lookupAction(reproAction) else {
            throw ReproError(.internal, "the build of \(reproAction) left no action result")
        }
        let made = try RemoteResult.makeResult(store: store, local: local, signer: key.publicKey)
        try blocking {
            _ = try await client.upload(made.blobs, from: store)
            try await client.put(made.messages)
        }
        return made.result
    }
}
