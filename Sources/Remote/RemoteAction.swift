import Core
import RemoteSettings
import Foundation
import Recipe
import RemoteAPI
import Store
import SwiftProtobuf

/// repro's action as a REAPI v2 Action (docs/remote.md), so that the remote cache key
/// and what another REAPI client sees are the same thing:
///
///     Action      command_digest, input_root_digest, platform {ISA, OSFamily}
///     Command     repro build NAME.toml --out out, env REPRO_ACTION=<repro's action
///                 digest>, REPRO_ACTION_FORMAT; output_paths [".repro", "out"]
///     input root  NAME.toml and NAME.lock (the exact bytes), and inputs/INPUT/FILE
///                 for every file the lock pins (by digest; the blobs are uploaded
///                 when the local store has them)
///
/// Two hosts with the same recipe and lock bytes compute the same Action digest.
public struct RemoteAction: Sendable {
    public let reproAction: Digest
    public let digest: Digest
    let action: Data
    let command: Data
    let commandDigest: Digest
    let inputRoot: Data
    let inputRootDigest: Digest
    /// Directory messages below the input root, with their digests.
    let directories: [(Digest, Data)]
    /// The recipe and lock bytes.
    let files: [(Digest, Data)]
    /// Pinned input files the input root names (uploaded when the store has them).
    public let inputBlobs: [Digest]
    public let recipeName: String

    static let platform: [(String, String)] = [("ISA", "x86-64"), ("OSFamily", "linux")]

    public init(recipe: Recipe, lock: LockFile, reproAction: Digest, actionFormat: String) throws {
        self.reproAction = reproAction
        let base = ((recipe.file as NSString).lastPathComponent as NSString).deletingPathExtension
        recipeName = base
        guard let recipeBytes = FileManager.default.contents(atPath: recipe.file),
              let lockBytes = FileManager.default.contents(atPath: recipe.lockPath) else {
            throw ReproError(.invalidInput, "\(recipe.file) or \(recipe.lockPath) cannot be read")
        }
        let recipeDigest = Digest.of(recipeBytes), lockDigest = Digest.of(lockBytes)
        files = [(recipeDigest, recipeBytes), (lockDigest, lockBytes)]

        var command = Build_Bazel_Remote_Execution_V2_Command()
        command.arguments = ["repro", "build", base + ".toml", "--out", "out"]
        command.environmentVariables = [("REPRO_ACTION", reproAction.description), ("REPRO_ACTION_FORMAT", actionFormat)].map {
            var v = Build_Bazel_Remote_Execution_V2_Command.EnvironmentVariable()
            v.name = $0.0; v.value = $0.1
            return v
        }
        command.outputPaths = [".repro", "out"]
        command.platform = Self.platformMessage()
        self.command = try command.serializedBytes()
        commandDigest = Digest.of(self.command)

        // inputs/NAME/FILE for every pinned file, then the root.
        var dirs: [(Digest, Data)] = []
        var inputsDir = Build_Bazel_Remote_Execution_V2_Directory()
        var blobs: [Digest] = []
        for name in lock.inputs.keys.sorted(by: Manifest.bytewiseLess) {
            let pinned = lock.inputs[name]!
            let list = pinned.files ?? [.init(name: name, sha256: pinned.sha256, size: pinned.size)]
            var d = Build_Bazel_Remote_Execution_V2_Directory()
            d.files = list.sorted { Manifest.bytewiseLess($0.name, $1.name) }.map { f in
                blobs.append(f.digest)
                return Self.fileNode(f.name, f.digest, executable: false)
            }
            let bytes: Data = try d.serializedBytes()
            let digest = Digest.of(bytes)
            dirs.append((digest, bytes))
            inputsDir.directories.append(Self.dirNode(name, digest))
        }
        var root = Build_Bazel_Remote_Execution_V2_Directory()
        root.files = [Self.fileNode(base + ".lock", lockDigest, executable: false),
                      Self.fileNode(base + ".toml", recipeDigest, executable: false)]
            .sorted { Manifest.bytewiseLess($0.name, $1.name) }
        if !inputsDir.directories.isEmpty {
            let bytes: Data = try inputsDir.serializedBytes()
            let digest = Digest.of(bytes)
            dirs.append((digest, bytes))
            root.directories = [Self.dirNode("inputs", digest)]
        }
        inputRoot = try root.serializedBytes()
        inputRootDigest = Digest.of(inputRoot)
        directories = dirs
        inputBlobs = blobs

        var action = Build_Bazel_Remote_Execution_V2_Action()
        action.commandDigest = RE(commandDigest)
        action.inputRootDigest = RE(inputRootDigest)
        action.platform = Self.platformMessage()
        self.action = try action.serializedBytes()
        digest = Digest.of(self.action)
    }

    static func platformMessage() -> Build_Bazel_Remote_Execution_V2_Platform {
        var p = Build_Bazel_Remote_Execution_V2_Platform()
        p.properties = platform.map {
            var prop = Build_Bazel_Remote_Execution_V2_Platform.Property()
            prop.name = $0.0; prop.value = $0.1
            return prop
        }
        return p
    }

    static func fileNode(_ name: String, _ d: Digest, executable: Bool) -> Build_Bazel_Remote_Execution_V2_FileNode {
        var n = Build_Bazel_Remote_Execution_V2_FileNode()
        n.name = name; n.digest = RE(d); n.isExecutable = executable
        return n
    }

    static func dirNode(_ name: String, _ d: Digest) -> Build_Bazel_Remote_Execution_V2_DirectoryNode {
        var n = Build_Bazel_Remote_Execution_V2_DirectoryNode()
        n.name = name; n.digest = RE(d)
        return n
    }

    /// Every blob that describes the action (Action, Command, Directories, recipe, lock).
    var messages: [(Digest, Data)] {
        [(digest, action), (commandDigest, command), (inputRootDigest, inputRoot)] + directories + files
    }

    /// Uploads the Action, its Command, input root and the pinned input files the store
    /// has.
    func upload(_ client: RemoteClient, store: Store) async throws {
        try await client.put(messages)
        try await client.upload(inputBlobs.filter(store.contains), from: store)
    }
}
