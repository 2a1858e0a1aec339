import Foundation
import Hummingbird
import NIOCore

/// An answer other than success: a status and a sentence naming the file or field at fault, sent as JSON
/// `{"error": "...", "status": N}` (docs/api/openapi.yaml), with extra headers (Retry-After on a full queue).
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        (self.status, self.message, self.headers) = (status, message, headers)
    }

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.json(status: status, message: message, headers: headers)
    }

    static func json(status: HTTPResponse.Status, message: String, headers: HTTPFields = [:]) -> Response {
        struct Body: Encodable { var error: String; var status: Int }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Body(error: message, status: status.code))) ?? Data("{}".utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, what) }
    static func badRequest(_ what: String) -> APIError { APIError(.badRequest, what) }
    static func unprocessable(_ what: String) -> APIError { APIError(.unprocessableContent, what) }
}

/// Every error becomes a JSON answer: ours as they are, Hummingbird's (no route, body too large) with their
/// status and a sentence, and anything unexpected as a 500 that names the request id (and is logged), so no
/// request ever goes unanswered or answers in another format.
struct ErrorJSONMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return APIError.json(status: error.status, message: error.message, headers: error.headers)
        } catch let error as HTTPError {
            let message = error.body ?? Self.sentence(error.status, path: request.uri.path)
            return APIError.json(status: error.status, message: message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            return APIError.json(status: error.status, message: Self.sentence(error.status, path: request.uri.path))
        } catch {
            // the type only: an error's text may hold a path under the root, which may name a patient
            context.logger.error("unexpected error: \(type(of: error))")
            return APIError.json(status: .internalServerError, message: "internal error (request \(context.id)); see the server's log")
        }
    }

    static func sentence(_ status: HTTPResponse.Status, path: String) -> String {
        switch status.code {
        case 404: return "no such resource: \(path.prefix(200))"
        case 405: return "method not allowed on \(path.prefix(200))"
        case 413: return "request body too large (see --max-upload-mb)"
        default: return status.reasonPhrase
        }
    }
}
