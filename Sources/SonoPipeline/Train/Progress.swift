import Foundation

/// A one-line progress bar on standard error with rate, ETA and the latest figures. Redrawn at most ten
/// times a second; a plain line per update when standard error is not a terminal (CI logs).
public final class ProgressBar {
    let total: Int
    let label: String
    let start = Date()
    var lastDraw = Date.distantPast
    let interactive = isatty(2) != 0

    public init(total: Int, label: String) {
        self.total = max(total, 1)
        self.label = label
    }

    public func update(_ done: Int, _ figures: String) {
        let now = Date()
        guard interactive ? (now.timeIntervalSince(lastDraw) > 0.1 || done == total) : done == total else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let width = 24, filled = width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\(label) \(bar) \(done)/\(total) \(format(elapsed)) eta \(format(eta)) \(figures)"
        FileHandle.standardError.write(((interactive ? "\r\u{1B}[K" : "") + line + (interactive && done < total ? "" : "\n")).data(using: .utf8)!)
    }

    func format(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
