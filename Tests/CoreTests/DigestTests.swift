import Foundation
import TestKit
import Testing
@testable import Core

@Test(.tags(.unit)) func digestMatchesCoreutils() throws {
    // printf 'hello\n' | sha256sum
    let d = Digest.of("hello\n")
    #expect(d.description == "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
    #expect(d.size == 6)
    #expect(Digest.of("").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
}

@Test(.tags(.unit)) func fileDigestStreams() throws {
    let path = NSTemporaryDirectory() + "digest-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: path) }
    // Read buffers follow the file's size up to 1 MiB: sizes around both edges.
    for size in [0, 1, 4095, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3_000_000] {
        let data = Data((0..<size).map { UInt8($0 % 251) })
        try data.write(to: URL(fileURLWithPath: path))
        #expect(try Digest.ofFile(path) == Digest.of(data), "size \(size)")
    }
}

@Test(.tags(.unit)) func parseRejectsBadDigests() throws {
    #expect(throws: ReproError.self) { try Digest.parse("sha256:xyz") }
    #expect(try Digest.parse("sha256:" + String(repeating: "a", count: 64)).hex.count == 64)
}
