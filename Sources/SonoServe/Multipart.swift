import Foundation

/// The file part of a `multipart/form-data` body (RFC 7578): the part named `image`, else the first part with a
/// filename, else the first part. Strict: a body that does not open with the boundary, a part without its blank
/// line, or one that never closes with `--boundary--` is refused with a sentence, not guessed at.
enum Multipart {
    struct Part { var name: String?; var filename: String?; var body: [UInt8] }

    /// The boundary of a `multipart/form-data` Content-Type, or nil for any other type.
    static func boundary(contentType: String?) throws -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/") else { return nil }
        guard contentType.lowercased().hasPrefix("multipart/form-data") else {
            throw APIError(.unsupportedMediaType, "only multipart/form-data is read, not \(contentType.prefix(60))")
        }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let kv = parameter.trimmingCharacters(in: .whitespaces)
            guard kv.lowercased().hasPrefix("boundary=") else { continue }
            var b = String(kv.dropFirst("boundary=".count))
            if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
            guard (1...70).contains(b.utf8.count) else { throw APIError(.badRequest, "multipart boundary must have 1 to 70 characters") }
            return b
        }
        throw APIError(.badRequest, "multipart/form-data without a boundary")
    }

    static func filePart(_ body: [UInt8], boundary: String) throws -> Part {
        let parts = try parse(body, boundary: boundary)
        guard let part = parts.first(where: { $0.name == "image" }) ?? parts.first(where: { $0.filename != nil }) ?? parts.first else {
            throw APIError(.badRequest, "multipart body without parts")
        }
        return part
    }

    static func parse(_ body: [UInt8], boundary: String) throws -> [Part] {
        let delimiter = Array("--\(boundary)".utf8)
        guard let first = find(delimiter, in: body, from: 0) else {
            throw APIError(.badRequest, "multipart body does not contain its boundary (truncated, or another boundary)")
        }
        var parts: [Part] = []
        var position = first + delimiter.count
        while true {
            // after a delimiter: `--` closes the body, CRLF opens a part
            if position + 2 <= body.count, body[position] == UInt8(ascii: "-"), body[position + 1] == UInt8(ascii: "-") { return parts }
            guard position + 2 <= body.count, body[position] == 13, body[position + 1] == 10 else {
                throw APIError(.badRequest, "multipart body is truncated or malformed after a boundary")
            }
            position += 2
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: position) else {
                throw APIError(.badRequest, "multipart part without the blank line after its headers (truncated)")
            }
            guard headerEnd - position <= 16_384 else { throw APIError(.badRequest, "multipart part headers over 16 KiB") }
            let headers = String(decoding: body[position..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = find([13, 10] + delimiter, in: body, from: contentStart) else {
                throw APIError(.badRequest, "multipart body ends inside a part (truncated: no closing boundary)")
            }
            var part = Part(name: nil, filename: nil, body: Array(body[contentStart..<next]))
            for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                part.name = parameter("name", in: String(line))
                part.filename = parameter("filename", in: String(line))
            }
            parts.append(part)
            guard parts.count <= 16 else { throw APIError(.badRequest, "multipart body with more than 16 parts") }
            position = next + 2 + delimiter.count
        }
    }

    /// `key="value"` (or unquoted) in a Content-Disposition line.
    static func parameter(_ key: String, in line: String) -> String? {
        for item in line.split(separator: ";").dropFirst() {
            let kv = item.trimmingCharacters(in: .whitespaces)
            guard kv.lowercased().hasPrefix(key + "=") else { continue }
            var v = String(kv.dropFirst(key.count + 1))
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }

    /// First index of `needle` in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
