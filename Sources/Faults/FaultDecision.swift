/// The seeded decision the launcher's supervisor makes for each hooked call
/// (sandbox/src/faults.c computes the same numbers): clause k's n-th matching call is
/// hit when `mix(mix(mix(seed) ^ key) ^ n) / 2^64 < share` and n > after, where mix is
/// SplitMix64's finaliser and key is the FNV-1a hash of the family name plus the
/// clause's ordinal among the clauses of its family. Counter-based, so a decision never
/// depends on earlier ones: the same seed and the same call order give the same faults.
public enum FaultDecision {
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    public static func key(family: String, ordinal: Int) -> UInt64 { fnv1a(family) &+ UInt64(ordinal) }

    /// Whether call number `call` (1-based, counting calls that match the clause) is hit.
    public static func hits(seed: UInt64, key: UInt64, call: UInt64, share: Double, after: UInt64 = 0) -> Bool {
        if call <= after { return false }
        if share >= 1 { return true }
        let h = mix(mix(mix(seed) ^ key) ^ call)
        return Double(h >> 11) * 0x1.0p-53 < share
    }

    /// The calls among 1...count that a clause of `spec` hits, as the supervisor would.
    public static func hitCalls(_ spec: FaultSpec, clause index: Int, count: UInt64) -> [UInt64] {
        let c = spec.syscalls[index]
        let ordinal = spec.syscalls[..<index].filter { $0.family == c.family }.count
        let k = key(family: c.family.name, ordinal: ordinal)
        return count == 0 ? [] : (1...count).filter { hits(seed: spec.seed, key: k, call: $0, share: c.share, after: c.after) }
    }
}
