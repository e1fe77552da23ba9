/// TOML 1.0 integers and floats from a bare token. Returns nil for a token that is
/// neither; throws a message (without position) for one that is almost a number.
enum TOMLNumber {
    enum Value { case integer(Int64), float(Double) }

    struct Problem: Error { let message: String }

    static func parse(_ token: String) throws(Problem) -> Value? {
        var body = Substring(token)
        var sign = ""
        if let f = body.first, f == "+" || f == "-" { sign = String(f); body = body.dropFirst() }
        if body == "inf" { return .float(sign == "-" ? -.infinity : .infinity) }
        if body == "nan" { return .float(.nan) }
        guard let first = body.first, first.isASCII, first.isNumber else { return nil }

        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            guard sign.isEmpty else { throw Problem(message: "'\(token)': hexadecimal, octal and binary integers cannot have a sign") }
            let digits = try cleaned(body.dropFirst(2), token: token) { $0.isHexDigit && Int(String($0), radix: radix) != nil }
            guard let v = Int64(digits, radix: radix) else {
                throw Problem(message: "'\(token)' is out of range for a 64-bit integer")
            }
            return .integer(v)
        }

        if body.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            // float = int-part ( frac [exp] / exp )
            var rest = body
            let intEnd = rest.firstIndex(where: { $0 == "." || $0 == "e" || $0 == "E" })!
            let intPart = try cleaned(rest[..<intEnd], token: token) { $0.isASCII && $0.isNumber }
            try checkLeadingZero(intPart, token: token)
            rest = rest[intEnd...]
            var text = sign + intPart
            if rest.first == "." {
                rest = rest.dropFirst()
                let fracEnd = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) ?? rest.endIndex
                let frac = try cleaned(rest[..<fracEnd], token: token) { $0.isASCII && $0.isNumber }
                text += "." + frac
                rest = rest[fracEnd...]
            }
            if let e = rest.first, e == "e" || e == "E" {
                rest = rest.dropFirst()
                var expSign = ""
                if let s = rest.first, s == "+" || s == "-" { expSign = String(s); rest = rest.dropFirst() }
                let exp = try cleaned(rest, token: token) { $0.isASCII && $0.isNumber }
                text += "e" + expSign + exp
            } else if !rest.isEmpty {
                throw Problem(message: "'\(token)' is not a valid float")
            }
            guard let d = Double(text) else { throw Problem(message: "'\(token)' is not a valid float") }
            return .float(d)
        }

        let digits = try cleaned(body, token: token) { $0.isASCII && $0.isNumber }
        try checkLeadingZero(digits, token: token)
        guard let v = Int64(sign + digits) else {
            throw Problem(message: "'\(token)' is out of range for a 64-bit integer")
        }
        return .integer(v)
    }

    /// Digits with single underscores between them; returns the digits alone.
    private static func cleaned(_ s: Substring, token: String, isDigit: (Character) -> Bool) throws(Problem) -> String {
        guard !s.isEmpty else { throw Problem(message: "'\(token)' is not a valid number: digits are missing") }
        var out = ""
        var previousWasDigit = false
        for c in s {
            if c == "_" {
                guard previousWasDigit else { throw Problem(message: "'\(token)': an underscore must sit between two digits") }
                previousWasDigit = false
                continue
            }
            guard isDigit(c) else { throw Problem(message: "'\(token)' is not a valid number") }
            out.append(c)
            previousWasDigit = true
        }
        guard previousWasDigit else { throw Problem(message: "'\(token)': an underscore must sit between two digits") }
        return out
    }

    private static func checkLeadingZero(_ digits: String, token: String) throws(Problem) {
        if digits.count > 1 && digits.first == "0" {
            throw Problem(message: "'\(token)': leading zeros are not allowed in decimal numbers")
        }
    }

    /// Whether a token looks like a TOML date or time (1979-05-27, 07:32:00).
    static func looksLikeDateTime(_ token: String) -> Bool {
        let u = Array(token.utf8)
        func digits(_ r: Range<Int>) -> Bool { r.upperBound <= u.count && r.allSatisfy { u[$0] >= 0x30 && u[$0] <= 0x39 } }
        if digits(0..<4) && u.count > 4 && u[4] == UInt8(ascii: "-") { return true }
        if digits(0..<2) && u.count > 2 && u[2] == UInt8(ascii: ":") { return true }
        return false
    }
}
