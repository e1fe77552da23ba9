import Core

/// Checks `repro lock` makes once the toolchain is resolved, so that a recipe fails at
/// lock time with what to add instead of at an internal line of the build script.
public enum LockChecks {
    /// `patches = true` runs patch(1) inside the sandbox: the toolchain must have it.
    /// - Parameter packages: the names of the locked toolchain packages, or nil for the
    ///   host toolchain (then `hostHasPatch` decides).
    /// - Throws: `ReproError(.invalidInput)` naming the input's line and the fix.
    public static func patchTool(_ recipe: Recipe, packages: [String]?, hostHasPatch: Bool) throws {
        guard let input = recipe.inputs.first(where: \.patches) else { return }
        if let packages {
            guard !packages.contains("patch") else { return }
            throw ReproError(.invalidInput, "\(recipe.file):\(input.line): input '\(input.name)' has patches = true, which runs patch(1) in the build, but the toolchain does not have it; add \"patch\" to [toolchain] packages")
        }
        guard hostHasPatch else {
            throw ReproError(.invalidInput, "\(recipe.file):\(input.line): input '\(input.name)' has patches = true, which runs patch(1) in the build, but this host has no /usr/bin/patch; install it (apt-get install patch)")
        }
    }
}
