import Foundation

/// The human summary of `repro attest show`.
public enum ProvenanceSummary {
    public static func text(_ s: ProvenanceStatement, envelope: DSSEEnvelope, signature: String) -> String {
        let p = s.predicate, b = p.buildDefinition, r = p.runDetails
        let ext = b.externalParameters
        var lines: [String] = []
        func add(_ k: String, _ v: String) { lines.append(k.padding(toLength: 14, withPad: " ", startingAt: 0) + v) }
        add("signature", signature + "; keyids " + envelope.signatures.map(\.keyid).joined(separator: ", "))
        add("statement", "\(s.type), predicate \(s.predicateType)")
        add("build type", b.buildType)
        let versions = (r.builder.version ?? [:]).sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value.hasPrefix("sha256:") ? String($0.value.prefix(23)) + "…" : $0.value)" }
        add("builder", r.builder.id + (versions.isEmpty ? "" : " (" + versions.joined(separator: ", ") + ")"))
        if let recipe = ext["recipe"] {
            add("recipe", "\(recipe["path"]?.string ?? "?") sha256:\(recipe["digest"]?["sha256"]?.string ?? "?")")
        }
        if let tree = s.subject.first(where: { $0.name == ProvenanceStatement.treeSubjectName })?.digest?["sha256"] {
            add("tree", "sha256:" + tree)
        }
        let files = s.subject.filter { $0.name != ProvenanceStatement.treeSubjectName && $0.annotations?["repro.archive"] == nil }
        let archives = s.subject.filter { $0.annotations?["repro.archive"] != nil }
        add("subjects", "\(files.count) files" + (archives.isEmpty ? "" : " and the archive " + archives.compactMap(\.name).joined(separator: ", ")))
        for f in files.prefix(10) { add("", "\(f.digest?["sha256"].map { String($0.prefix(16)) } ?? "?")…  \(f.name ?? "?")") }
        if files.count > 10 { add("", "… and \(files.count - 10) more") }
        let deps = b.resolvedDependencies ?? []
        var kinds: [String: Int] = [:]
        for d in deps { kinds[d.annotations?["kind"]?.string ?? "other", default: 0] += 1 }
        add("dependencies", "\(deps.count): " + kinds.keys.sorted().map { "\(kinds[$0]!) \($0)" }.joined(separator: ", "))
        for d in deps where d.annotations?["kind"]?.string != "toolchain-package" {
            add("", "\(d.uri ?? d.name ?? "?")")
        }
        if let i = b.internalParameters {
            let toolchain = i["toolchain"]?.string ?? "?"
            add("sandbox", "\(i["sandboxPolicy"]?.string ?? "?"), toolchain \(toolchain.hasPrefix("sha256:") ? toolchain.prefix(23) + "…" : toolchain)")
        }
        if let m = r.metadata {
            add("ran", "\(m.startedOn ?? "?") → \(m.finishedOn ?? "?"), invocation \(m.invocationId ?? "?")")
        }
        for bp in r.byproducts ?? [] { add("byproduct", "\(bp.name ?? "?") sha256:\(bp.digest?["sha256"] ?? "?")") }
        return lines.joined(separator: "\n")
    }
}
