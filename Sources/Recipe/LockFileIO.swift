import Core
import Foundation

extension LockFile {
    /// The file's bytes: canonical JSON, sorted keys and lists, two-space indent, a final
    /// newline. Independent of the host: the same lock gives the same bytes everywhere.
    public func encoded() -> Data {
        // Plain strings and integers: encoding cannot fail.
        let compact = (try? CanonicalJSON.encode(normalized)) ?? Data()
        var out = PrettyJSON.indent(compact)
        out.append(0x0A)
        return out
    }

    /// The digest of the lock without the pins of the project's own trees (`path` and
    /// `git` inputs): what changes only when the recipe, the toolchain, the test
    /// toolchain or a Debian input changes. A source edit re-pins its path input, but
    /// its files are already diffed as changed files; `repro test --select` runs
    /// everything only when this digest moves.
    public var infrastructureDigest: Digest {
        var copy = self
        for (name, input) in copy.inputs where input.kind == "path" || input.kind == "git" {
            copy.inputs[name] = Input(kind: input.kind, spec: input.spec, sha256: "", size: 0)
        }
        return Digest.of(copy.encoded())
    }

    /// Writes the lock atomically (temporary file, then rename).
    /// - Throws: `ReproError(.system)` naming the path.
    public func write(to path: String) throws {
        do {
            try encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ReproError(.system, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Reads a lock file.
    /// - Throws: `ReproError(.invalidInput)` naming the file and the problem when it is
    ///   missing or malformed.
    public static func read(path: String) throws -> LockFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw ReproError(.invalidInput, "\(path) cannot be read; check its permissions")
            }
            throw ReproError(.invalidInput, "\(path): no lock file; run `repro lock` on the recipe to create it")
        }
        return try decode(data, file: path)
    }

    /// Parses and checks lock file bytes (`file` names it in messages).
    public static func decode(_ data: Data, file: String) throws -> LockFile {
        func bad(_ problem: String) -> ReproError {
            ReproError(.invalidInput, "\(file): \(problem); run `repro lock` on the recipe to regenerate it")
        }
        struct VersionOnly: Decodable { var version: Int? }
        let version: Int?
        do {
            version = try JSONDecoder().decode(VersionOnly.self, from: data).version
        } catch DecodingError.typeMismatch(_, let ctx) {
            throw bad("not a lock file: \(path(ctx.codingPath)) \(ctx.debugDescription)")
        } catch {
            throw bad("not valid JSON (\(describe(error)))")
        }
        guard let version else { throw bad("not a lock file: no \"version\"") }
        guard version == currentVersion else {
            throw ReproError(.invalidInput, "\(file): lock file version \(version) is not supported (this repro reads version \(currentVersion)); run `repro lock` on the recipe to rewrite it")
        }
        let lock: LockFile
        do {
            lock = try JSONDecoder().decode(LockFile.self, from: data)
        } catch {
            throw bad(describe(error))
        }
        if let problem = lock.problem() { throw bad(problem) }
        return lock.normalized
    }

    /// The first inconsistency in a decoded lock, if any.
    func problem() -> String? {
        func isHex(_ s: String) -> Bool { s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) } }
        if !isHex(recipe.hex) || recipe.size < 0 { return "recipe: not a sha256 digest" }
        switch toolchain.kind {
        case "host":
            if toolchain.suite != nil || !toolchain.packages.isEmpty {
                return "toolchain: a host toolchain has no suite or packages"
            }
        case "debian":
            guard let suite = toolchain.suite, RecipeSyntax.isSuite(suite) else { return "toolchain.suite: missing or not a suite name" }
            guard let arch = toolchain.architecture, RecipeSyntax.isArchitecture(arch) else {
                return "toolchain.architecture: missing or not an architecture name"
            }
            var seen = Set<String>()
            for (i, p) in toolchain.packages.enumerated() {
                let at = "toolchain.packages[\(i)] (\(p.name))"
                if !RecipeSyntax.isDebianPackage(p.name) { return "\(at): not a Debian package name" }
                if !RecipeSyntax.isDebianVersion(p.version) { return "\(at): '\(p.version)' is not a Debian version" }
                if !isHex(p.sha256) { return "\(at): sha256 is not 64 lowercase hex digits" }
                if p.size < 0 { return "\(at): negative size" }
                if p.filename.isEmpty { return "\(at): empty filename" }
                if !seen.insert("\(p.name):\(p.architecture)").inserted { return "\(at): listed twice" }
            }
        default:
            return "toolchain.kind: '\(toolchain.kind)' is neither \"debian\" nor \"host\""
        }
        for name in inputs.keys.sorted() {
            let i = inputs[name]!
            let at = "inputs.\(name)"
            if !RecipeSyntax.isInputName(name) { return "\(at): not a valid input name" }
            if !RecipeDecoder.inputSources.contains(i.kind) { return "\(at).kind: '\(i.kind)' is not an input kind" }
            if !isHex(i.sha256) { return "\(at).sha256: not 64 lowercase hex digits" }
            if i.size < 0 { return "\(at).size: negative" }
            if i.kind == "git", !(i.commit.map(RecipeSyntax.isCommit) ?? false) { return "\(at).commit: missing or not a full commit id" }
            if i.kind != "git", i.commit != nil { return "\(at).commit: only git inputs have a commit" }
            for f in i.files ?? [] where !isHex(f.sha256) || f.size < 0 || !RecipeSyntax.isFileName(f.name) {
                return "\(at).files: '\(f.name)' has a bad name, sha256 or size"
            }
        }
        return nil
    }
}

/// `a.b[3].c` for a decoding path.
private func path(_ keys: [any CodingKey]) -> String {
    var s = ""
    for k in keys {
        if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? k.stringValue : ".\(k.stringValue)" }
    }
    return s.isEmpty ? "the top level" : s
}

private func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let ctx):
        let at = path(ctx.codingPath + [key])
        return "missing \(at)"
    case DecodingError.typeMismatch(let type, let ctx):
        return "\(path(ctx.codingPath)) has the wrong type (expected \(type))"
    case DecodingError.valueNotFound(let type, let ctx):
        return "\(path(ctx.codingPath)) is null (expected \(type))"
    case DecodingError.dataCorrupted(let ctx):
        let underlying = ctx.underlyingError.map { ": \(($0 as NSError).userInfo[NSDebugDescriptionErrorKey] ?? $0)" } ?? ""
        return ctx.codingPath.isEmpty ? "\(ctx.debugDescription)\(underlying)" : "\(path(ctx.codingPath)): \(ctx.debugDescription)"
    default:
        return "\(error)"
    }
}

/// Re-indents compact JSON: two spaces, `"key": value`, empty containers as `{}`/`[]`.
/// Written here rather than left to JSONEncoder so the bytes never depend on the
/// Foundation version.
enum PrettyJSON {
    static func indent(_ compact: Data) -> Data {
        let b = [UInt8](compact)
        var out: [UInt8] = []
        out.reserveCapacity(b.count * 2)
        var depth = 0
        var i = 0
        func newline() {
            out.append(0x0A)
            out.append(contentsOf: [UInt8](repeating: 0x20, count: depth * 2))
        }
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "\""):
                out.append(c)
                i += 1
                while i < b.count {
                    out.append(b[i])
                    if b[i] == UInt8(ascii: "\\") { i += 1; out.append(b[i]) } else if b[i] == UInt8(ascii: "\"") { break }
                    i += 1
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if i + 1 < b.count, b[i + 1] == close {
                    out.append(c); out.append(close)
                    i += 1
                } else {
                    out.append(c)
                    depth += 1
                    newline()
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                newline()
                out.append(c)
            case UInt8(ascii: ","):
                out.append(c)
                newline()
            case UInt8(ascii: ":"):
                out.append(c)
                out.append(0x20)
            default:
                out.append(c)
            }
            i += 1
        }
        return Data(out)
    }
}
