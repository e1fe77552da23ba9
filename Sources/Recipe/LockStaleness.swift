import Core

/// One way a lock no longer matches its recipe.
public struct LockChange: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The recipe's canonical digest moved (any edit of meaning, the script included).
        case recipe
        /// Toolchain kind, suite or architecture changed.
        case toolchain
        /// Packages added to or removed from `[toolchain] packages`.
        case packages
        case inputAdded
        case inputRemoved
        /// Source kind, package/version, path, git path or commit changed.
        case inputChanged
        /// An inline `sha256` pin disagrees with the lock.
        case inputPin
        /// The input's current content (hashed by the caller) differs from the lock.
        case inputContent
        /// `[test] packages` changed: only `repro test` needs a new lock.
        case testPackages
    }

    public var kind: Kind
    /// The input concerned, for the input kinds.
    public var input: String?
    public var message: String

    public var description: String { message }

    /// Whether the lock's pins must be re-resolved; false when only the recipe digest
    /// moved (an edited script, say) and every pin still holds.
    public var affectsPins: Bool { kind != .recipe && kind != .testPackages }
}

extension LockFile {
    /// Everything that changed between the lock and the recipe, most specific first; empty
    /// when the lock is fresh. `contentDigests` (input name -> digest of what is on disk
    /// now) lets the caller add content checks for path inputs.
    public func changes(for recipe: Recipe, contentDigests: [String: Digest] = [:]) -> [LockChange] {
        var out: [LockChange] = []

        switch recipe.toolchain {
        case .host:
            if toolchain.kind != "host" {
                out.append(.init(kind: .toolchain, message: "toolchain changed from debian \(toolchain.suite ?? "?") to host"))
            }
        case .debian(let suite, let packages, let arch):
            if toolchain.kind != "debian" {
                out.append(.init(kind: .toolchain, message: "toolchain changed from host to debian \(suite)"))
            } else {
                if toolchain.suite != suite {
                    out.append(.init(kind: .toolchain, message: "toolchain suite changed from \(toolchain.suite ?? "?") to \(suite)"))
                }
                if let arch, toolchain.architecture != arch {
                    out.append(.init(kind: .toolchain, message: "toolchain architecture changed from \(toolchain.architecture ?? "?") to \(arch)"))
                }
            }
            let locked = Set(toolchain.requested), wanted = Set(packages)
            let added = wanted.subtracting(locked).sorted(), removed = locked.subtracting(wanted).sorted()
            if !added.isEmpty || !removed.isEmpty {
                var parts: [String] = []
                if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
                if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
                out.append(.init(kind: .packages, message: "toolchain packages changed: \(parts.joined(separator: "; "))"))
            }
        }

        let wantedTest = Set(recipe.test?.packages ?? []), lockedTest = Set(test?.requested ?? [])
        if wantedTest != lockedTest {
            let added = wantedTest.subtracting(lockedTest).sorted(), removed = lockedTest.subtracting(wantedTest).sorted()
            var parts: [String] = []
            if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
            if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
            out.append(.init(kind: .testPackages, message: "[test] packages changed: \(parts.joined(separator: "; "))"))
        }

        let wanted = Dictionary(uniqueKeysWithValues: recipe.inputs.map { ($0.name, $0) })
        for name in Set(wanted.keys).union(inputs.keys).sorted() {
            switch (wanted[name], inputs[name]) {
            case (let w?, nil):
                out.append(.init(kind: .inputAdded, input: name, message: "input '\(name)' was added (\(w.kind) \(w.spec))"))
            case (nil, let l?):
                out.append(.init(kind: .inputRemoved, input: name, message: "input '\(name)' was removed (the lock has \(l.kind) \(l.spec))"))
            case (let w?, let l?):
                if w.kind != l.kind || w.spec != l.spec || w.commit != l.commit {
                    func show(_ kind: String, _ spec: String, _ commit: String?) -> String {
                        "\(kind) \(spec)\(commit.map { " at \($0)" } ?? "")"
                    }
                    out.append(.init(kind: .inputChanged, input: name,
                                     message: "input '\(name)' changed from \(show(l.kind, l.spec, l.commit)) to \(show(w.kind, w.spec, w.commit))"))
                } else if let pin = w.sha256, pin.hex != l.sha256 {
                    out.append(.init(kind: .inputPin, input: name,
                                     message: "input '\(name)': the recipe pins \(pin) but the lock has sha256:\(l.sha256)"))
                } else if let now = contentDigests[name], now.hex != l.sha256 || (now.size >= 0 && now.size != l.size) {
                    out.append(.init(kind: .inputContent, input: name,
                                     message: "input '\(name)' content changed: the lock has sha256:\(l.sha256), it is now \(now)"))
                }
            case (nil, nil):
                break
            }
        }

        let digest = recipe.digest
        if digest != self.recipe {
            out.append(.init(kind: .recipe, message: "the recipe changed since the lock was written (now \(digest), the lock has \(self.recipe))"))
        }
        return out
    }

    /// Whether anything in `changes(for:)` applies.
    public func isStale(for recipe: Recipe) -> Bool { !changes(for: recipe).isEmpty }
}
