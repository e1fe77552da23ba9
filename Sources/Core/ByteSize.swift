/// The one size grammar of repro: recipes (`[limits] memory = "2GiB"`), the CLI
/// (`--memory 2GiB`) and the launcher (`repro-sandbox --memory 2GiB`, in C, held to the
/// same table of cases by SandboxTests) all read sizes this way.
///
/// A size is a non-negative integer count of bytes, optionally followed (spaces allowed
/// around it) by a binary unit: `B`; `K`, `k`, `KiB` (1024); `M`, `m`, `MiB`; `G`, `g`,
/// `GiB`; `T`, `t`, `TiB`. No fractions, no signs, no decimal units (`KB`, `MB`): they
/// would be ambiguous. Too large for 63 bits is not a size.
public enum ByteSize {
    /// What to write, for error messages.
    public static let grammar = "a whole number of bytes with an optional binary unit: 1048576, 512K, 512M, 2G, 2GiB, 1T"

    /// Bytes, or nil when `text` is not a size.
    public static func parse(_ text: String) -> Int64? {
        var s = Substring(text)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = Int64(digits) else { return nil }
        var unit = s.dropFirst(digits.count)
        while unit.first == " " { unit.removeFirst() }
        let shift: Int64
        switch unit {
        case "", "B": shift = 0
        case "K", "k", "KiB": shift = 10
        case "M", "m", "MiB": shift = 20
        case "G", "g", "GiB": shift = 30
        case "T", "t", "TiB": shift = 40
        default: return nil
        }
        let (v, overflow) = n.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? nil : v
    }
}
