/// The one error type of repro: an extensible code, a message that says what is wrong
/// and what to do, and an optional underlying cause.
///
/// The code decides the process exit status (see `ExitStatus`), so every layer throws
/// this and the CLI never has to guess.
public struct ReproError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let exitStatus: Int32
        public init(_ name: String, exitStatus: Int32) {
            self.name = name
            self.exitStatus = exitStatus
        }
        /// Usage errors and bad input: a flag, a recipe, a file the user named (exit 2).
        public static let invalidInput = Code("invalid-input", exitStatus: ExitStatus.usage)
        /// The build or a test failed (exit 1).
        public static let failed = Code("failed", exitStatus: ExitStatus.failed)
        /// Outputs differ between runs or hosts (exit 3).
        public static let notReproducible = Code("not-reproducible", exitStatus: ExitStatus.notReproducible)
        /// A signature, provenance or digest check failed (exit 4).
        public static let verificationFailed = Code("verification-failed", exitStatus: ExitStatus.verificationFailed)
        /// The host cannot do what was asked (a limit, a namespace) (exit 70 unless degraded).
        public static let unsupported = Code("unsupported", exitStatus: ExitStatus.internalError)
        /// A system call failed where it should not (exit 70).
        public static let system = Code("system", exitStatus: ExitStatus.internalError)
        /// A bug in repro (exit 70).
        public static let `internal` = Code("internal", exitStatus: ExitStatus.internalError)
        public var description: String { name }
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message) (\(cause))" }
        return message
    }
}

/// Exit statuses, as DESIGN.md fixes them.
public enum ExitStatus {
    public static let ok: Int32 = 0
    public static let failed: Int32 = 1
    public static let usage: Int32 = 2
    public static let notReproducible: Int32 = 3
    public static let verificationFailed: Int32 = 4
    public static let internalError: Int32 = 70
}
