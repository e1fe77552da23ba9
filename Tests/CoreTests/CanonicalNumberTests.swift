import Core
import Foundation
import TestKit
import Testing

/// RFC 8785 (JSON Canonicalization Scheme), Appendix B: IEEE 754 doubles and how a
/// canonical document writes them (ECMAScript's Number.prototype.toString; the strings
/// were checked against node's String(x)), plus a few everyday values.
@Suite(.tags(.unit)) struct CanonicalNumberTests {
    static let vectors: [(String, String)] = [
        ("0000000000000000", "0"), ("8000000000000000", "0"), ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"), ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("ffefffffffffffff", "-1.7976931348623157e+308"), ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"), ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"), ("44b52d02c7e14af6", "1e+23"),
        ("44b52d02c7e14af7", "1.0000000000000001e+23"), ("444b1ae4d6e2ef4e", "999999999999999700000"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"), ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"), ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"), ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555555", "333333333.3333333"), ("41b3de4355555556", "333333333.3333334"),
        ("41b3de4355555557", "333333333.33333343"), ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),
        ("3ff8000000000000", "1.5"), ("3fb999999999999a", "0.1"), ("4059000000000000", "100"),
        ("3e7ad7f29abcaf48", "1e-7"), ("3e8ad7f29abcaf48", "2e-7"),
    ]

    static func double(_ hex: String) -> Double { Double(bitPattern: UInt64(hex, radix: 16)!) }

    @Test func rfc8785Vectors() throws {
        for (hex, text) in Self.vectors {
            #expect(try CanonicalJSON.number(Self.double(hex)) == text, "\(hex)")
        }
        #expect(throws: ReproError.self) { try CanonicalJSON.number(.nan) }
        #expect(throws: ReproError.self) { try CanonicalJSON.number(.infinity) }
    }

    /// Through Encodable (recipes' cpus, statements' numbers) the same digits come out,
    /// whatever Foundation's own spelling of the double; exponent forms are refused.
    @Test func encodableGivesTheSameDigits() throws {
        for (hex, text) in Self.vectors {
            let d = Self.double(hex)
            if text.contains("e") {
                #expect(throws: (any Error).self) { try CanonicalJSON.string([CanonicalNumber(d)]) }
            } else {
                #expect(try CanonicalJSON.string([CanonicalNumber(d)]) == "[\(text)]", "\(hex)")
            }
        }
    }
}
