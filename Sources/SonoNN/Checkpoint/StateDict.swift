import SonoTensor
/// Loading weights into a module by name, as PyTorch's `load_state_dict`.

/// Keys that did not line up when loading a state dict.
public struct StateDictReport: Equatable, Sendable {
    /// The module's keys that the state dict lacks (left at their current values).
    public var missing: [String]
    /// The state dict's keys that the module does not have (ignored).
    public var unexpected: [String]
}

/// Why a state dict could not be loaded; nothing was copied.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
    public struct ShapeMismatch: Equatable, Sendable {
        public let name: String, expected: [Int], found: [Int]
    }
    public let missing: [String], unexpected: [String], shapeMismatches: [ShapeMismatch]

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
        if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
        for s in shapeMismatches { parts.append("'\(s.name)': model has shape \(s.expected), state dict \(s.found)") }
        return "cannot load state dict: " + parts.joined(separator: "; ")
    }
}

extension Module {
    /// Copies `stateDict`'s values into this module's parameters and buffers, matched by dotted name. The
    /// tensors keep their identity (an optimizer holding them keeps working); only values change.
    ///
    /// Shape mismatches always throw. With `strict` (the default), missing or unexpected keys throw too;
    /// otherwise they are returned and the matching keys load (fine-tuning from a related model). All checks
    /// run before any copy, so a failed load leaves the module untouched.
    @discardableResult
    public func load(stateDict: [String: Tensor], strict: Bool = true) throws -> StateDictReport {
        let own = self.stateDict()
        let ownNames = Set(own.map(\.0))
        let missing = own.map(\.0).filter { stateDict[$0] == nil }
        let unexpected = stateDict.keys.filter { !ownNames.contains($0) }.sorted()
        let mismatches = own.compactMap { name, t -> StateDictError.ShapeMismatch? in
            guard let s = stateDict[name], s.shape != t.shape else { return nil }
            return .init(name: name, expected: t.shape, found: s.shape)
        }
        if !mismatches.isEmpty || (strict && !(missing.isEmpty && unexpected.isEmpty)) {
            throw StateDictError(missing: strict ? missing : [], unexpected: strict ? unexpected : [], shapeMismatches: mismatches)
        }
        for (name, t) in own {
            guard let s = stateDict[name] else { continue }
            t.assign(s)
        }
        return StateDictReport(missing: missing, unexpected: unexpected)
    }

    /// `load(stateDict:strict:)` for an ordered list, as `stateDict()` returns.
    @discardableResult
    public func load(stateDict: [(String, Tensor)], strict: Bool = true) throws -> StateDictReport {
        try load(stateDict: Dictionary(stateDict, uniquingKeysWith: { _, last in last }), strict: strict)
    }
}

/// The first tensor of a state dict that no working network could hold: a NaN anywhere, an infinite weight
/// (a diverged run saved as a model), or a negative or NaN batch-norm running variance. nil when every tensor
/// is fine. Checked when a model is loaded, so such a file is an error instead of a network that answers
/// "no lesion" to everything. A running variance of +infinity is accepted: it is what a half-precision export
/// made of a variance above 65,504 (the bundled model has one such channel per member), and it is well defined:
/// the channel's normalised output is its bias.
public func invalidStateValues(_ tensors: [String: Tensor]) -> String? {
    for (name, t) in tensors.sorted(by: { $0.key < $1.key }) {
        let isVariance = name.hasSuffix("running_var")
        let bad = t.withPlainValues { v in v.reduce(0) { n, x in (x.isNaN || (x.isInfinite && !(isVariance && x > 0))) ? n + 1 : n } }
        if bad > 0 { return "tensor '\(name)' holds \(bad) NaN or infinite values of \(t.count)" }
        if isVariance, let low = t.withPlainValues({ $0.min() }), low < 0 {
            return "tensor '\(name)' holds a negative variance (\(low))"
        }
    }
    return nil
}
