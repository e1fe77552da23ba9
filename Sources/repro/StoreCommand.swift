import ArgumentParser
import Build
import Core
import Foundation
import Store

/// `repro store ...`: maintenance of the content-addressed store (docs/store.md).
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Verify, collect, export and import the content-addressed store.",
        subcommands: [Verify.self, GC.self, Export.self, Import.self, Path.self, StorePushCommand.self, StorePullCommand.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The store directory (default: $REPRO_HOME, else ~/.cache/repro).")
        var store: String?

        @Flag(help: "Print one JSON object on stdout.")
        var json = false

        func open() throws -> Store { try Store(root: store) }
    }

    /// Progress for people: only when stderr is a terminal.
    static func progress(_ text: String) {
        if isatty(2) == 1 { FileHandle.standardError.write(Data("repro: \(text)\n".utf8)) }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rehash every blob; report corrupt and missing ones (exit 4 when any).")
        @OptionGroup var options: Options

        @Flag(help: "Delete corrupt blobs and forget every record that needs a corrupt or missing one (the next build runs again); exit 0 when the store is whole afterwards.")
        var repair = false

        func run() throws {
            do {
                let store = try options.open()
                StoreCommand.progress("verifying \(store.root)")
                var report = try store.verify()
                if repair, !report.ok {
                    let fixed = try store.repair(report)
                    if !options.json {
                        print("repaired: deleted \(fixed.blobs.count) corrupt blobs; forgot \(fixed.actions) action results, \(fixed.trees) trees, \(fixed.attestations) attestations, \(fixed.pins) pins (the next build runs again)")
                    }
                    report = try store.verify()
                }
                if options.json {
                    try printJSON(report)
                } else {
                    print("checked \(report.checked) blobs, \(report.bytes) bytes")
                    for d in report.corrupt { print("corrupt \(d)") }
                    for d in report.missing { print("missing \(d)") }
                }
                if !report.ok {
                    throw ReproError(.verificationFailed, "\(report.corrupt.count) corrupt and \(report.missing.count) missing blobs in \(store.root); "
                                     + "run `repro store verify --repair` to drop them and what needs them, then rebuild, or `repro store import` what is missing")
                }
            }
        }
    }

    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove blobs no recorded tree, action, build or pin reaches.",
            discussion: """
            Without --older-than, only what nothing recorded reaches is removed: every build's \
            outputs, logs, provenance and pinned inputs stay. --older-than 30d first forgets \
            action results, builds and their provenance older than that, pins not renewed \
            since (each build renews its inputs'), and trees nothing else names; their blobs \
            are then collected (a later build of the same recipe fetches and builds again).
            """)
        @OptionGroup var options: Options
        @Option(name: .customLong("keep"), help: "Also keep this digest (a tree keeps its files); repeatable.")
        var keep: [String] = []
        @Option(name: .customLong("older-than"), help: "Also forget builds, action results and pins older than this age: 30d, 12h, 90m, 0s (everything).")
        var olderThan: String?

        func run() throws {
            do {
                let roots = try keep.map { try Digest.parse($0) }
                let age = try olderThan.map { try StoreCommand.parseAge($0) }
                let store = try options.open()
                var forgotten: ForgetReport?
                if let age {
                    forgotten = try store.forget(before: Int64(Date().timeIntervalSince1970) - age, keep: roots)
                }
                StoreCommand.progress("collecting garbage in \(store.root)")
                var report = try store.gc(keep: roots)
                report.forgotten = forgotten
                if options.json {
                    try printJSON(report)
                } else {
                    if let f = forgotten {
                        print("forgot \(f.builds) builds, \(f.actions) action results, \(f.trees) trees, \(f.pins) pins, \(f.attestations) attestations")
                    }
                    print("removed \(report.removed) blobs, freed \(report.bytesFreed) bytes; kept \(report.kept)"
                          + (report.cachedTreesRemoved > 0 ? "; removed \(report.cachedTreesRemoved) cached test working trees unused for a day" : ""))
                }
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write blobs and index rows to one deterministic tar.")
        @OptionGroup var options: Options
        @Argument(help: "The archive to write.")
        var file: String
        @Option(name: .customLong("tree"), help: "A tree, action or blob digest to carry (repeatable; default: everything).")
        var trees: [String] = []

        func run() throws {
            do {
                var digests = try trees.map { try Digest.parse($0) }
                let store = try options.open()
                // An action's output archive (named by its provenance) goes with it, so that
                // a cache hit on the importing host places it too.
                for d in digests {
                    if let a = try store.attestation(action: d), let (_, archive) = try BuildAttestation.archive(of: a, store: store),
                       store.contains(archive) {
                        digests.append(archive)
                    }
                }
                StoreCommand.progress("exporting to \(file)")
                let report = try store.export(to: file, digests: digests)
                if options.json {
                    try printJSON(report)
                } else {
                    print("exported \(report.blobs) blobs (\(report.bytes) bytes), \(report.trees) trees, \(report.actions) actions, \(report.attestations) attestations to \(file)")
                }
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an export's blobs (each verified) and index rows to the store.")
        @OptionGroup var options: Options
        @Argument(help: "An archive written by `repro store export`.")
        var file: String

        func run() throws {
            do {
                guard FileManager.default.fileExists(atPath: file) else {
                    throw ReproError(.invalidInput, "\(file): no such file")
                }
                let store = try options.open()
                StoreCommand.progress("importing \(file)")
                let report = try store.import(from: file)
                if options.json {
                    try printJSON(report)
                } else {
                    print("imported \(report.blobs) blobs (\(report.bytes) bytes), \(report.trees) trees, \(report.actions) actions, \(report.attestations) attestations")
                }
            }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the store directory, or the verified path of a blob.")
        @OptionGroup var options: Options
        @Argument(help: "A blob digest (sha256:<hex>).")
        var digest: String?

        struct Output: Encodable {
            var root: String
            var path: String?
        }

        func run() throws {
            do {
                let d = try digest.map { try Digest.parse($0) }
                let store = try options.open()
                let path = try d.map { try store.path(for: $0) }
                if options.json {
                    try printJSON(Output(root: store.root, path: path))
                } else {
                    print(path ?? store.root)
                }
            }
        }
    }
}

extension StoreCommand {
    /// `30d`, `12h`, `90m`, `45s` (or plain seconds) as seconds.
    static func parseAge(_ text: String) throws -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        var digits = Substring(text), mult: Int64 = 1
        if let last = text.last, let m = units[last] { digits = text.dropLast(); mult = m }
        guard let n = Int64(digits), n >= 0 else {
            throw ReproError(.invalidInput, "--older-than '\(text)': expected an age such as 30d, 12h, 90m or 0s")
        }
        return n * mult
    }
}
