import Foundation
import TestKit

/// A BuildGrid cache-only server of a test's own (to break on purpose): the pinned
/// `bgd` and the YAML template scripts/services uses, on a free loopback port, with its
/// own storage. Stopped by PID.
final class OwnServer {
    let port: Int
    let dir: String
    let process: Process
    var url: String { "grpc://127.0.0.1:\(port)" }
    /// Where the server keeps blob HEX: BuildGrid's disk storage layout.
    func objectPath(_ hex: String) -> String {
        "\(dir)/cas/cas/objects/\(hex.prefix(2))/\(hex.dropFirst(2))"
    }

    /// `execution`: the execution configuration, scheduling in a new database of its
    /// own on the test PostgreSQL.
    init(_ dir: String, execution: Bool = false) throws {
        let bgd = try Services.value("REPRO_TEST_BGD")
        let templates = try Services.value("REPRO_TEST_BUILDGRID_CONFIGS")
        self.dir = dir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = try OwnServer.freePort()
        var database = ""
        if execution {
            let pg = try Services.value("REPRO_TEST_PG")
            let name = "bgd_\(getpid())_\(port)"
            let url = URL(string: pg)!
            let create = try TestKit.run(["psql", "-q", "-h", url.host ?? "127.0.0.1", "-p", String(url.port ?? 5432),
                                          "-U", url.user ?? "postgres", "-d", "postgres", "-c", "CREATE DATABASE \(name)"])
            guard create.status == 0 else { throw Host.HostError(message: "createdb: \(create.stderr)") }
            database = pg + "/" + name
            let migrate = try TestKit.run([bgd, "migrate", "apply", database])
            guard migrate.status == 0 else { throw Host.HostError(message: "bgd migrate: \(migrate.stderr)") }
        }
        let kind = execution ? "exec" : "cache"
        let yml = try String(contentsOfFile: templates + "/\(kind).yml", encoding: .utf8)
            .replacingOccurrences(of: "@PORT@", with: String(port))
            .replacingOccurrences(of: "@STATE@", with: dir)
            .replacingOccurrences(of: "@DATABASE@", with: database)
        try yml.write(toFile: dir + "/\(kind).yml", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: bgd)
        process.arguments = ["server", "start", dir + "/\(kind).yml"]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        for _ in 0..<300 {
            if OwnServer.accepts(port) { return }
            guard process.isRunning else { throw Host.HostError(message: "bgd server exited (\(process.terminationStatus))") }
            usleep(100_000)
        }
        stop()
        throw Host.HostError(message: "bgd server did not listen on \(port) within 30 s")
    }

    /// SIGKILL, as a crash.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL after 5 s (bgd can take long to wind down its threads).
    func stop() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGTERM)
        waitUntil(seconds: 5) { !process.isRunning }
        kill()
    }

    deinit { stop() }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port the kernel hands out for an ephemeral bind, released again.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = 0
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw Host.HostError(message: "no free port") }
        return Int(UInt16(bigEndian: a.sin_port))
    }
}
