import Foundation

extension ReproError {
    /// Any error as a `ReproError`, for the one place the CLI maps errors to exit codes:
    /// a `ReproError` is itself; anything else (a Foundation file error, a decoding
    /// error) is an internal error (exit 70) whose message names `operation`, the path
    /// the error carries when it has one, and what went wrong, so it never passes for
    /// a failed build (exit 1).
    public static func from(_ error: any Error, operation: String) -> ReproError {
        if let e = error as? ReproError { return e }
        var parts = [operation]
        if let path = path(of: error) { parts.append(path) }
        let what: String
        switch error {
        case let DecodingError.dataCorrupted(c), let DecodingError.keyNotFound(_, c),
             let DecodingError.typeMismatch(_, c), let DecodingError.valueNotFound(_, c):
            let at = c.codingPath.map(\.stringValue).joined(separator: ".")
            what = "cannot decode\(at.isEmpty ? "" : " at " + at): \(c.debugDescription)"
        case let e as EncodingError:
            what = "cannot encode: \(e)"
        default:
            what = (error as NSError).localizedDescription
        }
        parts.append(what)
        return ReproError(.internal, parts.joined(separator: ": ") + " (internal error: please report it)",
                          cause: ErrorText(String(describing: error)))
    }

    /// The file a Foundation error names (NSFilePathErrorKey, else NSURLErrorKey).
    static func path(of error: any Error) -> String? {
        let info = (error as NSError).userInfo
        if let p = info[NSFilePathErrorKey] as? String { return p }
        if let u = info[NSURLErrorKey] as? URL { return u.path }
        return nil
    }

    /// The original error's text, kept as the cause (errors are not all Sendable).
    struct ErrorText: Error, Sendable, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}
