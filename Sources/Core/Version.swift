/// repro's version: in `repro --version`, in every provenance statement's builder
/// version and every SBOM's creator.
public enum ReproInfo {
    public static let version = "0.1.0"
}
