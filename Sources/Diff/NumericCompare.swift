import Foundation

/// Compares texts (plain, CSV, JSON, ...) that may differ only in the last digits of
/// their numbers: both are split into numbers and the text between them; the text must
/// be byte-equal and each pair of numbers within the tolerance
///
///     |a - b| <= t * max(1, |a|, |b|)
///
/// that is, an absolute tolerance t for numbers of magnitude up to 1 and a relative one
/// above. A number is an optional sign, digits with an optional fraction (or a fraction
/// alone) and an optional exponent, not preceded by a letter, digit, `_` or `.` (so
/// `x86_64`, `v1.2` or `sha256` are text), and not followed by a letter or `_`.
/// `nan`, `inf` and hex literals are text.
enum NumericCompare {
    enum Token: Equatable {
        case text(Substring)
        case number(Double, Substring)
    }

    /// The largest difference found when every number is within `tolerance` and the rest
    /// is equal (0 when the numbers are only spelled differently, `1.0` and `1.00`);
    /// nil otherwise.
    static func equalWithin(_ tolerance: Double, _ a: String, _ b: String) -> Double? {
        let ta = tokens(a), tb = tokens(b)
        guard ta.count == tb.count else { return nil }
        var largest = 0.0
        for (x, y) in zip(ta, tb) {
            switch (x, y) {
            case let (.text(s), .text(t)):
                guard s == t else { return nil }
            case let (.number(u, su), .number(v, sv)):
                if su == sv { continue }
                guard u.isFinite, v.isFinite else { return nil }
                let diff = abs(u - v)
                guard diff <= tolerance * max(1, abs(u), abs(v)) else { return nil }
                largest = max(largest, diff)
            default:
                return nil
            }
        }
        return largest
    }

    static func tokens(_ s: String) -> [Token] {
        let u = Array(s.utf8)
        var out: [Token] = []
        var textStart = 0
        var i = 0
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        func isWord(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20 >= 97 && c | 0x20 <= 122) || c == 95 || c >= 0x80 }
        func substring(_ lo: Int, _ hi: Int) -> Substring {
            Substring(String(decoding: u[lo..<hi], as: UTF8.self))
        }
        while i < u.count {
            let previous: UInt8? = i > 0 ? u[i - 1] : nil
            if let p = previous, isWord(p) || p == UInt8(ascii: ".") { i += 1; continue }
            var j = i
            if u[j] == UInt8(ascii: "-") || u[j] == UInt8(ascii: "+") { j += 1 }
            let intStart = j
            while j < u.count, isDigit(u[j]) { j += 1 }
            var digits = j - intStart
            if j < u.count, u[j] == UInt8(ascii: ".") {
                let fracStart = j + 1
                var k = fracStart
                while k < u.count, isDigit(u[k]) { k += 1 }
                if digits > 0 || k > fracStart { digits += k - fracStart; j = k }
            }
            guard digits > 0 else { i += 1; continue }
            if j < u.count, u[j] | 0x20 == UInt8(ascii: "e") {
                var k = j + 1
                if k < u.count, u[k] == UInt8(ascii: "-") || u[k] == UInt8(ascii: "+") { k += 1 }
                let expStart = k
                while k < u.count, isDigit(u[k]) { k += 1 }
                if k > expStart { j = k }
            }
            if j < u.count, isWord(u[j]), !isDigit(u[j]) { i = j; continue }
            let literal = substring(i, j)
            guard let value = Double(literal) else { i = j; continue }
            if textStart < i { out.append(.text(substring(textStart, i))) }
            out.append(.number(value, literal))
            textStart = j
            i = j
        }
        if textStart < u.count { out.append(.text(substring(textStart, u.count))) }
        return out
    }

    /// Short, exact enough for messages: 3e-11, 0.5.
    static func format(_ x: Double) -> String {
        String(format: "%.3g", x)
    }
}
