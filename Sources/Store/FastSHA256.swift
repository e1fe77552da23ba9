import CCrypto
import Core

/// Streaming SHA-256 for the tree hasher's hot loop, over the same OpenSSL EVP calls as
/// Core's `SHA256Stream`, but reusing one context per thread and spelling the result in
/// hex with a table: `SHA256Stream.finish()` formats each byte with `String(format:)`,
/// which cost about 60% of the CPU time of `repro hash` on a tree of small files.
/// Digests are identical (tested against `Digest.of`).
final class FastSHA256 {
    private let ctx: OpaquePointer
    private var count: Int64 = 0

    init() {
        ctx = EVP_MD_CTX_new()
        reset()
    }

    deinit { EVP_MD_CTX_free(ctx) }

    func reset() {
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        count = 0
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count)
        count += Int64(bytes.count)
    }

    /// The digest so far; the context is reset for the next input.
    func finish() -> Digest {
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var len: UInt32 = 0
        let hex = withUnsafeMutableBytes(of: &out) { raw -> String in
            EVP_DigestFinal_ex(ctx, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), &len)
            return String(unsafeUninitializedCapacity: 64) { buf in
                let digits = Array("0123456789abcdef".utf8)
                for (i, b) in raw.enumerated() {
                    buf[2 * i] = digits[Int(b >> 4)]
                    buf[2 * i + 1] = digits[Int(b & 0x0f)]
                }
                return 64
            }
        }
        let digest = Digest(hex: hex, size: count)
        reset()
        return digest
    }
}
