import Core

/// Turns a parsed TOML table into a validated `Recipe`. Every error names the file, the
/// line and column, what is wrong and what to write instead.
struct RecipeDecoder {
    let file: String

    static let topKeys = ["name", "version", "toolchain", "inputs", "build", "limits", "outputs", "test"]
    static let topTables: Set<String> = ["toolchain", "inputs", "build", "limits", "outputs", "test"]
    static let toolchainKeys = ["debian", "packages", "architecture", "host"]
    static let inputSources = ["debian-source", "debian-package", "path", "git"]
    static let inputKeys = inputSources + ["commit", "sha256", "unpack", "strip-components", "patches"]
    static let buildKeys = ["script", "env", "jobs", "user", "source-date-epoch"]
    static let limitKeys = ["memory", "pids", "cpus", "cpu-time", "timeout", "output-size", "build-size", "log-size"]
    static let outputKeys = ["archive", "name"]
    /// PID_MAX_LIMIT on 64-bit Linux: no pids limit can be larger.
    static let maxPids: Int64 = 4_194_304
    /// 9999-12-31T23:59:59Z: the latest SOURCE_DATE_EPOCH (tar's and the file system's
    /// times hold it).
    static let maxEpoch: Int64 = 253_402_300_799
    /// A year, in seconds: the longest timeout or cpu-time a recipe may ask for.
    static let maxDuration: Int64 = 365 * 86400

    func recipe(from table: TOMLTable, directory: String) throws -> Recipe {
        let top = RecipeSection(file: file, table: table, header: "", position: TOMLPosition(line: 1, column: 1))
        try top.checkKeys(Self.topKeys, tables: Self.topTables)

        let nameValue = try top.require("name", hint: "name = \"hello\" at the top of the recipe")
        guard let name = nameValue.string else { throw top.typeError("name", nameValue, "a string", example: "name = \"hello\"") }
        guard RecipeSyntax.isName(name) else {
            throw top.error(nameValue.position, "name '\(name)' is not valid; use letters, digits, '.', '_', '+' and '-', starting with a letter or digit (at most 64)")
        }
        let version = try top.string("version", example: "version = \"2.10\"")
        if let version, !RecipeSyntax.isVersion(version) {
            throw top.error(top.value("version")!.position, "version '\(version)' is not valid; use letters, digits and . _ + ~ : - (no spaces or slashes)")
        }

        guard let toolchainSection = try top.subtable("toolchain", header: "[toolchain]") else {
            throw top.error(top.position, "the recipe has no [toolchain]; add [toolchain] with debian = \"bookworm\" and packages = [...], or host = true")
        }
        let toolchain = try self.toolchain(toolchainSection)

        var inputs: [Recipe.Input] = []
        if let inputsSection = try top.subtable("inputs", header: "[inputs]") {
            for entry in inputsSection.table.entries {
                inputs.append(try input(entry, in: inputsSection))
            }
        }
        inputs.sort { $0.name < $1.name }

        guard let buildSection = try top.subtable("build", header: "[build]") else {
            throw top.error(top.position, "the recipe has no [build]; add [build] with script = \"\"\"...\"\"\"")
        }
        let build = try self.build(buildSection, inputs: inputs)
        let limits = try top.subtable("limits", header: "[limits]").map(self.limits) ?? Recipe.Limits()
        let outputs = try top.subtable("outputs", header: "[outputs]").map(self.outputs)
            ?? Recipe.Outputs(archive: nil, archiveName: nil)
        let test = try top.subtable("test", header: "[test]").map { try self.test($0, toolchain: toolchain) }

        return Recipe(file: file, directory: directory, name: name, version: version, toolchain: toolchain,
                      inputs: inputs, build: build, limits: limits, outputs: outputs, test: test)
    }

    // MARK: [toolchain]

    private func toolchain(_ s: RecipeSection) throws -> Recipe.Toolchain {
        try s.checkKeys(Self.toolchainKeys)
        let host = try s.bool("host")
        let suite = try s.string("debian", example: "debian = \"bookworm\"")
        if host == true {
            for key in ["debian", "packages", "architecture"] {
                if let v = s.value(key) {
                    throw s.error(v.position, "\(s.describe(key)) cannot be combined with host = true; a host toolchain is the host's /usr, remove '\(key)' or host")
                }
            }
            return .host
        }
        guard let suite else {
            if let v = s.value("host") {
                throw s.error(v.position, "[toolchain] has host = false but no debian suite; add debian = \"bookworm\" or set host = true")
            }
            throw s.error(s.position, "[toolchain] needs debian = \"SUITE\" (with packages = [...]) or host = true")
        }
        guard RecipeSyntax.isSuite(suite) else {
            throw s.error(s.value("debian")!.position, "debian suite '\(suite)' is not valid; write a suite name such as \"bookworm\"")
        }
        var packages: [String] = []
        var seen: [String: Int] = [:]
        for (p, v) in try s.stringArray("packages", example: "packages = [\"gcc\", \"make\"]") ?? [] {
            guard RecipeSyntax.isDebianPackage(p) else {
                throw s.error(v.position, "'\(p)' is not a Debian package name; names use a-z 0-9 + - . (versions come from the lock file)")
            }
            if let first = seen[p] {
                throw s.error(v.position, "package '\(p)' is listed twice in [toolchain] packages (first at line \(first)); remove one")
            }
            seen[p] = v.line
            packages.append(p)
        }
        let arch = try s.string("architecture", example: "architecture = \"amd64\"")
        if let arch, !RecipeSyntax.isArchitecture(arch) {
            throw s.error(s.value("architecture")!.position, "architecture '\(arch)' is not a Debian architecture name such as \"amd64\" or \"arm64\"")
        }
        return .debian(suite: suite, packages: packages.sorted(), architecture: arch)
    }

    // MARK: [inputs.NAME]

    private func input(_ entry: TOMLTable.Entry, in inputs: RecipeSection) throws -> Recipe.Input {
        let name = entry.key
        guard let table = entry.value.table else {
            throw inputs.error(entry.keyPosition, "input '\(name)' must be a table; write [inputs.\(name)] with one of \(Self.inputSources.joined(separator: ", "))")
        }
        guard RecipeSyntax.isInputName(name) else {
            throw inputs.error(entry.keyPosition, "input name '\(name)' is not usable as a directory name; use letters, digits, '_', '-' and '.', not starting with '.' or '-' (at most 64)")
        }
        let s = RecipeSection(file: file, table: table, header: "[inputs.\(name)]", position: entry.value.position)
        try s.checkKeys(Self.inputKeys)

        let given = Self.inputSources.filter { s.value($0) != nil }
        guard let kind = given.first else {
            throw s.error(s.position, "[inputs.\(name)] needs one source: debian-source = \"pkg=version\", debian-package = \"pkg=version\", path = \"relative/path\" or git = \"path\" with commit")
        }
        if given.count > 1 {
            throw s.error(s.value(given[1])!.position, "[inputs.\(name)] has both '\(given[0])' and '\(given[1])'; an input has exactly one source")
        }
        let raw = try s.string(kind, example: kind.hasPrefix("debian") ? "\(kind) = \"pkg=version\"" : "\(kind) = \"relative/path\"")!
        let pos = s.value(kind)!.position

        let source: Recipe.Input.Source
        switch kind {
        case "debian-source", "debian-package":
            guard let (package, version) = RecipeSyntax.debianSpec(raw) else {
                throw s.error(pos, "\(s.describe(kind)) must be \"package=version\" (for example \"hello=2.10-3\"), not \"\(raw)\"")
            }
            source = kind == "debian-source" ? .debianSource(package: package, version: version)
                                             : .debianPackage(package: package, version: version)
        default:
            guard let path = RecipeSyntax.normalizedRelativePath(raw) else {
                let why = raw.hasPrefix("/") ? "is absolute" : raw.isEmpty ? "is empty" : "leaves the recipe's directory"
                throw s.error(pos, "\(s.describe(kind)) \"\(raw)\" \(why); inputs must be paths inside the recipe's directory")
            }
            if kind == "git" {
                guard let commitValue = s.value("commit") else {
                    throw s.error(s.position, "[inputs.\(name)] has git but no commit; add commit = \"<40 hex digits>\" (a full commit id)")
                }
                guard let commit = commitValue.string else {
                    throw s.typeError("commit", commitValue, "a string", example: "commit = \"<40 hex digits>\"")
                }
                guard RecipeSyntax.isCommit(commit) else {
                    throw s.error(commitValue.position, "commit '\(commit)' is not a full commit id; write all 40 (or 64) lowercase hex digits, not a branch or short id")
                }
                source = .git(path: path, commit: commit)
            } else {
                source = .path(path)
            }
        }
        if kind != "git", let v = s.value("commit") {
            throw s.error(v.position, "'commit' in [inputs.\(name)] only applies to git inputs; remove it")
        }

        var pin: Digest?
        if let text = try s.string("sha256", example: "sha256 = \"<64 hex digits>\"") {
            let v = s.value("sha256")!
            if kind == "git" {
                throw s.error(v.position, "a git input is pinned by its commit; remove sha256 from [inputs.\(name)]")
            }
            guard let d = try? Digest.parse(text) else {
                throw s.error(v.position, "sha256 '\(text)' is not a digest; write 64 lowercase hex digits (optionally prefixed sha256:)")
            }
            pin = d
        }

        let unpack = try s.bool("unpack") ?? false
        if kind == "git", let v = s.value("unpack") {
            throw s.error(v.position, "a git input is always checked out as a tree; remove unpack from [inputs.\(name)]")
        }
        let strip = try s.integer("strip-components", min: 0, example: "strip-components = 1") ?? 0
        if strip > 0, !unpack {
            throw s.error(s.value("strip-components")!.position, "strip-components applies when unpacking; add unpack = true to [inputs.\(name)] or remove it")
        }
        if strip > 0, kind == "debian-source" {
            throw s.error(s.value("strip-components")!.position, "strip-components does not apply to debian-source inputs: they unpack like dpkg-source -x, top directory already removed; remove it")
        }
        if strip > 64 { throw s.error(s.value("strip-components")!.position, "strip-components \(strip) is too large (at most 64)") }
        let patches = try s.bool("patches") ?? false
        if patches {
            let v = s.value("patches")!
            guard kind == "debian-source" else {
                throw s.error(v.position, "patches = true applies Debian patches and only works with debian-source inputs; remove it")
            }
            guard unpack else {
                throw s.error(v.position, "patches = true needs the source unpacked; add unpack = true to [inputs.\(name)]")
            }
        }
        return Recipe.Input(name: name, source: source, sha256: pin, unpack: unpack, stripComponents: Int(strip),
                            patches: patches, line: entry.value.line)
    }

    // MARK: [build]

    private func build(_ s: RecipeSection, inputs: [Recipe.Input]) throws -> Recipe.Build {
        try s.checkKeys(Self.buildKeys)
        let scriptValue = try s.require("script", hint: "script = \"\"\"\n...commands...\n\"\"\"")
        guard let script = scriptValue.string else {
            throw s.typeError("script", scriptValue, "a string", example: "script = \"\"\"...\"\"\" (a multi-line string)")
        }
        if let nul = script.utf8.firstIndex(of: 0) {
            let line = 1 + script.utf8[..<nul].filter { $0 == 0x0A }.count
            throw s.error(scriptValue.position, "'script' in [build] contains a NUL character (\\u0000) on its line \(line); a shell stops reading there and would silently run less; remove it")
        }
        if script.allSatisfy(\.isWhitespace) {
            throw s.error(scriptValue.position, "'script' in [build] is empty; write the commands that build into $REPRO_OUT")
        }
        var env: [String: String] = [:]
        if let envSection = try s.subtable("env", header: "[build.env]") {
            for e in envSection.table.entries {
                guard RecipeSyntax.isEnvName(e.key) else {
                    throw s.error(e.keyPosition, "environment variable name '\(e.key)' in [build.env] is not valid; use A-Z a-z 0-9 _, not starting with a digit")
                }
                if e.key == "SOURCE_DATE_EPOCH" || e.key.hasPrefix("REPRO_") {
                    throw s.error(e.keyPosition, "\(e.key) is set by repro; use [build] source-date-epoch or jobs instead of [build.env]")
                }
                guard let v = e.value.string else {
                    throw s.error(e.value.position, "'\(e.key)' in [build.env] must be a string, not a \(e.value.typeName); write \(e.key) = \"value\"")
                }
                env[e.key] = v
            }
        }
        let jobs = try s.integer("jobs", min: 1, example: "jobs = 4").map(Int.init)
        if let jobs, jobs > 1024 { throw s.error(s.value("jobs")!.position, "jobs = \(jobs) is too many (at most 1024)") }
        var user = Recipe.User.builder
        if let u = try s.string("user", example: "user = \"builder\"") {
            guard let parsed = Recipe.User(rawValue: u) else {
                throw s.error(s.value("user")!.position, "'user' in [build] must be \"builder\" (uid 1000) or \"root\" (uid 0), not \"\(u)\"")
            }
            user = parsed
        }
        var epoch = Recipe.SourceDateEpoch.seconds(0)
        if let v = s.value("source-date-epoch") {
            if let i = v.integer {
                guard i >= 0 else { throw s.error(v.position, "source-date-epoch must be 0 or more seconds since 1970, not \(i)") }
                guard i <= Self.maxEpoch else {
                    throw s.error(v.position, "source-date-epoch \(i) is after the year 9999 (at most \(Self.maxEpoch)); archives and file times cannot hold it")
                }
                epoch = .seconds(i)
            } else if let text = v.string {
                guard text.hasPrefix("from:") else {
                    throw s.error(v.position, "source-date-epoch must be an integer or \"from:INPUT\", not \"\(text)\"")
                }
                let from = String(text.dropFirst(5))
                guard inputs.contains(where: { $0.name == from }) else {
                    let names = inputs.map(\.name)
                    let hint = nearest(from, in: names).map { "did you mean \"from:\($0)\"? " } ?? ""
                    throw s.error(v.position, "source-date-epoch names input '\(from)', which the recipe does not have; \(hint)inputs: \(names.isEmpty ? "none" : names.joined(separator: ", "))")
                }
                epoch = .fromInput(from)
            } else {
                throw s.typeError("source-date-epoch", v, "an integer or \"from:INPUT\"", example: "source-date-epoch = 1700000000")
            }
        }
        return Recipe.Build(script: script, env: env, jobs: jobs, user: user, sourceDateEpoch: epoch)
    }

    // MARK: [limits] and [outputs]

    func limits(_ s: RecipeSection) throws -> Recipe.Limits {
        try s.checkKeys(Self.limitKeys)
        var l = Recipe.Limits()
        l.memory = try size(s, "memory")
        l.outputSize = try size(s, "output-size")
        l.logSize = try size(s, "log-size")
        l.buildSize = try size(s, "build-size")
        if let n = l.logSize, n < 4096 {
            throw s.error(s.value("log-size")!.position, "'log-size' in [limits] is \(n) bytes; keep at least 4K of the log (for example \"16M\")")
        }
        l.pids = try s.integer("pids", min: 1, example: "pids = 1024").map(Int.init)
        if let n = l.pids, n > Self.maxPids {
            throw s.error(s.value("pids")!.position, "'pids' in [limits] is \(n), more than Linux allows (at most \(Self.maxPids)); write a number such as 1024")
        }
        l.timeout = try duration(s, "timeout")
        l.cpuTime = try duration(s, "cpu-time")
        if let v = s.value("cpus") {
            let d: Double
            if let i = v.integer { d = Double(i) } else if let f = v.float { d = f } else {
                throw s.typeError("cpus", v, "a number", example: "cpus = 2")
            }
            guard d.isFinite, d > 0 else {
                throw s.error(v.position, "'cpus' in [limits] must be a number of CPUs above 0 (for example 2 or 0.5)")
            }
            guard d >= 0.01 else {
                throw s.error(v.position, "'cpus' in [limits] is \(d), below the smallest quota the kernel takes (0.01 CPUs: 1 ms per 100 ms); write at least 0.01")
            }
            guard d <= 4096 else {
                throw s.error(v.position, "'cpus' in [limits] is \(d), more CPUs than any host has (at most 4096); write the number of CPUs the build may use, such as 2")
            }
            l.cpus = d
        }
        return l
    }

    private func size(_ s: RecipeSection, _ key: String) throws -> Int64? {
        guard let v = s.value(key) else { return nil }
        let n: Int64?
        if let i = v.integer { n = i } else if let t = v.string { n = RecipeSyntax.size(t) } else {
            throw s.typeError(key, v, "a size", example: "\(key) = \"2G\"")
        }
        guard let n, n > 0 else {
            throw s.error(v.position, "\(s.describe(key)) is not a size; write bytes as an integer or a string with a binary suffix: \"512M\", \"2G\", \"1GiB\"")
        }
        return n
    }

    func durationValue(_ s: RecipeSection, _ key: String) throws -> Int? { try duration(s, key) }

    private func duration(_ s: RecipeSection, _ key: String) throws -> Int? {
        guard let v = s.value(key) else { return nil }
        let n: Int64?
        if let i = v.integer { n = i } else if let t = v.string { n = RecipeSyntax.duration(t) } else {
            throw s.typeError(key, v, "a duration", example: "\(key) = \"30m\"")
        }
        guard let n, n > 0 else {
            throw s.error(v.position, "\(s.describe(key)) is not a duration; write seconds as an integer or a string such as \"90s\", \"30m\", \"2h\", \"1h30m\"")
        }
        guard n <= Self.maxDuration else {
            throw s.error(v.position, "\(s.describe(key)) is \(n) seconds, too long (at most \(Self.maxDuration), a year); write a duration such as \"6h\"")
        }
        return Int(n)
    }

    private func outputs(_ s: RecipeSection) throws -> Recipe.Outputs {
        try s.checkKeys(Self.outputKeys)
        var archive: Recipe.ArchiveFormat?
        if let a = try s.string("archive", example: "archive = \"tar.gz\"") {
            guard let f = Recipe.ArchiveFormat(rawValue: a) else {
                throw s.error(s.value("archive")!.position, "'archive' in [outputs] must be \"tar\", \"tar.gz\" or \"tar.xz\", not \"\(a)\"")
            }
            archive = f
        }
        let name = try s.string("name", example: "name = \"hello.tar.gz\"")
        if let name {
            let v = s.value("name")!
            guard archive != nil else {
                throw s.error(v.position, "'name' in [outputs] names the archive; add archive = \"tar.gz\" (or tar, tar.xz)")
            }
            guard RecipeSyntax.isFileName(name) else {
                throw s.error(v.position, "archive name '\(name)' must be a plain file name (no '/', not '.' or '..')")
            }
        }
        return Recipe.Outputs(archive: archive, archiveName: name)
    }
}
