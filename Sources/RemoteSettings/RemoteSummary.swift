import Core

extension ReproError.Code {
    /// The REAPI server cannot be reached or keeps failing (exit 70; a build goes on
    /// locally unless the remote is required).
    public static let remoteUnavailable = ReproError.Code("remote-unavailable", exitStatus: ExitStatus.internalError)
}

/// What the remote did for a build (the `remote` object of `repro build --json`).
public struct RemoteSummary: Codable, Sendable {
    public var endpoint: String
    public var instance: String
    /// The REAPI Action digest the result is cached under.
    public var reapiAction: String?
    public var reapiActionSize: Int64?
    /// `local-hit`, `remote-hit`, `uploaded`, `executed` or `unavailable`.
    public var outcome: String
    public var downloadedBytes: Int64 = 0
    public var uploadedBytes: Int64 = 0
    /// The keyid that signed a remote result's provenance.
    public var keyid: String?
    public var warning: String?

    public init(endpoint: String, instance: String, outcome: String) {
        self.endpoint = endpoint; self.instance = instance; self.outcome = outcome
    }

    enum CodingKeys: String, CodingKey {
        case endpoint, instance, outcome, keyid, warning
        case reapiAction = "reapi_action", reapiActionSize = "reapi_action_size", downloadedBytes = "downloaded_bytes", uploadedBytes = "uploaded_bytes"
    }
}

