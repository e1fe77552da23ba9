import Core

/// The small grammars of recipe values: names, Debian specs, relative paths, sizes and
/// durations. Each returns nil or false for bad input; the decoder words the error.
public enum RecipeSyntax {
    private static func ascii(_ s: String, _ allowed: (UInt8) -> Bool) -> Bool { s.utf8.allSatisfy(allowed) }
    private static func isAlnum(_ c: UInt8) -> Bool { isLower(c) || isUpper(c) || isDigit(c) }
    private static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
    private static func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private static func isHexLower(_ c: UInt8) -> Bool { isDigit(c) || (c >= 0x61 && c <= 0x66) }
    private static func among(_ set: String) -> (UInt8) -> Bool { { set.utf8.contains($0) } }

    /// Recipe names: `[A-Za-z0-9][A-Za-z0-9._+-]*`, at most 64.
    public static func isName(_ s: String) -> Bool {
        guard let f = s.utf8.first, isAlnum(f), s.utf8.count <= 64 else { return false }
        return ascii(s) { isAlnum($0) || among("._+-")($0) }
    }

    /// Input names, used as directory names under /build/src:
    /// `[A-Za-z0-9_][A-Za-z0-9_.-]*`, at most 64.
    static func isInputName(_ s: String) -> Bool {
        guard let f = s.utf8.first, isAlnum(f) || f == UInt8(ascii: "_"), s.utf8.count <= 64 else { return false }
        return ascii(s) { isAlnum($0) || among("_.-")($0) }
    }

    static func isVersion(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128 && ascii(s) { isAlnum($0) || among("._+~:-")($0) }
    }

    static func isSuite(_ s: String) -> Bool {
        guard let f = s.utf8.first, isLower(f) else { return false }
        return ascii(s) { isLower($0) || isDigit($0) || among("-")($0) }
    }

    static func isArchitecture(_ s: String) -> Bool {
        guard let f = s.utf8.first, isLower(f) || isDigit(f) else { return false }
        return ascii(s) { isLower($0) || isDigit($0) || among("-")($0) }
    }

    /// Debian policy 5.6.1: lowercase letters, digits, + - ., at least two, starting alphanumeric.
    static func isDebianPackage(_ s: String) -> Bool {
        guard s.utf8.count >= 2, let f = s.utf8.first, isLower(f) || isDigit(f) else { return false }
        return ascii(s) { isLower($0) || isDigit($0) || among("+-.")($0) }
    }

    /// Debian policy 5.6.12: `[epoch:]upstream[-revision]`, upstream starting with a digit.
    static func isDebianVersion(_ s: String) -> Bool {
        var rest = Substring(s)
        if let colon = rest.firstIndex(of: ":") {
            let epoch = rest[..<colon]
            guard !epoch.isEmpty, epoch.utf8.allSatisfy(isDigit) else { return false }
            rest = rest[rest.index(after: colon)...]
        }
        guard let f = rest.utf8.first, isDigit(f) else { return false }
        return rest.utf8.allSatisfy { isAlnum($0) || among(".+~-")($0) }
    }

    /// `package=version`.
    static func debianSpec(_ s: String) -> (String, String)? {
        let parts = s.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let p = String(parts[0]).trimmingSpaces, v = String(parts[1]).trimmingSpaces
        guard isDebianPackage(p), isDebianVersion(v) else { return nil }
        return (p, v)
    }

    static func isCommit(_ s: String) -> Bool {
        (s.utf8.count == 40 || s.utf8.count == 64) && s.utf8.allSatisfy(isHexLower)
    }

    static func isEnvName(_ s: String) -> Bool {
        guard let f = s.utf8.first, !isDigit(f) else { return false }
        return ascii(s) { isAlnum($0) || $0 == UInt8(ascii: "_") }
    }

    static func isFileName(_ s: String) -> Bool {
        !s.isEmpty && s != "." && s != ".." && !s.contains("/") && s.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F }
    }

    /// A relative path with `.` and `..` resolved, or nil if it is absolute, empty,
    /// holds control characters or climbs out of its base. The base itself is `.`.
    static func normalizedRelativePath(_ s: String) -> String? {
        guard !s.isEmpty, !s.hasPrefix("/"), !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        var parts: [Substring] = []
        for c in s.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
                continue
            }
            parts.append(c)
        }
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// Bytes, in the one size grammar (Core's `ByteSize`).
    static func size(_ s: String) -> Int64? { ByteSize.parse(s) }

    /// Seconds from `90`, `90s`, `30m`, `2h`, `1d`, `1h30m`.
    static func duration(_ s: String) -> Int64? {
        var total: Int64 = 0
        var number = ""
        var sawUnit = false
        for c in s.trimmingSpaces {
            if c.isASCII && c.isNumber { number.append(c); continue }
            let unit: Int64
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            guard let n = Int64(number) else { return nil }
            let (v, o) = n.multipliedReportingOverflow(by: unit)
            guard !o else { return nil }
            total += v
            number = ""
            sawUnit = true
        }
        if !number.isEmpty {
            guard !sawUnit, let n = Int64(number) else { return nil }
            total += n
        } else if !sawUnit {
            return nil
        }
        return total
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
