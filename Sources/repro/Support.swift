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

/// A size option, in the one size grammar (Core's `ByteSize`).
func parseSize(_ s: String, option: String) throws -> Int64 {
    guard let v = ByteSize.parse(s) else {
        throw ValidationError("\(option): '\(s)' is not a size (\(ByteSize.grammar))")
    }
    return v
}
