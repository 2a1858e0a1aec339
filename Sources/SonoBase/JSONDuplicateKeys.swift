import Foundation

/// The first key that appears twice in one object of the JSON text `bytes`, as a dotted path
/// (`optimizer.kind`, `data[0].split`), or nil when there is none. JSONSerialization and JSONDecoder both
/// accept such text and keep one of the two values without a word, so a recipe or model header that says
/// `"epochs": 1` and later `"epochs": 40` would run with whichever they picked; callers refuse it instead.
/// Only the structure is scanned (strings, braces, brackets, commas): text that is not JSON at all gives nil
/// here and its error from the real parser.
public func duplicateJSONKey(_ bytes: Data) -> String? {
    struct Frame {
        var isObject: Bool
        var path: String
        var keys = Set<String>()
        var expectsKey = true
        var key = ""
        var index = 0
        var childPath: String { isObject ? (path.isEmpty ? key : path + "." + key) : path + "[\(index)]" }
    }
    let b = [UInt8](bytes)
    var stack: [Frame] = []
    var i = 0
    while i < b.count {
        switch b[i] {
        case UInt8(ascii: "\""):
            let start = i
            i += 1
            while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
            guard i < b.count else { return nil }
            if var top = stack.last, top.isObject, top.expectsKey {
                let literal = Data(b[start...i])
                // Escapes spell one key two ways ("a" and "\u0061"), so compare decoded keys.
                let key = literal.contains(UInt8(ascii: "\\")) ? ((try? JSONDecoder().decode(String.self, from: literal)) ?? String(decoding: literal, as: UTF8.self))
                    : String(decoding: b[(start + 1)..<i], as: UTF8.self)
                top.key = key
                top.expectsKey = false
                guard top.keys.insert(key).inserted else { return top.childPath }
                stack[stack.count - 1] = top
            }
        case UInt8(ascii: "{"): stack.append(Frame(isObject: true, path: stack.last?.childPath ?? ""))
        case UInt8(ascii: "["): stack.append(Frame(isObject: false, path: stack.last?.childPath ?? ""))
        case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
        case UInt8(ascii: ","):
            if stack.last?.isObject == true { stack[stack.count - 1].expectsKey = true } else if !stack.isEmpty { stack[stack.count - 1].index += 1 }
        default: break
        }
        i += 1
    }
    return nil
}
