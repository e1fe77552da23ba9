import Foundation

/// Canonical JSON: sorted keys, no insignificant whitespace, `/` not escaped. Used for
/// everything repro hashes or prints with `--json`, so the same value always gives the
/// same bytes.
public enum CanonicalJSON {
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        var format: JSONEncoder.OutputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { format.insert(.prettyPrinted) }
        encoder.outputFormatting = format
        return try encoder.encode(value)
    }

    public static func string<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        String(decoding: try encode(value, pretty: pretty), as: UTF8.self)
    }
}

extension CanonicalJSON {
    /// A double as RFC 8785 (JSON Canonicalization Scheme) writes it: ECMAScript's
    /// Number.prototype.toString, so that a digested document does not depend on how a
    /// Foundation version prints doubles. The shortest digits that round-trip come from
    /// Swift's own `description` (shortest and closest, as ECMAScript requires); the
    /// layout (plain between 1e-7 and 1e21, else `d.ddde+N`) is ECMAScript's.
    /// - Throws: `ReproError(.invalidInput)` for NaN and infinities (JSON has none).
    public static func number(_ d: Double) throws -> String {
        guard d.isFinite else { throw ReproError(.invalidInput, "\(d) is not a JSON number") }
        if d == 0 { return "0" }
        let text = "\(d.magnitude)"
        var mantissa = Substring(text), exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...].replacingOccurrences(of: "+", with: "")) ?? 0
        }
        // value = 0.DIGITS x 10^point
        var digits = Array(mantissa.filter { $0 != "." })
        var point = (mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count) + exponent
        while digits.first == "0" { digits.removeFirst(); point -= 1 }
        while digits.last == "0" { digits.removeLast() }
        let k = digits.count, n = point
        let s = String(digits)
        var out: String
        if k <= n && n <= 21 {
            out = s + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            out = String(digits[..<n]) + "." + String(digits[n...])
        } else if -6 < n && n <= 0 {
            out = "0." + String(repeating: "0", count: -n) + s
        } else {
            let e = n - 1
            out = String(digits[0]) + (k > 1 ? "." + String(digits[1...]) : "") + "e" + (e < 0 ? "-" : "+") + String(e.magnitude)
        }
        return (d < 0 ? "-" : "") + out
    }
}

/// A double in a document repro digests, encoded through `Encodable` as RFC 8785 writes
/// it (`CanonicalJSON.number`): an integer as an integer, else the same digits given to
/// the encoder as a Decimal (printed digit for digit). A value that RFC 8785 writes with
/// an exponent (|x| < 1e-7 or >= 1e21) is refused: no digested document of repro holds one.
public struct CanonicalNumber: Encodable, Sendable, Equatable {
    public let value: Double
    public init(_ value: Double) { self.value = value }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        let text: String
        do { text = try CanonicalJSON.number(value) } catch {
            throw EncodingError.invalidValue(value, .init(codingPath: c.codingPath, debugDescription: "\(error)"))
        }
        if let i = Int64(text) { return try c.encode(i) }
        guard !text.contains("e"), let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw EncodingError.invalidValue(value, .init(codingPath: c.codingPath,
                debugDescription: "\(text): canonical JSON through Encodable takes 1e-7 <= |x| < 1e21"))
        }
        try c.encode(decimal)
    }
}
