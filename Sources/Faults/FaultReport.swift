/// What the launcher's supervisor did, as its status object reports it under "faults":
/// per clause the calls it saw and the faults it injected (with the first call numbers
/// hit), and the injected faults per kind (`FAMILY:ERRNO`).
public struct FaultReport: Codable, Sendable, Equatable {
    public struct Clause: Codable, Sendable, Equatable {
        public var family: String
        public var errno: String?
        public var share: Double
        public var after: UInt64
        public var delayMicroseconds: UInt64
        public var path: String?
        /// Calls that matched the family and path (the numbers decisions are made on).
        public var calls: UInt64
        public var injected: UInt64
        public var delayed: UInt64
        /// The first (up to 64) call numbers that failed.
        public var firstCalls: [UInt64]

        enum CodingKeys: String, CodingKey {
            case family, errno, share, after, path, calls, injected, delayed
            case delayMicroseconds = "delay_us", firstCalls = "first_calls"
        }
    }

    /// One injected fault (the first 256 of a run): which call of which family, and
    /// when (Unix seconds, the host's clock).
    public struct Event: Codable, Sendable, Equatable {
        public var family: String
        public var errno: String
        public var call: UInt64
        public var time: Double
        public init(family: String, errno: String, call: UInt64, time: Double) {
            self.family = family; self.errno = errno; self.call = call; self.time = time
        }
    }

    public var seed: UInt64
    public var clauses: [Clause]
    /// The first injected faults in the order they were injected.
    public var events: [Event]?
    /// Injected faults per kind, e.g. ["write:EIO": 27].
    public var injected: [String: UInt64]
    /// A supervisor failure (faults may be missing), or nil.
    public var error: String?
    /// The whole spec in canonical form (resources included); filled in by repro, not
    /// by the launcher, which sees only the syscall clauses.
    public var spec: String?

    public init(seed: UInt64, clauses: [Clause] = [], injected: [String: UInt64] = [:], error: String? = nil, spec: String? = nil) {
        self.seed = seed; self.clauses = clauses; self.injected = injected; self.error = error; self.spec = spec
    }

    /// Every injected fault, summed over kinds.
    public var total: UInt64 { injected.values.reduce(0, +) }
}
