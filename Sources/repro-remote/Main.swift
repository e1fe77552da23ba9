import ArgumentParser
import Core
import Foundation

/// `repro-remote`: the gRPC half of repro (REAPI v2, Bots API; docs/remote.md). `repro`
/// runs it for `build --remote`, `store push/pull` and `worker`, so that `repro` itself
/// never links gRPC (its start-up is on the path of every `repro run`).
@main
struct ReproRemote: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repro-remote",
        abstract: "REAPI v2 client and Bots API worker of repro (run through `repro`).",
        discussion: "Exit codes as repro's: 0 ok; 1 a build failed; 2 usage or bad input; 4 verification failed; 70 the remote cannot be reached or internal error.",
        version: ReproInfo.version,
        subcommands: [StoreCommand.self, WorkerCommand.self, RemoteLookup.self, RemotePublish.self]
    )

    /// Usage errors exit 2, as repro's.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Move store contents to and from a remote CAS.",
        subcommands: [StorePush.self, StorePull.self])
}

// The CLI plumbing of Sources/repro/Support.swift, which this executable cannot import
// (it is an executable target): a ReproError becomes "repro: error: ..." and its exit
// status; JSON goes to stdout canonically.
@discardableResult
func reporting<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ReproError {
        FileHandle.standardError.write(Data("repro: error: \(e.description)\n".utf8))
        throw ExitCode(e.code.exitStatus)
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    print(try CanonicalJSON.string(value, pretty: false))
}

func warn(_ text: String) {
    FileHandle.standardError.write(Data("repro: \(text)\n".utf8))
}
