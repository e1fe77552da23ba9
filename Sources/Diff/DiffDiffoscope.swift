import Core
import Foundation

/// `repro diff --diffoscope`: hands changed files to diffoscope (Debian package
/// `diffoscope`, or the lighter `diffoscope-minimal`) and keeps its text report.
public enum Diffoscope {
    /// The diffoscope executable on PATH.
    /// - Throws: `ReproError(.invalidInput)` (exit 2) saying how to install it.
    public static func locate(path: String? = ProcessInfo.processInfo.environment["PATH"]) throws -> String {
        for dir in (path ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/diffoscope"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw ReproError(.invalidInput, "--diffoscope: diffoscope is not installed (not on PATH); "
                         + "install it with `apt-get install diffoscope` (or the smaller "
                         + "`apt-get install --no-install-recommends diffoscope-minimal`), or drop --diffoscope")
    }

    /// Runs `diffoscope --text - a b`, keeping at most `maxBytes` of its report.
    static func run(_ exe: String, _ a: String, _ b: String, maxBytes: Int) -> (text: String, truncated: Bool) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["--no-progress", "--text", "-", "--max-text-report-size", String(maxBytes), a, b]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        do {
            try p.run()
        } catch {
            return ("diffoscope could not be started: \(error)", false)
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        var text = String(decoding: data.prefix(maxBytes), as: UTF8.self)
        if p.terminationStatus >= 2 {
            text = "diffoscope failed (exit \(p.terminationStatus)):\n" + text
        }
        return (text, data.count > maxBytes)
    }
}
