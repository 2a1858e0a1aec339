/// Reading configuration files where every key is optional: a recipe names only what it changes.
extension KeyedDecodingContainer {
    /// Overwrites `value` when `key` is present.
    public func read<T: Decodable>(_ key: Key, into value: inout T) throws {
        if let v = try decodeIfPresent(T.self, forKey: key) { value = v }
    }
}
