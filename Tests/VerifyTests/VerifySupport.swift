import Foundation
import TestKit

/// Running `repro` for the verify and bundle tests, and the recipes they build.
enum VerifySupport {
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    struct Run {
        var status: Int32
        var out: String
        var err: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:] }
    }

    /// - Parameters:
    ///   - home: run with `REPRO_HOME` set to it (a "host").
    ///   - extra: more environment variables.
    static func repro(_ args: [String], cwd: String = sourceRoot, home: String? = nil, extra: [String: String] = [:]) throws -> Run {
        var env: [String: String]?
        if home != nil || !extra.isEmpty {
            env = ProcessInfo.processInfo.environment.merging(extra) { _, b in b }
            if let home { env!["REPRO_HOME"] = home }
        }
        let r = try TestKit.run([TestKit.repro] + args, environment: env, cwd: cwd)
        return Run(status: r.status, out: r.out, err: r.stderr)
    }

    /// The deliberately unreproducible recipe (Fixtures/Unrepro), copied into `dir` and locked.
    static func unrepro(in dir: String, store: String) throws -> String {
        try FileManager.default.copyItem(atPath: sourceRoot + "/Tests/VerifyTests/Fixtures/Unrepro", toPath: dir + "/Unrepro")
        let recipe = dir + "/Unrepro/unrepro.toml"
        let lock = try repro(["lock", recipe, "--store", store])
        guard lock.status == 0 else { throw Failure("repro lock: \(lock.err)") }
        return recipe
    }

    /// A small reproducible recipe on the host toolchain: a C program, a data file and a
    /// tar of the sources made with GNU tar's reproducibility options. Locked.
    static func tiny(in dir: String, store: String, data: String = "payload\n") throws -> String {
        let src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        try "#include <stdio.h>\nint main(void) { puts(\"tiny\"); return 0; }\n".write(toFile: src + "/tiny.c", atomically: true, encoding: .utf8)
        try data.write(toFile: src + "/data.txt", atomically: true, encoding: .utf8)
        let recipe = """
        name = "tiny"
        version = "1"
        [toolchain]
        host = true
        [inputs.src]
        path = "src"
        [build]
        source-date-epoch = 1700000000
        script = \"\"\"
        cc -O2 -o $REPRO_OUT/tiny src/src/tiny.c
        cp src/src/data.txt $REPRO_OUT/data.txt
        mkdir $REPRO_OUT/share
        tar --sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 --group=0 --numeric-owner --mode=go-w -cf $REPRO_OUT/share/src.tar -C src/src .
        \"\"\"
        """
        try recipe.write(toFile: dir + "/tiny.toml", atomically: true, encoding: .utf8)
        let lock = try repro(["lock", dir + "/tiny.toml", "--store", store])
        guard lock.status == 0 else { throw Failure("repro lock: \(lock.err)") }
        return dir + "/tiny.toml"
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }
}
