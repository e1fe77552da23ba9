import Core
import Foundation

/// One apt source as the host configures it, in either syntax: a one-line
/// `deb [opts] URI SUITE COMPONENT...` entry or a deb822 stanza (`*.sources`).
public struct AptSource: Hashable, Sendable {
    public var types: [String]
    public var uris: [String]
    public var suites: [String]
    public var components: [String]
    /// Keyring paths, fingerprints or one inline ASCII-armored key (deb822 only).
    public var signedBy: [String]
    public var architectures: [String]

    /// The stanza in deb822 form (what the private `sources.list.d/host.sources` holds).
    var deb822: String {
        var s = "Types: \(types.joined(separator: " "))\n"
        s += "URIs: \(uris.joined(separator: " "))\n"
        s += "Suites: \(suites.joined(separator: " "))\n"
        if !components.isEmpty { s += "Components: \(components.joined(separator: " "))\n" }
        if !architectures.isEmpty { s += "Architectures: \(architectures.joined(separator: " "))\n" }
        if !signedBy.isEmpty {
            if signedBy.count == 1, signedBy[0].contains("\n") {
                // Inline key: continuation lines start with a space, empty lines are " .".
                let lines = signedBy[0].split(separator: "\n", omittingEmptySubsequences: false)
                s += "Signed-By:\n" + lines.map { $0.trimmingCharacters(in: .whitespaces).isEmpty ? " ." : " \($0)" }.joined(separator: "\n") + "\n"
            } else {
                s += "Signed-By: \(signedBy.joined(separator: " "))\n"
            }
        }
        return s
    }
}

/// Reads the host's apt sources (read-only): `/etc/apt/sources.list` and
/// `/etc/apt/sources.list.d/*.list|*.sources`. Disabled stanzas (`Enabled: no`),
/// comments and other file names (`*.disabled`, `*.save`) are skipped.
public enum HostSources {
    public static func read(etc: String = "/etc/apt") throws -> [AptSource] {
        var result: [AptSource] = []
        let main = etc + "/sources.list"
        if let text = try? String(contentsOfFile: main, encoding: .utf8) {
            result += parseOneLine(text)
        }
        let partsDir = etc + "/sources.list.d"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: partsDir)) ?? []).sorted()
        for name in names {
            let path = partsDir + "/" + name
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            if name.hasSuffix(".list") { result += parseOneLine(text) }
            else if name.hasSuffix(".sources") { result += parseDeb822(text) }
        }
        return result
    }

    /// Parses one-line entries: `deb [arch=amd64 signed-by=/k.gpg] http://h/debian bookworm main`.
    public static func parseOneLine(_ text: String) -> [AptSource] {
        var out: [AptSource] = []
        for raw in text.split(separator: "\n") {
            var line = String(raw)
            if let hash = line.firstIndex(of: "#") { line = String(line[..<hash]) }
            var rest = line.trimmingCharacters(in: .whitespaces)
            guard rest.hasPrefix("deb ") || rest.hasPrefix("deb-src ") || rest.hasPrefix("deb\t") else { continue }
            let type = rest.hasPrefix("deb-src") ? "deb-src" : "deb"
            rest = String(rest.dropFirst(type.count)).trimmingCharacters(in: .whitespaces)
            var options: [String: String] = [:]
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { continue }
                for opt in rest[rest.index(after: rest.startIndex)..<close].split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                    let kv = opt.split(separator: "=", maxSplits: 1).map(String.init)
                    if kv.count == 2 { options[kv[0].lowercased()] = kv[1] }
                }
                rest = String(rest[rest.index(after: close)...])
            }
            let words = rest.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count >= 2 else { continue }
            out.append(AptSource(
                types: [type], uris: [words[0]], suites: [words[1]],
                components: Array(words.dropFirst(2)),
                signedBy: options["signed-by"].map { $0.split(separator: ",").map(String.init) } ?? [],
                architectures: options["arch"].map { $0.split(separator: ",").map(String.init) } ?? []))
        }
        return out
    }

    /// Parses deb822 stanzas (sources.list(5)): fields may continue on indented lines.
    public static func parseDeb822(_ text: String) -> [AptSource] {
        var out: [AptSource] = []
        for stanza in stanzas(text) {
            func words(_ key: String) -> [String] {
                (stanza[key] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
            }
            if let enabled = stanza["enabled"], enabled.trimmingCharacters(in: .whitespaces).lowercased() == "no" { continue }
            let types = words("types").filter { $0 == "deb" || $0 == "deb-src" }
            guard !types.isEmpty, !words("uris").isEmpty, !words("suites").isEmpty else { continue }
            var signedBy: [String] = []
            if let s = stanza["signed-by"] {
                if s.contains("BEGIN PGP") { signedBy = [s] } else { signedBy = s.split(whereSeparator: { " \t\n,".contains($0) }).map(String.init) }
            }
            out.append(AptSource(types: types, uris: words("uris"), suites: words("suites"),
                                 components: words("components"), signedBy: signedBy,
                                 architectures: words("architectures")))
        }
        return out
    }

    /// Splits deb822 text into stanzas of lower-cased field name -> value (continuation
    /// lines joined with "\n", a lone "." standing for an empty line).
    static func stanzas(_ text: String) -> [[String: String]] {
        var result: [[String: String]] = []
        var current: [String: String] = [:]
        var lastKey: String?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix("#") { continue }
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !current.isEmpty { result.append(current) }
                current = [:]; lastKey = nil
                continue
            }
            if line.first == " " || line.first == "\t" {
                guard let key = lastKey else { continue }
                let cont = line.trimmingCharacters(in: .whitespaces)
                let value = current[key] ?? ""
                current[key] = (value.isEmpty ? "" : value + "\n") + (cont == "." ? "" : cont)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            current[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            lastKey = key
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
