import CCrypto
import Core
import Foundation

/// The signature algorithms repro signs with. OpenSSL libcrypto does all cryptography.
public enum KeyAlgorithm: String, Sendable, CaseIterable, Codable {
    /// Ed25519 (RFC 8032): pure EdDSA over the message, 64-byte signatures.
    case ed25519
    /// ECDSA on NIST P-256 with SHA-256; signatures DER-encoded (`ECDSA-Sig-Value`).
    case ecdsaP256 = "ecdsa-p256"
}

/// An OpenSSL `EVP_PKEY`, owned: freed with `EVP_PKEY_free` when the last reference goes.
/// Keys are immutable after creation, so sharing them across threads is safe.
final class OwnedPKey: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }
}

/// A public key: verifies DSSE signatures.
public struct PublicKey: Sendable {
    let key: OwnedPKey
    public let algorithm: KeyAlgorithm
    /// The SubjectPublicKeyInfo, DER (`i2d_PUBKEY`).
    public let der: Data

    /// The DSSE `keyid`: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo
    /// (`openssl pkey -pubin -outform DER | sha256sum` computes the same).
    public var keyID: String { Digest.of(der).hex }

    init(key: OwnedPKey, source: String) throws {
        self.key = key
        self.algorithm = try Keys.algorithm(of: key.pointer, source: source)
        self.der = try Keys.publicDER(key.pointer, source: source)
    }

    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), from `PEM_write_bio_PUBKEY`.
    public func pem() throws -> Data {
        try Keys.withMemoryBIO("writing a public key") { bio in PEM_write_bio_PUBKEY(bio, key.pointer) }
    }

    /// Parses a PEM public key (`PEM_read_bio_PUBKEY`).
    /// - Throws: `ReproError(.invalidInput)` naming `source` when it is not a PEM public
    ///   key of a supported algorithm.
    public init(pem: Data, source: String = "public key") throws {
        guard let p = Keys.withReadBIO(pem, { PEM_read_bio_PUBKEY($0, nil, nil, nil) }) else {
            let hint = String(decoding: pem.prefix(64), as: UTF8.self).contains("PRIVATE KEY")
                ? " (this is a private key; pass the .pub.pem file)" : ""
            throw ReproError(.invalidInput, "\(source): not a PEM public key (expected '-----BEGIN PUBLIC KEY-----')\(hint): \(Keys.opensslError())")
        }
        try self.init(key: OwnedPKey(p), source: source)
    }

    /// Reads a PEM public key file.
    public init(path: String) throws {
        try self.init(pem: try Keys.read(path, what: "public key"), source: path)
    }
}

/// A private key: signs DSSE envelopes. Never printed, never written except by
/// `KeyPair.write(to:force:)` (mode 0600).
public struct PrivateKey: Sendable {
    let key: OwnedPKey
    public let algorithm: KeyAlgorithm
    public let publicKey: PublicKey

    init(key: OwnedPKey, source: String) throws {
        self.key = key
        self.algorithm = try Keys.algorithm(of: key.pointer, source: source)
        // i2d_PUBKEY of a private EVP_PKEY writes only its public half.
        self.publicKey = try PublicKey(key: key, source: source)
    }

    /// Unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), from `PEM_write_bio_PrivateKey`.
    public func pem() throws -> Data {
        try Keys.withMemoryBIO("writing a private key") { bio in
            PEM_write_bio_PrivateKey(bio, key.pointer, nil, nil, 0, nil, nil)
        }
    }

    /// Parses an unencrypted PEM private key (`PEM_read_bio_PrivateKey`; PKCS#8 or the
    /// traditional EC form).
    /// - Throws: `ReproError(.invalidInput)` naming `source` when it is not a PEM
    ///   private key of a supported algorithm, or it is encrypted.
    public init(pem: Data, source: String = "private key") throws {
        let text = String(decoding: pem.prefix(128), as: UTF8.self)
        if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
            throw ReproError(.invalidInput, "\(source): the private key is encrypted; repro needs an unencrypted PKCS#8 key (openssl pkcs8 -topk8 -nocrypt)")
        }
        // A NULL password callback would prompt on the terminal for an encrypted key;
        // an empty passphrase makes that a plain failure instead.
        let empty = strdup("")
        defer { free(empty) }
        guard let p = Keys.withReadBIO(pem, { PEM_read_bio_PrivateKey($0, nil, nil, empty) }) else {
            let hint = text.contains("PUBLIC KEY") ? " (this is a public key; pass the private .pem file)" : ""
            throw ReproError(.invalidInput, "\(source): not a PEM private key (expected '-----BEGIN PRIVATE KEY-----')\(hint): \(Keys.opensslError())")
        }
        try self.init(key: OwnedPKey(p), source: source)
    }

    /// Reads a PEM private key file.
    public init(path: String) throws {
        try self.init(pem: try Keys.read(path, what: "private key"), source: path)
    }
}

/// A freshly generated key pair and where `repro key generate` puts it.
public struct KeyPair: Sendable {
    public let privateKey: PrivateKey
    public var publicKey: PublicKey { privateKey.publicKey }

    /// File names inside a key directory.
    public static let privateFileName = "signing.pem"
    public static let publicFileName = "signing.pub.pem"

    /// Generates a key with `EVP_PKEY_keygen` (P-256 as a named curve).
    /// - Throws: `ReproError(.internal)` with OpenSSL's reason if libcrypto fails.
    public static func generate(_ algorithm: KeyAlgorithm) throws -> KeyPair {
        let id: Int32 = algorithm == .ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_EC
        guard let ctx = EVP_PKEY_CTX_new_id(id, nil) else {
            throw ReproError(.internal, "EVP_PKEY_CTX_new_id: \(Keys.opensslError())")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else {
            throw ReproError(.internal, "EVP_PKEY_keygen_init: \(Keys.opensslError())")
        }
        if algorithm == .ecdsaP256 {
            guard EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1,
                  EVP_PKEY_CTX_set_ec_param_enc(ctx, OPENSSL_EC_NAMED_CURVE) == 1 else {
                throw ReproError(.internal, "selecting P-256: \(Keys.opensslError())")
            }
        }
        var out: OpaquePointer?
        guard EVP_PKEY_keygen(ctx, &out) == 1, let out else {
            throw ReproError(.internal, "EVP_PKEY_keygen: \(Keys.opensslError())")
        }
        return KeyPair(privateKey: try PrivateKey(key: OwnedPKey(out), source: "generated key"))
    }

    /// Writes `signing.pem` (PKCS#8, mode 0600) and `signing.pub.pem` (SubjectPublicKeyInfo,
    /// mode 0644) into `dir`, creating it with mode 0700. Each file is written to a
    /// temporary name and renamed, so a reader never sees half a key.
    /// - Throws: `ReproError(.invalidInput)` if a key exists and `force` is false;
    ///   `ReproError(.system)` naming the path when a write fails.
    @discardableResult
    public func write(to dir: String, force: Bool = false) throws -> (privatePath: String, publicPath: String) {
        let priv = (dir as NSString).appendingPathComponent(Self.privateFileName)
        let pub = (dir as NSString).appendingPathComponent(Self.publicFileName)
        if !force {
            for path in [priv, pub] where FileManager.default.fileExists(atPath: path) {
                throw ReproError(.invalidInput, "\(path) exists; pass --force to replace it (the old key is lost) or --out DIR for another directory")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw ReproError(.system, "creating key directory \(dir): \(error.localizedDescription)")
        }
        try Keys.writeAtomically(try privateKey.pem(), to: priv, mode: 0o600)
        try Keys.writeAtomically(try publicKey.pem(), to: pub, mode: 0o644)
        return (priv, pub)
    }
}

/// Where keys live, and the OpenSSL plumbing shared by the key types.
public enum Keys {
    /// `$XDG_CONFIG_HOME/repro/keys`, else `~/.config/repro/keys`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            return xdg + "/repro/keys"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.config/repro/keys"
    }

    /// The signing key to use: `--key PATH`, else `$REPRO_SIGNING_KEY`, else
    /// `signing.pem` in the default directory.
    public static func signingKeyPath(explicit: String?,
                                      environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment["REPRO_SIGNING_KEY"], !env.isEmpty { return env }
        return (defaultDirectory(environment: environment) as NSString).appendingPathComponent(KeyPair.privateFileName)
    }

    static func read(_ path: String, what: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ReproError(.invalidInput, "\(path): no such \(what) file (create one with `repro key generate`)")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReproError(.invalidInput, "\(path): cannot read the \(what): \(error.localizedDescription)")
        }
    }

    static func algorithm(of pkey: OpaquePointer, source: String) throws -> KeyAlgorithm {
        switch EVP_PKEY_get_base_id(pkey) {
        case EVP_PKEY_ED25519:
            return .ed25519
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var len = 0
            guard EVP_PKEY_get_utf8_string_param(pkey, "group", &name, name.count, &len) == 1 else {
                throw ReproError(.invalidInput, "\(source): EC key without a named curve; repro supports P-256 only")
            }
            let curve = Keys.string(name)
            guard curve == "prime256v1" || curve == "P-256" else {
                throw ReproError(.invalidInput, "\(source): EC key on curve \(curve); repro supports P-256 (prime256v1) only")
            }
            return .ecdsaP256
        default:
            let name = EVP_PKEY_get0_type_name(pkey).map { String(cString: $0) } ?? "unknown"
            throw ReproError(.invalidInput, "\(source): \(name) key; repro supports ed25519 and ecdsa-p256 keys")
        }
    }

    static func publicDER(_ pkey: OpaquePointer, source: String) throws -> Data {
        let n = i2d_PUBKEY(pkey, nil)
        guard n > 0 else { throw ReproError(.internal, "\(source): i2d_PUBKEY: \(opensslError())") }
        var bytes = [UInt8](repeating: 0, count: Int(n))
        let written = bytes.withUnsafeMutableBufferPointer { buf -> Int32 in
            var p: UnsafeMutablePointer<UInt8>? = buf.baseAddress
            return i2d_PUBKEY(pkey, &p)
        }
        guard written == n else { throw ReproError(.internal, "\(source): i2d_PUBKEY: \(opensslError())") }
        return Data(bytes)
    }

    /// Runs `body` on a fresh memory BIO and returns what it wrote.
    static func withMemoryBIO(_ what: String, _ body: (OpaquePointer) -> Int32) throws -> Data {
        guard let bio = BIO_new(BIO_s_mem()) else { throw ReproError(.internal, "BIO_new: \(opensslError())") }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw ReproError(.internal, "\(what): \(opensslError())") }
        let n = Int(BIO_ctrl_pending(bio))
        var bytes = [UInt8](repeating: 0, count: n)
        let got = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(n)) }
        guard got == n else { throw ReproError(.internal, "\(what): short BIO_read") }
        return Data(bytes)
    }

    /// Runs `body` on a read-only memory BIO over `data`.
    static func withReadBIO<T>(_ data: Data, _ body: (OpaquePointer) -> T?) -> T? {
        ERR_clear_error()
        return data.withUnsafeBytes { raw -> T? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    /// The oldest queued OpenSSL error as text (`ERR_get_error`, `ERR_error_string_n`);
    /// the queue is cleared.
    static func opensslError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "no OpenSSL error recorded" }
        var buf = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buf, buf.count)
        return string(buf)
    }

    /// A NUL-terminated C string held in an array.
    static func string(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes `data` to a temporary file in the target's directory with `mode`, fsyncs
    /// it and renames it over `path`.
    static func writeAtomically(_ data: Data, to path: String, mode: mode_t) throws {
        let dir = (path as NSString).deletingLastPathComponent
        var template = Array(((dir.isEmpty ? "." : dir) + "/.tmp-key-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ReproError(.system, "creating a temporary file in \(dir): \(Syscall.errorString(errno))") }
        let tmp = string(template)
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(tmp) }
        }
        _ = try Syscall.check("fchmod \(tmp)") { fchmod(fd, mode) }
        var offset = 0
        try data.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = try Syscall.check("write \(tmp)") { Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset) }
                offset += n
            }
        }
        _ = try Syscall.check("fsync \(tmp)") { fsync(fd) }
        _ = try Syscall.check("rename \(tmp) to \(path)") { rename(tmp, path) }
        ok = true
    }
}

/// The libcrypto this build signs and hashes with, for `repro doctor`.
public enum LibCrypto {
    public static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
