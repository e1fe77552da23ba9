import Core
import Foundation
import Recipe

/// Where a REAPI v2 server listens: `grpc://HOST:PORT` (plaintext HTTP/2; TLS is not
/// supported yet) and the instance name its services are reached under.
public struct RemoteEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var instance: String

    public init(host: String, port: Int, instance: String = "") {
        self.host = host; self.port = port; self.instance = instance
    }

    /// `grpc://HOST:PORT`, with the instance when there is one.
    public var description: String {
        "grpc://\(host.contains(":") ? "[\(host)]" : host):\(port)" + (instance.isEmpty ? "" : " (instance \(instance))")
    }

    /// Parses `grpc://HOST:PORT` (also `HOST:PORT`); `source` names where it came from.
    /// - Throws: `ReproError(.invalidInput)` naming `source` and the expected form.
    public static func parse(_ url: String, instance: String?, source: String = "--remote") throws -> RemoteEndpoint {
        func bad(_ why: String) -> ReproError {
            ReproError(.invalidInput, "\(source): '\(url)' \(why); expected grpc://HOST:PORT, e.g. grpc://127.0.0.1:50051")
        }
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") {
            let name = rest[..<scheme.lowerBound].lowercased()
            guard name == "grpc" || name == "http" else {
                throw bad(name == "grpcs" || name == "https" ? "asks for TLS, which repro does not speak yet" : "has scheme '\(name)'")
            }
            rest = rest[scheme.upperBound...]
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/") else { throw bad("has a path (put the instance in --instance)") }
        let host: Substring, portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw bad("has an unclosed [") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            portText = rest[rest.index(after: close)...].drop { $0 == ":" }
        } else {
            guard let colon = rest.lastIndex(of: ":") else { throw bad("has no port") }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        guard !host.isEmpty else { throw bad("has no host") }
        guard let port = Int(portText), (1...65535).contains(port) else { throw bad("has no valid port") }
        return RemoteEndpoint(host: String(host), port: port, instance: instance ?? "")
    }
}

/// `~/.config/repro/config.toml` (docs/remote.md): the remote a build uses when neither
/// `--remote` nor `$REPRO_REMOTE` names one.
///
///     [remote]
///     url = "grpc://cache.example:50051"
///     instance = "main"
///     required = false          # true: fail when the remote cannot be reached
///     execute = false           # true: run builds on the remote's workers (--remote-exec)
///     trusted-keys = ["~/.config/repro/keys/ci.pub.pem"]
public struct RemoteConfig: Sendable {
    public var url: String?
    public var instance: String?
    public var required = false
    public var execute = false
    /// PEM public keys whose provenance a remote cache hit is accepted with; empty:
    /// any key whose signature verifies (the keyid is shown).
    public var trustedKeys: [String] = []

    public init() {}

    /// `$XDG_CONFIG_HOME/repro/config.toml`, else `~/.config/repro/config.toml`.
    public static var defaultPath: String {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_CONFIG_HOME"], !x.isEmpty { return x + "/repro/config.toml" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.config/repro/config.toml"
    }

    /// Reads the config file; a missing file is an empty config.
    /// - Throws: `ReproError(.invalidInput)` with file:line for a bad value or key.
    public static func load(path: String = defaultPath) throws -> RemoteConfig {
        var c = RemoteConfig()
        guard FileManager.default.fileExists(atPath: path) else { return c }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReproError(.invalidInput, "\(path): cannot be read")
        }
        let root = try TOML.parse(data: data, file: path)
        for e in root.entries where e.key != "remote" {
            throw ReproError(.invalidInput, "\(path):\(e.keyPosition.line): unknown key '\(e.key)'; the config has a [remote] table (docs/remote.md)")
        }
        guard let remote = root["remote"] else { return c }
        guard let t = remote.table else {
            throw ReproError(.invalidInput, "\(path):\(remote.line): 'remote' must be a table ([remote])")
        }
        func string(_ e: TOMLTable.Entry) throws -> String {
            guard let s = e.value.string else {
                throw ReproError(.invalidInput, "\(path):\(e.value.line): remote.\(e.key) must be a string, not \(e.value.typeName)")
            }
            return s
        }
        func bool(_ e: TOMLTable.Entry) throws -> Bool {
            guard let b = e.value.boolean else {
                throw ReproError(.invalidInput, "\(path):\(e.value.line): remote.\(e.key) must be true or false, not \(e.value.typeName)")
            }
            return b
        }
        for e in t.entries {
            switch e.key {
            case "url": c.url = try string(e)
            case "instance": c.instance = try string(e)
            case "required": c.required = try bool(e)
            case "execute": c.execute = try bool(e)
            case "trusted-keys":
                guard let a = e.value.array, a.allSatisfy({ $0.string != nil }) else {
                    throw ReproError(.invalidInput, "\(path):\(e.value.line): remote.trusted-keys must be an array of file names")
                }
                c.trustedKeys = a.map { expandHome($0.string!) }
            default:
                throw ReproError(.invalidInput, "\(path):\(e.keyPosition.line): unknown key remote.\(e.key); known: url, instance, required, execute, trusted-keys")
            }
        }
        if let url = c.url { _ = try RemoteEndpoint.parse(url, instance: c.instance, source: path) }
        return c
    }

    static func expandHome(_ p: String) -> String {
        guard p.hasPrefix("~/") else { return p }
        return (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + p.dropFirst(1)
    }

    /// The endpoint a command uses: the flag, else `$REPRO_REMOTE`, else the config
    /// file; nil when none is set. The instance likewise (flag, `$REPRO_REMOTE_INSTANCE`,
    /// config).
    public func endpoint(flag: String?, instance: String?) throws -> RemoteEndpoint? {
        let env = ProcessInfo.processInfo.environment
        let inst = instance ?? env["REPRO_REMOTE_INSTANCE"].flatMap { $0.isEmpty ? nil : $0 } ?? self.instance
        if let flag { return try RemoteEndpoint.parse(flag, instance: inst) }
        if let e = env["REPRO_REMOTE"], !e.isEmpty { return try RemoteEndpoint.parse(e, instance: inst, source: "$REPRO_REMOTE") }
        if let url { return try RemoteEndpoint.parse(url, instance: inst, source: RemoteConfig.defaultPath) }
        return nil
    }
}
