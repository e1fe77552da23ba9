import Core

/// One table of a recipe as the decoder sees it: typed reads that name the key, the
/// section and the line when a value has the wrong type, and a check that rejects
/// unknown keys with the nearest allowed one.
struct RecipeSection {
    let file: String
    let table: TOMLTable
    /// `[build]`, `[inputs.src]`, or empty for the top level.
    let header: String
    let position: TOMLPosition

    func error(_ pos: TOMLPosition, _ message: String) -> ReproError {
        ReproError(.invalidInput, "\(file):\(pos.line):\(pos.column): \(message)")
    }

    /// `'jobs' in [build]`, or `'name'` at the top level.
    func describe(_ key: String) -> String {
        header.isEmpty ? "'\(key)'" : "'\(key)' in \(header)"
    }

    var displayHeader: String { header.isEmpty ? "the top level" : header }

    /// Rejects keys outside `allowed`, naming the nearest allowed key.
    func checkKeys(_ allowed: [String], tables: Set<String> = []) throws {
        for entry in table.entries where !allowed.contains(entry.key) {
            let isTable = entry.value.table != nil
            let shown = isTable && header.isEmpty ? "table [\(entry.key)]" : "key '\(entry.key)'"
            var message = "unknown \(shown) in \(displayHeader)"
            if let near = nearest(entry.key, in: allowed) {
                message += "; did you mean \(tables.contains(near) ? "[\(near)]" : "'\(near)'")?"
            }
            let list = allowed.map { tables.contains($0) ? "[\($0)]" : $0 }.joined(separator: ", ")
            message += " Allowed: \(list)"
            // A [header] table is reported at its '[', any other entry at its key.
            let k = entry.keyPosition, v = entry.value.position
            throw error(isTable && (v.line, v.column) < (k.line, k.column) ? v : k, message)
        }
    }

    func value(_ key: String) -> TOMLValue? { table[key] }

    func require(_ key: String, hint: String) throws -> TOMLValue {
        guard let v = table[key] else {
            throw error(position, "\(displayHeader) has no '\(key)'; add \(hint)")
        }
        return v
    }

    func typeError(_ key: String, _ v: TOMLValue, _ expected: String, example: String) -> ReproError {
        error(v.position, "\(describe(key)) must be \(expected), not a \(v.typeName); write \(example)")
    }

    func string(_ key: String, example: String) throws -> String? {
        guard let v = table[key] else { return nil }
        guard let s = v.string else { throw typeError(key, v, "a string", example: example) }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = table[key] else { return nil }
        guard let b = v.boolean else { throw typeError(key, v, "true or false", example: "\(key) = true") }
        return b
    }

    func integer(_ key: String, min: Int64, example: String) throws -> Int64? {
        guard let v = table[key] else { return nil }
        guard let i = v.integer else { throw typeError(key, v, "an integer", example: example) }
        guard i >= min else { throw error(v.position, "\(describe(key)) must be at least \(min), not \(i)") }
        return i
    }

    func subtable(_ key: String, header sub: String) throws -> RecipeSection? {
        guard let v = table[key] else { return nil }
        guard let t = v.table else {
            throw error(v.position, "\(describe(key)) must be a table, not a \(v.typeName); write it as a \(sub) section")
        }
        return RecipeSection(file: file, table: t, header: sub, position: v.position)
    }

    func stringArray(_ key: String, example: String) throws -> [(String, TOMLValue)]? {
        guard let v = table[key] else { return nil }
        guard let a = v.array else { throw typeError(key, v, "an array of strings", example: example) }
        return try a.map { e in
            guard let s = e.string else {
                throw error(e.position, "\(describe(key)) must contain only strings, not a \(e.typeName); write \(example)")
            }
            return (s, e)
        }
    }
}

/// The allowed key closest to `key` by edit distance, if close enough to be a typo.
func nearest(_ key: String, in allowed: [String]) -> String? {
    let scored = allowed.map { ($0, editDistance(key.lowercased(), $0)) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    let limit = max(1, min(3, max(key.count, best.0.count) / 3))
    return best.1 <= limit ? best.0 : nil
}

/// Levenshtein distance, with a transposition costing one (so `scirpt` is 1 from `script`).
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in 0...x.count { d[i][0] = i }
    for j in 0...y.count { d[0][j] = j }
    for i in 1...x.count {
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[x.count][y.count]
}
