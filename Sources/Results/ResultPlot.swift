import Foundation

/// A result's history as an SVG line chart: one point per run (x: run order), the value
/// on y with its range, regressed and failed runs marked. Hand-written: none of the
/// Swift packages this project may use draws charts, and the SVG needed is ~40 elements.
public enum ResultPlot {
    public static func svg(recipe: String, name: String, points: [ResultStore.Point]) -> String {
        let w = 720.0, h = 360.0, left = 90.0, right = 20.0, top = 40.0, bottom = 50.0
        let finite = points.map(\.value).filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if lo == hi { lo -= max(abs(lo) * 1e-9, 1e-12); hi += max(abs(hi) * 1e-9, 1e-12) }
        let n = points.count
        func x(_ i: Int) -> Double { n <= 1 ? left + (w - left - right) / 2 : left + Double(i) * (w - left - right) / Double(n - 1) }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * (h - top - bottom) }
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        func num(_ v: Double) -> String { String(format: "%.10g", v) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let unit = points.last?.unit.map { " (\($0))" } ?? ""
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="sans-serif" font-size="12">
            <title>\(esc(recipe)): \(esc(name))</title>
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(left))" y="22" font-size="14">\(esc(recipe)): \(esc(name))\(esc(unit))</text>
            <line x1="\(f(left))" y1="\(f(top))" x2="\(f(left))" y2="\(f(h - bottom))" stroke="black"/>
            <line x1="\(f(left))" y1="\(f(h - bottom))" x2="\(f(w - right))" y2="\(f(h - bottom))" stroke="black"/>
            <text x="\(f(left - 6))" y="\(f(top + 4))" text-anchor="end">\(num(hi))</text>
            <text x="\(f(left - 6))" y="\(f(h - bottom + 4))" text-anchor="end">\(num(lo))</text>
            <text x="\(f((left + w - right) / 2))" y="\(f(h - 12))" text-anchor="middle">run</text>

            """
        let line = points.enumerated().filter { $0.element.value.isFinite }.map { "\(f(x($0.offset))),\(f(y($0.element.value)))" }
        if line.count > 1 { s += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(line.joined(separator: " "))\"/>\n" }
        for (i, p) in points.enumerated() {
            let color = p.status == .passed ? "#1f77b4" : (p.status == .regressed ? "#d62728" : "#7f7f7f")
            let py = p.value.isFinite ? y(p.value) : top
            s += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(py))\" r=\"4\" fill=\"\(color)\"><title>run #\(p.run)\(p.label.map { " " + esc($0) } ?? ""): \(num(p.value)) (\(p.status.rawValue))</title></circle>\n"
            s += "<text x=\"\(f(x(i)))\" y=\"\(f(h - bottom + 16))\" text-anchor=\"middle\">#\(p.run)</text>\n"
        }
        return s + "</svg>\n"
    }
}
