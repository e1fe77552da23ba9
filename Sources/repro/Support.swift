import ArgumentParser
import Core
import Foundation

/// Prints a value as canonical JSON (sorted keys) on stdout.
func printJSON<T: Encodable>(_ value: T, pretty: Bool = false) throws {
    print(try CanonicalJSON.string(value, pretty: pretty))
}

func warn(_ text: String) {
    FileHandle.standardError.write(Data("repro: \(text)\n".utf8))
}

/// Sizes like 512m, 2g, 1048576.
func parseSize(_ s: String, option: String) throws -> Int64 {
    let lower = s.lowercased()
    var digits = lower, mult: Double = 1
    for (suffix, m) in [("k", 1024.0), ("m", 1024.0 * 1024), ("g", 1024.0 * 1024 * 1024)] {
        if lower.hasSuffix(suffix) { digits = String(lower.dropLast()); mult = m }
    }
    guard let v = Double(digits), v >= 0, v.isFinite else {
        throw ValidationError("\(option): '\(s)' is not a size (a number with an optional k, m or g suffix)")
    }
    return Int64(v * mult)
}
