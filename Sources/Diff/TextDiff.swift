import Foundation

/// Line diffs: Myers' O(ND) algorithm on lines (after trimming the common prefix and
/// suffix), printed as a unified diff with 3 lines of context and bounded twice: at most
/// `maxEdits` changed lines are searched for, and at most `maxLines` lines are printed.
enum TextDiff {
    /// Files larger than this are not diffed line by line.
    static let maxTextBytes = 64 << 20
    /// More differing lines than this and the diff is given up (the memory of the
    /// search grows with the square of it).
    static let maxEdits = 2000
    static let context = 3

    /// The text of `data`, when it is UTF-8 without NUL bytes (nil: binary).
    static func text(_ data: Data) -> String? {
        guard data.count <= maxTextBytes, !data.contains(0) else { return nil }
        return String(validating: data, as: UTF8.self)
    }

    struct Result {
        var text: String
        var truncated: Bool
        /// Why the diff is partial, if it is.
        var note: String?
    }

    enum Op: Equatable { case same, delete, insert }

    static func unified(_ a: String, _ b: String, labelA: String, labelB: String, maxLines: Int) -> Result {
        let la = lines(a), lb = lines(b)
        guard let script = edits(la.map(\.text), lb.map(\.text)) else {
            return Result(text: "--- \(labelA)\n+++ \(labelB)\n", truncated: true,
                          note: "more than \(maxEdits) lines differ (\(la.count) vs \(lb.count) lines): no line diff shown")
        }
        var out = ["--- \(labelA)", "+++ \(labelB)"]
        var truncated = false
        var omitted = 0
        for hunk in hunks(script) {
            var body: [String] = []
            var i = hunk.aStart, j = hunk.bStart
            for op in script[hunk.range] {
                switch op {
                case .same: body.append(" " + la[i].text + la[i].missingNewline); i += 1; j += 1
                case .delete: body.append("-" + la[i].text + la[i].missingNewline); i += 1
                case .insert: body.append("+" + lb[j].text + lb[j].missingNewline); j += 1
                }
            }
            let header = "@@ -\(range(hunk.aStart, i - hunk.aStart)) +\(range(hunk.bStart, j - hunk.bStart)) @@"
            for line in [header] + body {
                if out.count - 2 < maxLines { out.append(line) } else { truncated = true; omitted += 1 }
            }
        }
        if truncated { out.append("... \(omitted) more diff lines not shown (bound: \(maxLines) lines)") }
        return Result(text: out.joined(separator: "\n") + "\n", truncated: truncated,
                      note: truncated ? "diff cut at \(maxLines) lines" : nil)
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        // Unified diff numbers lines from 1; an empty range names the line before it.
        count == 1 ? "\(start + 1)" : "\(count == 0 ? start : start + 1),\(count)"
    }

    struct Line {
        var text: Substring
        /// "\n\\ No newline at end of file" for a last line without newline.
        var missingNewline: String
    }

    static func lines(_ s: String) -> [Line] {
        var parts = s.split(separator: "\n", omittingEmptySubsequences: false)
        let endsWithNewline = s.hasSuffix("\n")
        if endsWithNewline || s.isEmpty { parts.removeLast() }
        return parts.enumerated().map { i, p in
            Line(text: p, missingNewline: (i == parts.count - 1 && !endsWithNewline) ? "\n\\ No newline at end of file" : "")
        }
    }

    /// The edit script turning `a` into `b`, or nil when more than `maxEdits` edits are needed.
    static func edits(_ a: [Substring], _ b: [Substring], maxEdits: Int = TextDiff.maxEdits) -> [Op]? {
        // Lines as integers: equal lines, equal numbers.
        var ids: [Substring: Int] = [:]
        func id(_ line: Substring) -> Int {
            if let known = ids[line] { return known }
            ids[line] = ids.count
            return ids.count - 1
        }
        let xa = a.map(id), xb = b.map(id)
        var prefix = 0
        while prefix < xa.count, prefix < xb.count, xa[prefix] == xb[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < xa.count - prefix, suffix < xb.count - prefix,
              xa[xa.count - 1 - suffix] == xb[xb.count - 1 - suffix] { suffix += 1 }
        let ma = Array(xa[prefix..<(xa.count - suffix)]), mb = Array(xb[prefix..<(xb.count - suffix)])
        guard let middle = myers(ma, mb, maxEdits: maxEdits) else { return nil }
        return Array(repeating: .same, count: prefix) + middle + Array(repeating: .same, count: suffix)
    }

    /// Myers 1986, greedy forward search keeping each round's frontier for the backtrack.
    private static func myers(_ a: [Int], _ b: [Int], maxEdits: Int) -> [Op]? {
        let n = a.count, m = b.count
        if n == 0 { return Array(repeating: .insert, count: m) }
        if m == 0 { return Array(repeating: .delete, count: n) }
        let limit = min(n + m, maxEdits)
        let offset = limit + 1
        var v = [Int](repeating: 0, count: 2 * limit + 3)
        var trace: [[Int]] = []
        var found = false
        outer: for d in 0...limit {
            trace.append(Array(v[(offset - d - 1)...(offset + d + 1)]))
            for k in stride(from: -d, through: d, by: 2) {
                var xPos: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    xPos = v[offset + k + 1]
                } else {
                    xPos = v[offset + k - 1] + 1
                }
                var yPos = xPos - k
                while xPos < n, yPos < m, a[xPos] == b[yPos] { xPos += 1; yPos += 1 }
                v[offset + k] = xPos
                if xPos >= n, yPos >= m { found = true; break outer }
            }
        }
        guard found else { return nil }
        // Backtrack through the saved frontiers (trace[d] holds v before round d,
        // for k in -d-1...d+1).
        var ops: [Op] = []
        var xPos = n, yPos = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let saved = trace[d]
            func at(_ k: Int) -> Int { saved[k + d + 1] }
            let k = xPos - yPos
            let prevK: Int
            if d == 0 {
                prevK = 0
            } else if k == -d || (k != d && at(k - 1) < at(k + 1)) {
                prevK = k + 1
            } else {
                prevK = k - 1
            }
            let prevX = d == 0 ? 0 : at(prevK)
            let prevY = prevX - prevK
            while xPos > prevX, yPos > prevY { ops.append(.same); xPos -= 1; yPos -= 1 }
            if d > 0 {
                if xPos == prevX { ops.append(.insert) } else { ops.append(.delete) }
                xPos = prevX
                yPos = prevY
            }
        }
        return ops.reversed()
    }

    struct Hunk {
        var range: Range<Int>
        var aStart: Int
        var bStart: Int
    }

    /// Groups the edits with `context` lines around them; hunks closer than twice the
    /// context merge.
    static func hunks(_ script: [Op]) -> [Hunk] {
        var hunks: [Hunk] = []
        var aLine = [Int](), bLine = [Int]()
        var i = 0, j = 0
        for op in script {
            aLine.append(i)
            bLine.append(j)
            if op != .insert { i += 1 }
            if op != .delete { j += 1 }
        }
        var current: Range<Int>?
        for (idx, op) in script.enumerated() where op != .same {
            let lo = max(0, idx - context), hi = min(script.count, idx + context + 1)
            if let c = current, lo <= c.upperBound {
                current = c.lowerBound..<max(c.upperBound, hi)
            } else {
                if let c = current { hunks.append(Hunk(range: c, aStart: aLine[c.lowerBound], bStart: bLine[c.lowerBound])) }
                current = lo..<hi
            }
        }
        if let c = current { hunks.append(Hunk(range: c, aStart: aLine[c.lowerBound], bStart: bLine[c.lowerBound])) }
        return hunks
    }
}
