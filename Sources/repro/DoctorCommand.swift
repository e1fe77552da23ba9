import ArgumentParser
import Attest
import Core
import Fetch
import Foundation
import Sandbox
import Store

/// `repro doctor`: what this host allows, what degrades, and what to do.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what this host allows: namespaces, seccomp, cgroups, overlayfs.",
        discussion: """
        Every check that matters is made by running the real launcher, not by reading \
        settings. Exit status 0 when sandboxes work (some limits may degrade), 1 when a \
        check failed.
        """
    )

    @Flag(help: "Print the checks as a JSON array.")
    var json = false

    func run() throws {
        var checks = HostDoctor().run()
        // Each module names the library it links; the sandbox links none of them.
        checks.append(HostCheck(name: "libraries", status: .info,
                                detail: "\(Extract.libarchiveVersion); \(LibCrypto.version); SQLite \(Store.sqliteVersion)"))
        if json {
            try printJSON(checks)
        } else {
            for c in checks {
                let mark = ["ok": "ok", "degraded": "DEGRADED", "failed": "FAILED", "info": "info"][c.status.rawValue]!
                print("\(mark.padding(toLength: 9, withPad: " ", startingAt: 0))\(c.name.padding(toLength: 17, withPad: " ", startingAt: 0))\(c.detail)")
                if let fix = c.fix, c.status == .failed || c.status == .degraded { print(String(repeating: " ", count: 26) + "-> \(fix)") }
            }
        }
        if checks.contains(where: { $0.status == .failed }) { throw ExitCode(1) }
    }
}
