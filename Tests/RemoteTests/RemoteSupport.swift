import Foundation
import TestKit
import Testing

/// The services the remote tests talk to. scripts/services starts them and exports
/// where they listen; a run without them fails with this message instead of passing.
/// Only the explicitly fast layer (`scripts/test --fast`, REPRO_TEST_FAST) skips the
/// suites, visibly (they are tagged .realBuild and .network).
enum Services {
    static let env = ProcessInfo.processInfo.environment

    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String {
            "\(name) is not set: the remote tests need PostgreSQL, BuildGrid and a repro worker. Run `scripts/services install && scripts/services start && scripts/services worker .build/debug/repro` and `source /tmp/repro-services/env` (scripts/test does all of it); `scripts/test --fast` skips them explicitly"
        }
    }

    static func value(_ name: String) throws -> String {
        guard let v = env[name], !v.isEmpty else { throw Missing(name: name) }
        return v
    }

    static func cache() throws -> String { try value("REPRO_TEST_REMOTE_CACHE") }
    static func exec() throws -> String { try value("REPRO_TEST_REMOTE_EXEC") }
    static func instance() throws -> String { try value("REPRO_TEST_REMOTE_INSTANCE") }
}

/// One simulated host: its own store, signing key and config directory.
struct Host {
    let dir: String
    var store: String { dir + "/store" }
    var key: String { dir + "/keys/signing.pem" }
    var publicKey: String { dir + "/keys/signing.pub.pem" }
    var config: String { dir + "/config" }

    init(_ dir: String) throws {
        self.dir = dir
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        let k = try Host.run(["key", "generate", "--out", dir + "/keys"], env: [:])
        guard k.status == 0 else { throw HostError(message: "key generate: \(k.stderr)") }
    }

    struct HostError: Error { var message: String }

    struct Run {
        var status: Int32
        var out: String
        var err: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:] }
        var remote: [String: Any] { json["remote"] as? [String: Any] ?? [:] }
    }

    static func run(_ args: [String], env extra: [String: String], cwd: String? = nil) throws -> TestKit.Output {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        return try TestKit.run([TestKit.repro] + args, environment: env, cwd: cwd)
    }

    /// `repro ARGS` as this host: its store and key, its config directory, no
    /// $REPRO_REMOTE from the caller.
    func repro(_ args: [String], env: [String: String] = [:], cwd: String? = nil) throws -> Run {
        var e = ["REPRO_HOME": store, "XDG_CONFIG_HOME": config, "REPRO_SIGNING_KEY": key,
                 "REPRO_REMOTE": "", "REPRO_REMOTE_INSTANCE": ""]
        for (k, v) in env { e[k] = v }
        let r = try Host.run(args, env: e, cwd: cwd)
        return Run(status: r.status, out: r.out, err: r.stderr)
    }
}

enum Fixtures {
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// A small recipe on the host toolchain (seconds to build), locked; `salt` makes
    /// its action unique to one test run so that the shared cache starts cold.
    static func smallRecipe(in dir: String, salt: String, files: Int = 3) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let recipe = """
        name = "small"
        [toolchain]
        host = true
        [build]
        script = '''
        mkdir -p $REPRO_OUT/share/doc $REPRO_OUT/bin
        echo '\(salt)' > $REPRO_OUT/share/doc/salt.txt
        for i in $(seq 1 \(files)); do echo "file $i" > $REPRO_OUT/share/f$i.txt; done
        printf '#!/bin/sh\\necho hi\\n' > $REPRO_OUT/bin/hi && chmod 755 $REPRO_OUT/bin/hi
        ln -s ../share/f1.txt $REPRO_OUT/bin/link
        '''
        """
        let path = dir + "/small.toml"
        try recipe.write(toFile: path, atomically: true, encoding: .utf8)
        let lock = try Host.run(["lock", path, "--store", dir + "/lock-store"], env: [:])
        guard lock.status == 0 else { throw Host.HostError(message: "lock: \(lock.stderr)") }
        return path
    }

    static func unique() -> String { "\(getpid())-\(UUID().uuidString.prefix(8))" }
}
