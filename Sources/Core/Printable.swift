/// Text for a person's terminal: names from a tree (file names, link targets) may hold
/// any byte but '/' and NUL, so a name with a newline could print a fake report line and
/// one with ESC could drive the terminal. `--json` output keeps names exact; every
/// human-readable line goes through `Printable.escape`.
public enum Printable {
    /// `text` with control characters (C0, DEL, C1), line and paragraph separators and
    /// bidirectional overrides written as escapes (`\n`, `\t`, `\x1b`, `\u{202e}`), and
    /// the backslash doubled so that an escape in the output is never ambiguous.
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        for s in text.unicodeScalars {
            switch s {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where needsEscape(s):
                out += s.value < 0x100 ? "\\x" + hex(s.value, 2) : "\\u{" + hex(s.value, 4) + "}"
            default: out.unicodeScalars.append(s)
            }
        }
        return out
    }

    static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0x5C
            || v == 0x2028 || v == 0x2029 || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }

    private static func hex(_ v: UInt32, _ width: Int) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - h.count)) + h
    }
}
