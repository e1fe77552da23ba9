import Foundation
import Plot
import Rank

/// The SVG of `repro rank eval --plot`: per strategy, the mean cumulative share of the
/// failing tests found (y) against the share of the run's test time spent (x), built
/// with Plot's XML DSL so that every attribute and text is escaped by the library.
enum EvalPlot {
    /// The strategies drawn, with their colours and dash patterns.
    static let drawn: [(strategy: String, color: String, dash: String?)] = [
        ("original", "#888888", "4 3"),
        ("decayed", "#b07aa1", "2 2"),
        ("changed-modules-per-second", "#f28e2b", nil),
        ("model-per-second", "#4e79a7", nil),
        ("optimal", "#59a14f", "6 3"),
    ]

    static let width = 640.0, height = 440.0
    static let left = 60.0, right = 200.0, top = 40.0, bottom = 50.0

    static func svg(_ curves: [Curve], title: String) -> String {
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ v: Double) -> String { String(format: "%.2f", left + v * plotW) }
        func y(_ v: Double) -> String { String(format: "%.2f", top + (1 - v) * plotH) }
        var nodes: [Node<XML.DocumentContext>] = [
            .attribute(named: "xmlns", value: "http://www.w3.org/2000/svg"),
            .attribute(named: "width", value: "\(Int(width))"),
            .attribute(named: "height", value: "\(Int(height))"),
            .attribute(named: "viewBox", value: "0 0 \(Int(width)) \(Int(height))"),
            .attribute(named: "font-family", value: "sans-serif"),
            .attribute(named: "font-size", value: "12"),
            .element(named: "title", text: "Failures found vs test time: \(title)"),
            .element(named: "rect", attributes: [
                .attribute(named: "width", value: "100%"), .attribute(named: "height", value: "100%"),
                .attribute(named: "fill", value: "white"),
            ]),
            text("Mean share of failing tests found vs share of test time — \(title)", x: left, y: 22, size: 13),
        ]
        for tick in stride(from: 0.0, through: 1.0001, by: 0.2) {
            let label = "\(Int((tick * 100).rounded()))%"
            nodes.append(line(x1: x(tick), y1: y(0), x2: x(tick), y2: y(1), color: "#e5e5e5"))
            nodes.append(line(x1: x(0), y1: y(tick), x2: x(1), y2: y(tick), color: "#e5e5e5"))
            nodes.append(text(label, x: Double(x(tick))! - 10, y: Double(y(0))! + 16))
            nodes.append(text(label, x: left - 38, y: Double(y(tick))! + 4))
        }
        nodes.append(line(x1: x(0), y1: y(0), x2: x(1), y2: y(0), color: "#333333"))
        nodes.append(line(x1: x(0), y1: y(0), x2: x(0), y2: y(1), color: "#333333"))
        nodes.append(text("share of test time", x: left + plotW / 2 - 50, y: height - 12))
        nodes.append(text("share of failures found", x: 14, y: top + plotH / 2 + 60, rotate: true))
        var legendY = top + 10
        for (strategy, color, dash) in drawn {
            guard let curve = curves.first(where: { $0.strategy == strategy }) else { continue }
            let points = curve.found.enumerated().map { i, v in
                "\(x(Double(i) / Double(curve.found.count - 1))),\(y(v))"
            }.joined(separator: " ")
            var attributes: [Attribute<XML.DocumentContext>] = [
                .attribute(named: "class", value: "curve"),
                .attribute(named: "data-strategy", value: strategy),
                .attribute(named: "points", value: points),
                .attribute(named: "fill", value: "none"),
                .attribute(named: "stroke", value: color),
                .attribute(named: "stroke-width", value: "2"),
            ]
            if let dash { attributes.append(.attribute(named: "stroke-dasharray", value: dash)) }
            nodes.append(.element(named: "polyline", attributes: attributes))
            let lx = width - right + 12
            nodes.append(line(x1: String(lx), y1: String(legendY), x2: String(lx + 24), y2: String(legendY), color: color, dash: dash, width: "2"))
            nodes.append(text(legendTitle(curve), x: lx + 30, y: legendY + 4, size: 11))
            legendY += 20
        }
        return XML(.element(named: "svg", nodes: nodes)).render(indentedBy: .spaces(1))
    }

    static func legendTitle(_ curve: Curve) -> String {
        switch curve.strategy {
        case "original": "original order"
        case "decayed": "best history heuristic"
        case "changed-modules-per-second": "name match / second"
        case "model-per-second": "model / second"
        case "optimal": "optimal"
        default: curve.title
        }
    }

    static func line(x1: String, y1: String, x2: String, y2: String, color: String,
                     dash: String? = nil, width: String = "1") -> Node<XML.DocumentContext> {
        var a: [Attribute<XML.DocumentContext>] = [
            .attribute(named: "x1", value: x1), .attribute(named: "y1", value: y1),
            .attribute(named: "x2", value: x2), .attribute(named: "y2", value: y2),
            .attribute(named: "stroke", value: color), .attribute(named: "stroke-width", value: width),
        ]
        if let dash { a.append(.attribute(named: "stroke-dasharray", value: dash)) }
        return .element(named: "line", attributes: a)
    }

    static func text(_ s: String, x: Double, y: Double, size: Int = 11, rotate: Bool = false) -> Node<XML.DocumentContext> {
        var nodes: [Node<XML.DocumentContext>] = [
            .attribute(named: "x", value: String(format: "%.1f", x)),
            .attribute(named: "y", value: String(format: "%.1f", y)),
            .attribute(named: "font-size", value: "\(size)"),
        ]
        if rotate { nodes.append(.attribute(named: "transform", value: String(format: "rotate(-90 %.1f %.1f)", x, y))) }
        nodes.append(.text(s))
        return .element(named: "text", nodes: nodes)
    }
}
