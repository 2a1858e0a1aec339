import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers what never becomes a request with a sentence, as every other refusal is answered. SwiftNIO's parser
/// refuses malformed HTTP (a NUL in the path, a lower-case or unknown method, an unknown version, an oversized
/// header) before the router runs, and Hummingbird then sends a bare `400` with no body; this handler, placed
/// after the HTTP codecs, catches the parser's error first and sends the JSON error with the security headers,
/// then closes the connection (after a parse error the byte stream cannot be trusted).
final class MalformedRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false

    /// CONNECT (a proxy tunnel) is no request this server serves; Hummingbird's answer to it would go out without
    /// a body, so it is refused here, whole.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if answered { return }
        if case .head(let head) = unwrapInboundIn(data), head.method == .connect {
            answered = true
            // SwiftNIO's encoder frames any answer to CONNECT as a tunnel's, without a body: the bytes go out
            // beneath it, from the encoder's own place in the pipeline.
            let body = Self.body("CONNECT is not served here", status: 405)
            var raw = ByteBuffer(string: "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json; charset=utf-8\r\n"
                + "Content-Length: \(body.readableBytes)\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n"
                + "Content-Security-Policy: default-src 'none'\r\n\r\n")
            raw.writeImmutableBuffer(body)
            if let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) {
                encoder.writeAndFlush(NIOAny(raw)).whenComplete { _ in context.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
            return
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parse = error as? HTTPParserError else { return context.fireErrorCaught(error) }
        guard !answered else { return }
        answer(context, status: .badRequest, message: "malformed HTTP request (\(Self.describe(parse))); nothing was read")
    }

    private func answer(_ context: ChannelHandlerContext, status: HTTPResponse.Status, message: String) {
        answered = true
        let body = Self.body(message, status: status.code)
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(body.readableBytes)
        fields[.connection] = "close"
        fields[.xContentTypeOptions] = "nosniff"
        fields[.contentSecurityPolicy] = "default-src 'none'"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    static func body(_ message: String, status: Int) -> ByteBuffer {
        struct Body: Encodable { var error: String; var status: Int }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ByteBuffer(bytes: (try? encoder.encode(Body(error: message, status: status))) ?? Data())
    }

    static func describe(_ error: HTTPParserError) -> String {
        switch error {
        case .invalidMethod: return "unknown or lower-case method"
        case .invalidVersion: return "unknown HTTP version"
        case .invalidURL, .invalidPath: return "invalid request target"
        case .headerOverflow: return "headers too large"
        case .invalidHeaderToken, .invalidConstant: return "invalid character in the request line or a header"
        case .invalidContentLength, .unexpectedContentLength: return "invalid Content-Length"
        case .invalidChunkSize: return "invalid chunked encoding"
        default: return "\(error)"
        }
    }
}
