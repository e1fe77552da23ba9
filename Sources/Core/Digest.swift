import CCrypto
import Foundation

/// A content digest as REAPI has it: SHA-256 plus size. Written `sha256:<hex>` for
/// people; encoded as `{"sha256": "<hex>", "size": N}` in JSON.
public struct Digest: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    /// 64 lowercase hex characters.
    public let hex: String
    public let size: Int64

    public init(hex: String, size: Int64) {
        self.hex = hex
        self.size = size
    }

    enum CodingKeys: String, CodingKey { case hex = "sha256", size }

    public var description: String { "sha256:\(hex)" }

    public static func < (a: Digest, b: Digest) -> Bool { (a.hex, a.size) < (b.hex, b.size) }

    /// Parses `sha256:<hex>` (the size is unknown: -1) or bare hex.
    public static func parse(_ text: String, size: Int64 = -1) throws -> Digest {
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw ReproError(.invalidInput, "'\(text)' is not a digest: expected sha256:<64 lowercase hex digits>")
        }
        return Digest(hex: hex, size: size)
    }

    public static func of(_ bytes: some DataProtocol) -> Digest {
        let h = SHA256Stream()
        h.update(bytes)
        return h.finish()
    }

    public static func of(_ text: String) -> Digest { of(Data(text.utf8)) }

    /// Hashes a file by streaming it (1 MiB reads).
    /// - Throws: `ReproError(.system)` naming the path when it cannot be read.
    public static func ofFile(_ path: String) throws -> Digest {
        let h = SHA256Stream()
        try FileChunks.forEach(inFile: path) { h.update($0) }
        return h.finish()
    }
}

/// Streams a file through `body` in reads of up to 1 MiB: the one read loop of every
/// whole-file digest (SHA-256 here, SHA-1 for SPDX in Attest).
public enum FileChunks {
    /// - Throws: `ReproError(.system)` naming the path when it cannot be opened or read.
    public static func forEach(inFile path: String, _ body: (UnsafeRawBufferPointer) -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReproError(.system, "open \(path): \(Syscall.errorString(errno))") }
        defer { close(fd) }
        // A small file gets a small buffer (a zeroed MiB per file was most of the time
        // on outputs of many small files).
        var st = stat()
        let size = fstat(fd, &st) == 0 ? Int(st.st_size) : 1 << 20
        var buf = [UInt8](repeating: 0, count: min(1 << 20, max(size, 0) + 1))
        while true {
            let n = try Syscall.check("read \(path)") { buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            if n == 0 { break }
            buf.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}

/// Incremental SHA-256 over OpenSSL's EVP interface. One context, reused: `finish()`
/// returns the digest and resets for the next input, so a worker thread hashing many
/// files keeps one hasher. Hex is spelled with a table (formatting each byte with
/// `String(format:)` was most of the CPU time of hashing small files).
public final class SHA256Stream {
    private let ctx: OpaquePointer
    private var count: Int64 = 0
    private static let digits = Array("0123456789abcdef".utf8)
    /// SHA-256 fetched from the default provider once. `EVP_sha256()` makes OpenSSL 3
    /// look the algorithm up again (under a lock) at every init, i.e. once per file.
    nonisolated(unsafe) private static let md: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil) ?? EVP_sha256()

    public init() {
        ctx = EVP_MD_CTX_new()
        reset()
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func reset() {
        EVP_DigestInit_ex(ctx, Self.md, nil)
        count = 0
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count)
        count += Int64(bytes.count)
    }

    public func update(_ bytes: some DataProtocol) {
        for region in bytes.regions { region.withUnsafeBytes { update($0) } }
    }

    /// The digest of everything since the last reset; resets.
    public func finish() -> Digest {
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var len: UInt32 = 0
        let hex = withUnsafeMutableBytes(of: &out) { raw -> String in
            EVP_DigestFinal_ex(ctx, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), &len)
            return String(unsafeUninitializedCapacity: 64) { buf in
                for (i, b) in raw.enumerated() {
                    buf[2 * i] = Self.digits[Int(b >> 4)]
                    buf[2 * i + 1] = Self.digits[Int(b & 0x0f)]
                }
                return 64
            }
        }
        let digest = Digest(hex: hex, size: count)
        reset()
        return digest
    }
}
