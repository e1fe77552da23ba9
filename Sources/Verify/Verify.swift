import Core

/// The Verify module: rebuilds with variations and culprit finding (`repro verify`),
/// deep diffs of trees, manifests, archives and bundles (`repro diff`), and bundles
/// that carry a build between hosts (`repro bundle`).
public enum VerifyModule {
    public static let name = "Verify"
}
