// swift-tools-version:6.0
// repro: reproducible builds and test runs in a Linux namespace + seccomp sandbox.
// Layout: ../shared/DESIGN.md. One module per part; system libraries as systemLibrary
// targets; the launcher `repro-sandbox` is C (no Swift between fork and exec).
import PackageDescription

let package = Package(
    name: "repro",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "repro", targets: ["repro"]),
        .executable(name: "repro-sandbox", targets: ["repro-sandbox"]),
        .executable(name: "repro-remote", targets: ["repro-remote"]),
        .library(name: "ReproKit", targets: ["Core", "Faults", "Results", "Sandbox", "Rank", "Store", "Recipe", "Fetch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // XML/HTML DSL for the SVG plot of `repro rank eval --plot` (no string concatenation).
        .package(url: "https://github.com/JohnSundell/Plot", exact: "0.14.0"),
        // REAPI v2 / Bots API over gRPC (Remote targets only; never on `repro run`'s path).
        .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // System libraries (pkg-config names; apt packages CI installs).
        .systemLibrary(name: "CSeccomp", path: "Sources/CSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),

        // The launcher: plain C, usable on its own like bwrap.
        .executableTarget(
            name: "repro-sandbox",
            path: "sandbox",
            exclude: ["README.md", "POLICY.md", "Makefile", "build", "src/default_filter.inc", "testexec"],
            sources: ["src"],
            // The same flags as sandbox/Makefile's WARN (SandboxTests check it); the tests
            // run the Makefile's binary, the one scripts/setup installs (REPRO_SANDBOX).
            cSettings: [.unsafeFlags(["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-format-truncation"])],
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("pthread")]
        ),

        // Errors, exit codes, canonical JSON, the one syscall wrapper, digests (libcrypto).
        .target(name: "Core", dependencies: ["CCrypto", "CLinux"]),
        // Linux calls Swift's Glibc module leaves out (_GNU_SOURCE): syncfs.
        .target(name: "CLinux"),
        // Content-addressed store, action cache, SQLite index, locking, gc, export/import.
        .target(name: "Store", dependencies: [
            "Core", "CArchive", "CLinux", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // TOML recipes and lock files, validated with line-numbered errors.
        .target(name: "Recipe", dependencies: ["Core"]),
        // Pinned inputs: Debian packages through a private apt state, local files, git;
        // safe archive extraction and toolchain roots.
        .target(name: "Fetch", dependencies: ["Core", "Recipe", "Store", "CArchive"]),
        // SLSA provenance, DSSE signing and verification (libcrypto), keys, SBOM.
        .target(name: "Attest", dependencies: ["Core", "CCrypto", "Store"]),
        // The path of one build: lock, fetch, assemble, action cache, sandbox, outputs.
        .target(name: "Build", dependencies: ["Core", "Recipe", "Fetch", "Store", "Sandbox", "Attest", "CArchive"]),
        // Deep comparison of trees, manifests, archives (by member), ELF sections, text
        // and numbers.
        .target(name: "Diff", dependencies: ["Core", "Store", "CArchive"]),
        // Reproducibility proof: rebuilds with variations, culprit finding, bundles.
        .target(name: "Verify", dependencies: ["Core", "Recipe", "Store", "Fetch", "Build", "Diff", "Attest"]),
        // Swift description of a sandbox, the launcher call, host checks.
        .target(name: "Sandbox", dependencies: ["Core", "Faults", "CSeccomp"]),
        // The fault spec language and its seeded decisions (the launcher's supervisor
        // applies them). Pure Swift.
        .target(name: "Faults", dependencies: ["Core"]),
        // The [test] step: adapters (pytest plugin, ctest, JUnit), ordered runs in the
        // sandbox, flaky reruns, per-test telemetry (GRDB), signed test results.
        .target(name: "TestRun", dependencies: [
            "Core", "Recipe", "Store", "Fetch", "Sandbox", "Build", "Attest", "Rank", "Faults", "Results",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Named numeric results of runs ($REPRO_RESULTS JSON lines, pytest-benchmark
        // JSON), their history per recipe (GRDB) and the check against a baseline.
        .target(name: "Results", dependencies: ["Core", .product(name: "GRDB", package: "GRDB.swift")]),
        // Test ordering: history, features, model, metrics. Pure Swift.
        .target(name: "Rank", dependencies: ["Core"]),
        // Where the remote is (flags, $REPRO_REMOTE, config.toml) and what it did: no gRPC,
        // so that `repro` itself never links it.
        .target(name: "RemoteSettings", dependencies: ["Core", "Recipe"]),
        // Generated REAPI v2, Bots, ByteStream, Operations messages and gRPC stubs
        // (scripts/gen-remote-api regenerates them; never edited by hand).
        .target(name: "RemoteAPI", dependencies: [
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        ]),
        // REAPI v2 client (CAS, ByteStream, action cache, execution), remote cache,
        // push/pull and the Bots API worker.
        .target(name: "Remote", dependencies: [
            "Core", "Store", "Recipe", "Build", "Attest", "Sandbox", "RemoteAPI", "RemoteSettings",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // The CLI, one file per subcommand.
        .executableTarget(name: "repro", dependencies: [
            "Core", "Sandbox", "Rank", "Store", "Recipe", "Fetch", "Build", "Attest", "Verify", "Diff", "TestRun", "Faults", "Results",
            "RemoteSettings",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Plot", package: "Plot"),
        ]),
        // bench/rank.sh's timings of ranking and training; not shipped (scripts/setup
        // builds the repro product only).
        .executableTarget(name: "rank-bench", dependencies: [
            "Rank", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "bench/RankBench"),

        // The gRPC half of the CLI: `repro` runs it for build --remote, store push/pull
        // and worker (docs/remote.md), so gRPC never loads on `repro run`'s path.
        .executableTarget(name: "repro-remote", dependencies: [
            "Core", "Store", "Recipe", "Build", "Attest", "Sandbox", "Remote", "RemoteSettings",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // What every test target uses to run the built binaries (not a test suite).
        .target(name: "TestKit", path: "Tests/TestKit"),
        .testTarget(name: "CoreTests", dependencies: ["TestKit", "Core"]),
        .testTarget(name: "SandboxTests", dependencies: ["TestKit", "Sandbox", "Core", "Faults"], exclude: ["Probes"]),
        .testTarget(name: "FaultsTests", dependencies: ["TestKit", "Faults", "Sandbox", "Core"], exclude: ["Fixtures"]),
        .testTarget(name: "ResultsTests", dependencies: ["TestKit", "Results", "Core"]),
        .testTarget(name: "RankTests", dependencies: ["TestKit", "Rank", "Core"], exclude: ["Fixtures"]),
        .testTarget(name: "StoreTests", dependencies: ["TestKit", "Store", "Core", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "RecipeTests", dependencies: ["TestKit", "Recipe", "Core"]),
        .testTarget(name: "AttestTests", dependencies: ["TestKit", "Attest", "Core"], exclude: ["conformance.py"]),
        .testTarget(name: "BuildTests", dependencies: ["TestKit", "Build", "Attest", "Recipe", "Store", "Core"]),
        .testTarget(name: "VerifyTests", dependencies: ["TestKit", "Verify", "Build", "Core"], exclude: ["Fixtures"]),
        .testTarget(name: "TestRunTests", dependencies: ["TestKit", "TestRun", "Recipe", "Store", "Core"]),
        .testTarget(name: "CLITests", dependencies: ["TestKit", "Core"]),
        .testTarget(name: "DiffTests", dependencies: ["TestKit", "Diff", "TestRun", "Store", "Core"]),
        // Needs the services of scripts/services (PostgreSQL, BuildGrid, repro worker).
        .testTarget(name: "RemoteTests", dependencies: ["TestKit", "Core"], exclude: ["Fixtures"]),
        .testTarget(name: "FetchTests", dependencies: ["TestKit", "Fetch", "Recipe", "Store", "Core", "CArchive"]),
    ]
)
